import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { loadDingTalkEventsSettings } from "../../lib/dingtalk-events/config";
import { createDingTalkEventsDeps } from "../../lib/dingtalk-events/deps";
import { handleDingTalkEvent } from "../../lib/dingtalk-events/handle";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadDingTalkEventsSettings();
const deps = lazy(() => createDingTalkEventsDeps(settings));

/**
 * dingtalk-events: DingTalk's encrypted HTTP push (POST /webhooks/dingtalk-events) → verify, decrypt,
 * queue an archive job for a created or updated file, answer the encrypted "success". Never archives inline.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: unknown, context: Context) => handleDingTalkEvent(event, context, deps));
