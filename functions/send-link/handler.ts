import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";
import { loadSendLinkSettings } from "../../lib/send-link/config";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadSendLinkSettings();
// The use case and its clients are a chunk of their own (dynamic import), loaded by the first invocation:
// a cold start parses only the settings and the middleware (bench/cold-start.ts).
const app = lazy(async () => {
  const [{ createSendLinkDeps }, { handleSendLinkEvent }] = await Promise.all([
    import("../../lib/send-link/deps"),
    import("../../lib/send-link/handle"),
  ]);
  return { handle: handleSendLinkEvent, deps: lazy(() => createSendLinkDeps(settings)) };
});

/** send-link: HTTP webhook (POST /webhooks/send-link), SQS and EventBridge → a file link in a conversation. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: unknown, context: Context) => {
    const { handle, deps } = await app();
    return handle(event, context, deps);
  });
