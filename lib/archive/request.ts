import { dingTalkId, fileVersion } from "../dingtalk/ids";
import * as z from "../schema";

/**
 * What to archive: one DingTalk file, optionally one version of it, as whom. A module of its own so that
 * whatever only queues requests (webhooks, DingTalk events, schedules) does not load the transfer engine.
 */
export const archiveRequestSchema = z.strictObject({
  spaceId: dingTalkId(),
  dentryId: dingTalkId(),
  unionId: z.optional(dingTalkId()),
  /** A specific DingTalk version; default the current one. */
  version: z.optional(fileVersion),
});

export type ArchiveRequest = z.output<typeof archiveRequestSchema>;

/**
 * What a listing already said about the file (a scheduled run puts it in the job), so the worker need not
 * ask DingTalk again: with it, archiving costs one metered call (download info) instead of two.
 */
export const listedFileSchema = z.strictObject({
  version: fileVersion,
  name: z.string().check(z.minLength(1), z.maxLength(1024)),
  size: z.number().check(z.int(), z.nonnegative(), z.maximum(Number.MAX_SAFE_INTEGER)),
  modifiedTime: z.optional(z.string().check(z.maxLength(64))),
  creatorId: z.optional(z.string().check(z.maxLength(256))),
});

export type ListedFile = z.output<typeof listedFileSchema>;
