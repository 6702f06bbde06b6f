import { z } from "zod";
import { dingTalkId, fileVersion } from "../triggers/schema";

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
