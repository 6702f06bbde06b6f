import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { loadArchiveIntakeSettings } from "../../lib/archive-intake/config";
import { onFirstUse } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadArchiveIntakeSettings();

/** archive-intake: `POST /webhooks/archive` → verify, validate, queue the job (202). Never archives. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(
    onFirstUse(async () => {
      const [{ createArchiveIntakeDeps }, { handleArchiveIntake }] = await Promise.all([
        import("../../lib/archive-intake/deps"),
        import("../../lib/archive-intake/handle"),
      ]);
      return { handle: handleArchiveIntake, createDeps: () => createArchiveIntakeDeps(settings) };
    }),
  );
