import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { loadDingTalkEventsSettings } from "../../lib/dingtalk-events/config";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadDingTalkEventsSettings();
// The use case and its clients are a chunk of their own (dynamic import), loaded by the first invocation:
// a cold start parses only the settings and the middleware (bench/cold-start.ts).
const app = lazy(async () => {
  const [{ createDingTalkEventsDeps }, { handleDingTalkEvent }] = await Promise.all([
    import("../../lib/dingtalk-events/deps"),
    import("../../lib/dingtalk-events/handle"),
  ]);
  return { handle: handleDingTalkEvent, deps: lazy(() => createDingTalkEventsDeps(settings)) };
});

/**
 * dingtalk-events: DingTalk's encrypted HTTP push (POST /webhooks/dingtalk-events) → verify, decrypt,
 * queue an archive job for a created or updated file, answer the encrypted "success". Never archives inline.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: unknown, context: Context) => {
    const { handle, deps } = await app();
    return handle(event, context, deps);
  });
