import { lambdaHandler } from "../../lib/lambda-handler";
import { loadSendLinkSettings } from "../../lib/send-link/config";
import { createSendLinkDeps } from "../../lib/send-link/deps";
import { handleSendLinkEvent } from "../../lib/send-link/handle";

/** send-link: HTTP webhook (POST /webhooks/send-link), SQS and EventBridge → a file link in a conversation. */
export const handler = lambdaHandler({
  loadSettings: loadSendLinkSettings,
  createDeps: createSendLinkDeps,
  handle: handleSendLinkEvent,
});
