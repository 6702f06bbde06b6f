import { randomUUID } from "node:crypto";
import { createSqsClient } from "../aws";
import {
  type Env,
  loadArchiveIntakeQueueConfig,
  loadIdempotencyConfig,
  loadSections,
  loadUnionIdPolicy,
  loadWebhookConfig,
} from "../config";
import { idempotentByKey } from "../idempotency";
import { enqueue } from "../jobs/queue";
import { webhookSettings } from "../webhooks/receive";
import type { ArchiveIntakeDeps } from "./handle";

/** Everything the archive intake needs from the environment, validated at once (cold start). */
export function loadArchiveIntakeSettings(env: Env = process.env) {
  return loadSections({
    webhook: () => loadWebhookConfig("archive", env),
    // At least twice the webhook timestamp window (loadIdempotencyConfig checks), so a replay finds the record.
    idempotency: () => loadIdempotencyConfig(env),
    operators: () => loadUnionIdPolicy(env),
    queue: () => loadArchiveIntakeQueueConfig(env),
  });
}

export type ArchiveIntakeSettings = ReturnType<typeof loadArchiveIntakeSettings>;

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
