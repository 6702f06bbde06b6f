import { randomUUID } from "node:crypto";
import { z } from "zod";
import { createSqsClient } from "../aws";
import {
  ConfigError,
  type Env,
  loadIdempotencyConfig,
  loadSections,
  loadWebhookConfig,
  resolveSecret,
} from "../config";
import { idempotentByKey } from "../idempotency";
import { enqueue } from "../jobs/queue";
import { webhookEnvFor } from "../webhook-endpoint";
import type { ArchiveIntakeDeps } from "./handle";

/**
 * How far a webhook's timestamp may be from our clock, either way (the `standardwebhooks` library's fixed
 * tolerance). A replay is accepted for this long after the signed time, and the first delivery may have been
 * recorded this long before it: the idempotency record must outlive twice the window.
 */
export const WEBHOOK_TIMESTAMP_WINDOW_SECONDS = 5 * 60;

/** Everything the archive intake needs from the environment, validated at once (cold start). */
export function loadArchiveIntakeSettings(env: Env = process.env) {
  return loadSections({
    webhook: () => loadWebhookConfig(webhookEnvFor("ARCHIVE", env)),
    idempotency: () => {
      const idempotency = loadIdempotencyConfig(env);
      const minimum = 2 * WEBHOOK_TIMESTAMP_WINDOW_SECONDS;
      if (idempotency.expiresAfterSeconds < minimum) {
        throw new ConfigError([
          `IDEMPOTENCY_TTL_SECONDS must be at least ${minimum} (twice the webhook timestamp window), or a replayed webhook would queue its job again`,
        ]);
      }
      return idempotency;
    },
    queue: () => {
      const result = z
        .object({ ARCHIVE_QUEUE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }) })
        .safeParse(env);
      if (!result.success) {
        throw new ConfigError([
          env.ARCHIVE_QUEUE_URL
            ? "ARCHIVE_QUEUE_URL must be an http(s) URL"
            : "ARCHIVE_QUEUE_URL is required",
        ]);
      }
      return { queueUrl: result.data.ARCHIVE_QUEUE_URL };
    },
  });
}

export type ArchiveIntakeSettings = ReturnType<typeof loadArchiveIntakeSettings>;

/** Build the intake's clients once per container (the webhook secret comes from SSM in AWS). */
export async function createArchiveIntakeDeps(settings: ArchiveIntakeSettings): Promise<ArchiveIntakeDeps> {
  const secret = await resolveSecret(settings.webhook.secret, "WEBHOOK_SECRET");
  const sqs = createSqsClient();
  return {
    webhook: { secret, maxBodyBytes: settings.webhook.maxBodyBytes },
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
