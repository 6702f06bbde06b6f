import { z } from "zod";
import { archiveRequestSchema, listedFileSchema } from "../archive/request";
import { attemptHistorySchema } from "./requeue";

/**
 * One archive job on the queue: the request (which DingTalk file, optionally which version, as whom) plus
 * `jobId`, which follows the job through re-queues (pause/resume, retry later) for the logs. Every
 * trigger — webhook, queue, bus, DingTalk event, schedule — becomes this. A requeued job also carries its
 * attempt history and, for a wait longer than SQS's 15-minute delay, when it may run again (requeue.ts).
 */
export const archiveJobSchema = archiveRequestSchema.extend({
  jobId: z.string().min(1).max(128).optional(),
  attempts: attemptHistorySchema.optional(),
  /** Not before this time (ms since the epoch). */
  notBefore: z.number().int().nonnegative().optional(),
  /** From a scheduled run's listing: the worker skips getDentry (one metered call per file, not two). */
  listed: listedFileSchema.optional(),
});

export type ArchiveJob = z.infer<typeof archiveJobSchema>;
