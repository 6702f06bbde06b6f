import { enqueueArchiveJobOnce } from "../archive-worker/enqueue-once";
import { createSqsClient } from "../aws";
import { webhookSettings } from "../signatures/receive";
import type { ArchiveIntakeSettings } from "./config";
import type { ArchiveIntakeDeps } from "./handle";

/** Build the intake's clients once per container (the webhook secrets are read per request, so they rotate). */
export async function createArchiveIntakeDeps(settings: ArchiveIntakeSettings): Promise<ArchiveIntakeDeps> {
  const sqs = createSqsClient();
  return {
    webhook: webhookSettings(settings.webhook),
    allowedUnionIds: settings.operators.allowedUnionIds,
    // Same scope as before the intake had its own function, so records written then still count.
    enqueueOnce: enqueueArchiveJobOnce("archive-webhook", sqs, settings.queue.queueUrl, settings.idempotency),
  };
}
