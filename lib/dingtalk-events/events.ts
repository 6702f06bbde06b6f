/**
 * What a decrypted DingTalk push asks of us. The HTTP-push body is flat JSON (DingTalk's "事件订阅 >
 * 存储 > 文件添加/文件更新" pages, HTTP推送 tab):
 *   {"EventType": "storage_dentry_update", "EventTime": 1663143335567, "CorpId": "...", "BizId": "...",
 *    "eventId": "...", "spaceId": "...", "dentryId": "...", "eventScope": "ORG", "extension": "pdf",
 *    "unionId": "...", "eventScopeId": "...", "type": "FILE"}
 * and the URL check DingTalk sends when the callback is saved is {"EventType": "check_url"}.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { type ArchiveJob, archiveJobSchema } from "../archive-worker/archive-job";
import { dingTalkId } from "../dingtalk/ids";

export type PushedEvent =
  | { kind: "check_url" }
  /** A new or changed FILE: one archive job, at most once per `key`. */
  | { kind: "archive"; eventType: string; key: string; job: ArchiveJob }
  /** Acknowledged and dropped: folders, deletions, event types we do not subscribe to. */
  | { kind: "ignored"; eventType: string | undefined; reason: string }
  /** Authentic but unusable (a storage event missing its ids): acknowledged, logged as an error. */
  | { kind: "invalid"; eventType: string | undefined; problem: string };

/** The events that mean "this file has (new) content": exactly an archive request. */
export const ARCHIVE_EVENT_TYPES = new Set(["storage_dentry_create", "storage_dentry_update"]);

const idLike = z.union([z.string().min(1), z.number()]).transform(String);

const storageEventSchema = z.object({
  eventId: idLike.optional(),
  BizId: idLike.optional(),
  spaceId: dingTalkId(),
  dentryId: dingTalkId(),
  unionId: dingTalkId().optional(),
  type: z.string({ error: "is required" }),
});

export function classifyEvent(plaintext: string): PushedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    return { kind: "invalid", eventType: undefined, problem: "the decrypted message is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { kind: "invalid", eventType: undefined, problem: "the decrypted message is not a JSON object" };
  }
  const eventType = (parsed as { EventType?: unknown }).EventType;
  if (typeof eventType !== "string") {
    return { kind: "invalid", eventType: undefined, problem: "EventType is missing or not a string" };
  }
  if (eventType === "check_url") return { kind: "check_url" };
  if (!ARCHIVE_EVENT_TYPES.has(eventType)) {
    return { kind: "ignored", eventType, reason: "not a file create/update event" };
  }
  const event = storageEventSchema.safeParse(parsed);
  if (!event.success) {
    const problem = event.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    return { kind: "invalid", eventType, problem };
  }
  const { type, spaceId, dentryId, unionId } = event.data;
  if (type !== "FILE") return { kind: "ignored", eventType, reason: `dentry type ${type}, not FILE` };
  const job = archiveJobSchema.safeParse(unionId ? { spaceId, dentryId, unionId } : { spaceId, dentryId });
  if (!job.success) {
    return { kind: "invalid", eventType, problem: job.error.issues.map((i) => i.message).join("; ") };
  }
  return { kind: "archive", eventType, key: eventKey(event.data, plaintext), job: job.data };
}

/**
 * The same event delivered again must map to the same key. DingTalk's `eventId` is "the event's unique id"
 * and `BizId` is documented as the idempotency id; without either, the plaintext itself (a retry re-encrypts
 * with a new random prefix, nonce and signature, but carries the same event).
 */
function eventKey(event: { eventId?: string | undefined; BizId?: string | undefined }, plaintext: string) {
  if (event.eventId) return `event:${event.eventId}`;
  if (event.BizId) return `biz:${event.BizId}`;
  return `sha256:${createHash("sha256").update(plaintext).digest("hex")}`;
}
