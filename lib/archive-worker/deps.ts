import { archiveFile } from "../archive/archive-file";
import { createS3Client, createSqsClient } from "../aws";
import { recordQuotaWait } from "../budget";
import { meteredDingTalkClient } from "../budget/metered-client";
import { logger } from "../logging";
import { s3CheckpointStore } from "../transfer";
import type { ArchiveSettings } from "./config";
import type { ArchiveEventDeps } from "./handle";

/** Log progress of a long transfer at most this often. */
const PROGRESS_LOG_INTERVAL_MS = 10_000;

/** Build the archive worker's clients, once per container (the app secret is read per use, so it rotates). */
export async function createArchiveDeps(settings: ArchiveSettings): Promise<ArchiveEventDeps> {
  const dingtalk = await meteredDingTalkClient(settings, "archive");
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
    allowedUnionIds: settings.dingtalk.allowedUnionIds,
    stopMarginMs: settings.queue.stopMarginSeconds * 1000,
    requeueLimits: settings.queue.requeueLimits,
    onQuotaWait: recordQuotaWait,
  };
}
