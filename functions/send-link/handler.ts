import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";
import { loadSendLinkSettings } from "../../lib/send-link/config";
import { createSendLinkDeps } from "../../lib/send-link/deps";
import { handleSendLinkEvent } from "../../lib/send-link/handle";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadSendLinkSettings();
const deps = lazy(() => createSendLinkDeps(settings));

/** send-link: HTTP webhook (POST /webhooks/send-link), SQS and EventBridge → a file link in a conversation. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: unknown, context: Context) => handleSendLinkEvent(event, context, deps));
