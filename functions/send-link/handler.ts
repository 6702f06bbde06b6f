import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { onFirstUse } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";
import { loadSendLinkSettings } from "../../lib/send-link/config";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadSendLinkSettings();

/** send-link: HTTP webhook (POST /webhooks/send-link), SQS and EventBridge → a file link in a conversation. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(
    onFirstUse(async () => {
      const [{ createSendLinkDeps }, { handleSendLinkEvent }] = await Promise.all([
        import("../../lib/send-link/deps"),
        import("../../lib/send-link/handle"),
      ]);
      return { handle: handleSendLinkEvent, createDeps: () => createSendLinkDeps(settings) };
    }),
  );
