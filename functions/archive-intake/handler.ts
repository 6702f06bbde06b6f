import { loadArchiveIntakeSettings } from "../../lib/archive-intake/config";
import { createArchiveIntakeDeps } from "../../lib/archive-intake/deps";
import { handleArchiveIntake } from "../../lib/archive-intake/handle";
import { lambdaHandler } from "../../lib/lambda-handler";

/** archive-intake: `POST /webhooks/archive` → verify, validate, queue the job (202). Never archives. */
export const handler = lambdaHandler({
  loadSettings: loadArchiveIntakeSettings,
  createDeps: createArchiveIntakeDeps,
  handle: handleArchiveIntake,
});
