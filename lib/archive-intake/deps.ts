import { randomUUID } from "node:crypto";
import { createSqsClient } from "../aws";
import { enqueue } from "../aws/queue";
import { idempotentByKey } from "../idempotency";
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
    enqueueOnce: idempotentByKey(
      "archive-webhook",
      async (request) => {
        const jobId = randomUUID();
        await enqueue(sqs, settings.queue.queueUrl, { ...request, jobId });
        return { jobId };
      },
      settings.idempotency,
    ),
  };
}
