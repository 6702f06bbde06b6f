import { loadArchiveSettings } from "../../lib/archive-worker/config";
import { createArchiveDeps } from "../../lib/archive-worker/deps";
import { handleArchiveEvent } from "../../lib/archive-worker/handle";
import { lambdaHandler } from "../../lib/lambda-handler";

/**
 * archive: DingTalk file → S3. Queue-only: fed by its SQS queue (the archive-intake webhook, DingTalk's
 * pushes, the bus and the topic all land there), plus direct invoke for operators.
 */
export const handler = lambdaHandler({
  loadSettings: loadArchiveSettings,
  createDeps: createArchiveDeps,
  handle: handleArchiveEvent,
});
