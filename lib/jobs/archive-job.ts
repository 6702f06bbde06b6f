import { z } from "zod";
import { archiveRequestSchema, listedFileSchema } from "../archive/request";

export { type ArchiveRequest, archiveRequestSchema } from "../archive/request";

/**
 * One archive job on the queue: the request (which DingTalk file, optionally which version, as whom) plus
 * `jobId`, which follows the job through re-queues (pause/resume, retry later) for the logs. Every
 * trigger — webhook, queue, bus, DingTalk event, schedule — becomes this.
 */
export const archiveJobSchema = archiveRequestSchema.extend({
  jobId: z.string().min(1).max(128).optional(),
  /** From a scheduled run's listing: the worker skips getDentry (one metered call per file, not two). */
  listed: listedFileSchema.optional(),
});

export type ArchiveJob = z.infer<typeof archiveJobSchema>;
