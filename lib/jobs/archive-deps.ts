import { randomUUID } from "node:crypto";
import { archiveFile } from "../archive/archive-file";
import { createS3Client, createSqsClient } from "../aws";
import {
  budgetMetrics,
  callMeterFromConfig,
  functionName,
  loadBudgetConfig,
  recordQuotaWait,
} from "../budget";
import {
  type Env,
  loadArchiveConfig,
  loadArchiveQueueConfig,
  loadDingTalkConfig,
  loadIdempotencyConfig,
  loadSections,
  loadTransferConfig,
  loadWebhookConfig,
} from "../config";
import { dingTalkClientFromConfig } from "../dingtalk";
import { idempotentByKey } from "../idempotency";
import { logger } from "../logging";
import { s3CheckpointStore } from "../transfer";
import { webhookSettings } from "../webhooks/receive";
import type { ArchiveEventDeps } from "./archive-events";
import { enqueue } from "./queue";

/** Everything the archive function needs from the environment, validated at once (cold start). */
export function loadArchiveSettings(env: Env = process.env) {
  return loadSections({
    dingtalk: () => loadDingTalkConfig(env),
    webhook: () => loadWebhookConfig("archive", env),
    idempotency: () => loadIdempotencyConfig(env),
    archive: () => loadArchiveConfig(env),
    transfer: () => loadTransferConfig(env),
    queue: () => loadArchiveQueueConfig(env),
    budget: () => loadBudgetConfig(env),
  });
}

export type ArchiveSettings = ReturnType<typeof loadArchiveSettings>;

/** Log progress of a long transfer at most this often. */
const PROGRESS_LOG_INTERVAL_MS = 10_000;

/** Build the archive function's clients, once per container (secrets are read per use, so they rotate). */
export async function createArchiveDeps(settings: ArchiveSettings): Promise<ArchiveEventDeps> {
  const dingtalk = await dingTalkClientFromConfig(
    settings.dingtalk,
    logger,
    await callMeterFromConfig(settings.budget, {
      functionName: functionName("archive"),
      metrics: budgetMetrics,
    }),
  );
  const s3 = createS3Client();
  const sqs = createSqsClient();
  // Checkpoints live beside the archive, under a prefix of their own (the Lambda may not keep local files).
  const checkpoints = s3CheckpointStore({
    s3,
    bucket: settings.archive.bucket,
    prefix: `${settings.archive.prefix}.checkpoints/`,
  });
  const { queueUrl, deadLetterQueueUrl } = settings.queue;
  return {
    runJob: async (job, control) => {
      let lastLog = 0;
      const { jobId, attempts: _history, notBefore: _wait, ...request } = job;
      return archiveFile(request, {
        dingtalk,
        s3,
        archive: settings.archive,
        transfer: settings.transfer,
        checkpoints,
        defaultUnionId: settings.dingtalk.defaultUnionId,
        shouldStop: control.shouldStop,
        logger,
        onProgress: (progress) => {
          const now = Date.now();
          if (now - lastLog < PROGRESS_LOG_INTERVAL_MS) return;
          lastLog = now;
          logger.info("archive progress", { jobId, ...progress });
        },
      });
    },
    sqs,
    queueUrl,
    deadLetterQueueUrl,
    enqueueOnce: idempotentByKey(
      "archive-webhook",
      async (request) => {
        const jobId = randomUUID();
        await enqueue(sqs, queueUrl, { ...request, jobId });
        return { jobId };
      },
      settings.idempotency,
    ),
    webhook: webhookSettings(settings.webhook),
    allowedUnionIds: settings.dingtalk.allowedUnionIds,
    stopMarginMs: settings.queue.stopMarginSeconds * 1000,
    requeueLimits: settings.queue.requeueLimits,
    onQuotaWait: recordQuotaWait,
  };
}
