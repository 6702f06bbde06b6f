import { loadDingTalkEventsSettings } from "../../lib/dingtalk-events/config";
import { createDingTalkEventsDeps } from "../../lib/dingtalk-events/deps";
import { handleDingTalkEvent } from "../../lib/dingtalk-events/handle";
import { lambdaHandler } from "../../lib/lambda-handler";

/**
 * dingtalk-events: DingTalk's encrypted HTTP push (POST /webhooks/dingtalk-events) → verify, decrypt,
 * queue an archive job for a created or updated file, answer the encrypted "success". Never archives inline.
 */
export const handler = lambdaHandler({
  loadSettings: loadDingTalkEventsSettings,
  createDeps: createDingTalkEventsDeps,
  handle: handleDingTalkEvent,
});
