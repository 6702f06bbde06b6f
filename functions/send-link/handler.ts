import { lambdaHandler } from "../../lib/lambda-handler";
import { loadSendLinkSettings } from "../../lib/send-link/config";

/** send-link: HTTP webhook (POST /webhooks/send-link), SQS and EventBridge → a file link in a conversation. */
export const handler = lambdaHandler({
  loadSettings: loadSendLinkSettings,
  load: async () => {
    const [{ createSendLinkDeps }, { handleSendLinkEvent }] = await Promise.all([
      import("../../lib/send-link/deps"),
      import("../../lib/send-link/handle"),
    ]);
    return { createDeps: createSendLinkDeps, handle: handleSendLinkEvent };
  },
});
