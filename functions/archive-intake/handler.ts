import { loadArchiveIntakeSettings } from "../../lib/archive-intake/config";
import { lambdaHandler } from "../../lib/lambda-handler";

/** archive-intake: `POST /webhooks/archive` → verify, validate, queue the job (202). Never archives. */
export const handler = lambdaHandler({
  loadSettings: loadArchiveIntakeSettings,
  load: async () => {
    const [{ createArchiveIntakeDeps }, { handleArchiveIntake }] = await Promise.all([
      import("../../lib/archive-intake/deps"),
      import("../../lib/archive-intake/handle"),
    ]);
    return { createDeps: createArchiveIntakeDeps, handle: handleArchiveIntake };
  },
});
