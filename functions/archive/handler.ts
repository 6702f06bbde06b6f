import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { createArchiveDeps, loadArchiveSettings } from "../../lib/jobs/archive-deps";
import { handleArchiveEvent } from "../../lib/jobs/archive-events";
import { lazy } from "../../lib/lazy";
import { logger } from "../../lib/logging";

// Validated at cold start: a bad variable fails the init with a message naming it.
const settings = loadArchiveSettings();
const deps = lazy(() => createArchiveDeps(settings));

/**
 * archive: DingTalk file → S3. Fed by its SQS queue, EventBridge `ArchiveRequested`, direct invoke, and
 * `POST /webhooks/archive` (which only queues the job and answers 202).
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event: unknown, context: Context) => handleArchiveEvent(event, context, deps));
