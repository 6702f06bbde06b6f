import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { loadArchiveIntakeSettings } from "../../lib/archive-intake/config";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadArchiveIntakeSettings();
// The use case and its clients are a chunk of their own (dynamic import), loaded by the first invocation:
// a cold start parses only the settings and the middleware (bench/cold-start.ts).
const app = lazy(async () => {
  const [{ createArchiveIntakeDeps }, { handleArchiveIntake }] = await Promise.all([
    import("../../lib/archive-intake/deps"),
    import("../../lib/archive-intake/handle"),
  ]);
  return { handle: handleArchiveIntake, deps: lazy(() => createArchiveIntakeDeps(settings)) };
});

/** archive-intake: `POST /webhooks/archive` → verify, validate, queue the job (202). Never archives. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: APIGatewayProxyEventV2, context: Context) => {
    const { handle, deps } = await app();
    return handle(event, context, deps);
  });
