import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { loadDingTalkEventsSettings } from "../../lib/dingtalk-events/config";
import { onFirstUse } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadDingTalkEventsSettings();

/**
 * dingtalk-events: DingTalk's encrypted HTTP push (POST /webhooks/dingtalk-events) → verify, decrypt,
 * queue an archive job for a created or updated file, answer the encrypted "success". Never archives inline.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(
    onFirstUse(async () => {
      const [{ createDingTalkEventsDeps }, { handleDingTalkEvent }] = await Promise.all([
        import("../../lib/dingtalk-events/deps"),
        import("../../lib/dingtalk-events/handle"),
      ]);
      return { handle: handleDingTalkEvent, createDeps: () => createDingTalkEventsDeps(settings) };
    }),
  );
