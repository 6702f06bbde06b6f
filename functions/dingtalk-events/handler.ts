import { loadDingTalkEventsSettings } from "../../lib/dingtalk-events/config";
import { lambdaHandler } from "../../lib/lambda-handler";

/**
 * dingtalk-events: DingTalk's encrypted HTTP push (POST /webhooks/dingtalk-events) → verify, decrypt,
 * queue an archive job for a created or updated file, answer the encrypted "success". Never archives inline.
 */
export const handler = lambdaHandler({
  loadSettings: loadDingTalkEventsSettings,
  load: async () => {
    const [{ createDingTalkEventsDeps }, { handleDingTalkEvent }] = await Promise.all([
      import("../../lib/dingtalk-events/deps"),
      import("../../lib/dingtalk-events/handle"),
    ]);
    return { createDeps: createDingTalkEventsDeps, handle: handleDingTalkEvent };
  },
});
