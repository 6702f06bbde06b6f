import { archiveRequestSchema, listedFileSchema } from "../archive/request";
import * as z from "../schema";
import { attemptHistorySchema } from "./requeue";

/**
 * One archive job on the queue: the request (which DingTalk file, optionally which version, as whom) plus
 * `jobId`, which follows the job through re-queues (pause/resume, retry later) for the logs. Every
 * trigger — webhook, queue, bus, DingTalk event, schedule — becomes this. A requeued job also carries its
 * attempt history and, for a wait longer than SQS's 15-minute delay, when it may run again (requeue.ts).
 */
export const archiveJobSchema = z.extend(archiveRequestSchema, {
  jobId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  attempts: z.optional(attemptHistorySchema),
  /** Not before this time (ms since the epoch). */
  notBefore: z.optional(z.number().check(z.int(), z.nonnegative())),
  /** From a scheduled run's listing: the worker skips getDentry (one metered call per file, not two). */
  listed: z.optional(listedFileSchema),
});

export type ArchiveJob = z.output<typeof archiveJobSchema>;
