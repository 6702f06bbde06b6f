import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { loadArchiveIntakeSettings } from "../../lib/archive-intake/config";
import { createArchiveIntakeDeps } from "../../lib/archive-intake/deps";
import { handleArchiveIntake } from "../../lib/archive-intake/handle";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadArchiveIntakeSettings();
const deps = lazy(() => createArchiveIntakeDeps(settings));

/** archive-intake: `POST /webhooks/archive` → verify, validate, queue the job (202). Never archives. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: APIGatewayProxyEventV2, context: Context) =>
    handleArchiveIntake(event, context, deps),
  );
