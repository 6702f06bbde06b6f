import { z } from "zod";
import { dingTalkId, fileVersion } from "../dingtalk/ids";

/**
 * What to archive: one DingTalk file, optionally one version of it, as whom. A module of its own so that
 * whatever only queues requests (webhooks, DingTalk events, schedules) does not load the transfer engine.
 */
export const archiveRequestSchema = z.strictObject({
  spaceId: dingTalkId(),
  dentryId: dingTalkId(),
  unionId: dingTalkId().optional(),
  /** A specific DingTalk version; default the current one. */
  version: fileVersion.optional(),
});

export type ArchiveRequest = z.infer<typeof archiveRequestSchema>;

/**
 * What a listing already said about the file (a scheduled run puts it in the job), so the worker need not
 * ask DingTalk again: with it, archiving costs one metered call (download info) instead of two.
 */
export const listedFileSchema = z.strictObject({
  version: fileVersion,
  name: z.string().min(1).max(1024),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  modifiedTime: z.string().max(64).optional(),
  creatorId: z.string().max(256).optional(),
});

export type ListedFile = z.infer<typeof listedFileSchema>;
