import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { loadArchiveSettings } from "../../lib/archive-worker/config";
import { createArchiveDeps } from "../../lib/archive-worker/deps";
import { handleArchiveEvent } from "../../lib/archive-worker/handle";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";
import { metricsMiddleware } from "../../lib/metrics";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadArchiveSettings();
const deps = lazy(() => createArchiveDeps(settings));

/**
 * archive: DingTalk file → S3. Queue-only: fed by its SQS queue (the archive-intake webhook, DingTalk's
 * pushes, the bus and the topic all land there), plus direct invoke for operators.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware())
  .handler(async (event: unknown, context: Context) => handleArchiveEvent(event, context, deps));
