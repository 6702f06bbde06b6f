/**
 * The walk's cursor: everything a run needs to continue in another invocation without listing again what
 * it already listed. It travels as the body of a message on the scan queue:
 *
 *   { kind: "archive-scan", runId, startedAt, invocation, pending: [folder, ...], totals: {...} }
 *
 * `pending` is a stack (the last entry is listed next); an entry with a `nextToken` is a folder listed part
 * way, to be continued from that page.
 */
import { z } from "zod";
import { dingTalkId } from "../dingtalk/ids";
import type { ArchiveSource } from "./sources";

/** Tells a scan message from anything else on the queue (and from an archive job). */
export const SCAN_MESSAGE_KIND = "archive-scan";

export const folderTaskSchema = z.strictObject({
  spaceId: dingTalkId(),
  parentId: dingTalkId(),
  /** Omitted = true (kept short: a cursor may hold thousands of folders). */
  recursive: z.boolean().optional(),
  unionId: dingTalkId().optional(),
  /** DingTalk's token for the folder's next page. */
  nextToken: z.string().min(1).max(4096).optional(),
  /**
   * An incremental task: the whole space listed flat, newest modified first (listAll DESC), stopping at the
   * first entry modified before `since` (ISO). `parentId` is then "0".
   */
  since: z.iso.datetime({ offset: true }).optional(),
});
export type FolderTask = z.output<typeof folderTaskSchema>;

const count = z.number().int().nonnegative();

export const scanCountersSchema = z.strictObject({
  /** Pages listed = DingTalk listDentries calls. */
  pages: count,
  /** Folders whose listing finished. */
  folders: count,
  /** Entries (files and folders) seen in listings. */
  listed: count,
  /** Archive jobs put on the queue (or, in a dry run, that would have been). */
  queued: count,
  /** Files whose current version is already in S3. */
  skipped: count,
  /** Files not NORMAL (DELETED, EXPIRED): never archived. */
  inactive: count,
  /** Jobs SQS refused after retries, files without a version, folders DingTalk refused to list. */
  failed: count,
  /** Sum of the sizes of the files queued. */
  bytes: count,
});
export type ScanCounters = z.output<typeof scanCountersSchema>;

export const scanCursorSchema = z.strictObject({
  kind: z.literal(SCAN_MESSAGE_KIND),
  runId: z.string().min(1).max(64),
  /** ISO time the run started. */
  startedAt: z.string().min(1),
  /** Invocations this run has used so far. */
  invocation: z.number().int().positive(),
  /** Failed attempts in a row (DingTalk unavailable after the client's retries); reset by progress. */
  attempts: z.number().int().nonnegative().optional(),
  pending: z.array(folderTaskSchema),
  /** Counters of the whole run up to this cursor. */
  totals: scanCountersSchema,
  /** The spaces this run covers as a whole, to record when it completes (for the next incremental run). */
  spaces: z
    .array(z.strictObject({ spaceId: dingTalkId(), unionId: dingTalkId().optional(), full: z.boolean() }))
    .max(100)
    .optional(),
  /** One of several parallel parts of a split run: its completion is not the run's. */
  branch: z.boolean().optional(),
});
export type ScanCursor = z.output<typeof scanCursorSchema>;

export function zeroCounters(): ScanCounters {
  return { pages: 0, folders: 0, listed: 0, queued: 0, skipped: 0, inactive: 0, failed: 0, bytes: 0 };
}

export function addCounters(a: ScanCounters, b: ScanCounters): ScanCounters {
  const sum = zeroCounters();
  for (const key of Object.keys(sum) as Array<keyof ScanCounters>) sum[key] = a[key] + b[key];
  return sum;
}

/** Whether a source is a whole space (its root, recursively): the ones a flat listing can serve. */
export function isWholeSpace(source: ArchiveSource): boolean {
  return source.parentId === "0" && source.recursive;
}

/**
 * A fresh run over `sources`, the first source listed first. `since[i]` makes whole-space source i
 * incremental: listed flat, only what changed since then.
 */
export function startCursor(
  sources: readonly ArchiveSource[],
  runId: string,
  now: Date,
  since: ReadonlyArray<string | undefined> = [],
): ScanCursor {
  const spaces = sources.flatMap((source, i) =>
    isWholeSpace(source)
      ? [{ spaceId: source.spaceId, ...(source.unionId ? { unionId: source.unionId } : {}), full: !since[i] }]
      : [],
  );
  return {
    kind: SCAN_MESSAGE_KIND,
    runId,
    startedAt: now.toISOString(),
    invocation: 1,
    pending: sources
      .map((source, i) => ({
        spaceId: source.spaceId,
        parentId: source.parentId,
        ...(source.recursive ? {} : { recursive: false }),
        ...(source.unionId ? { unionId: source.unionId } : {}),
        ...(since[i] && isWholeSpace(source) ? { since: since[i] } : {}),
      }))
      .reverse(),
    totals: zeroCounters(),
    ...(spaces.length > 0 ? { spaces } : {}),
  };
}

/** SQS accepts 256 KiB per message; stay well under it. */
export const MAX_CURSOR_BYTES = 200 * 1024;

/**
 * One or more cursors that together hold `cursor`'s pending folders, each small enough for one message.
 * A split run continues as parallel branches under the same runId; the totals so far ride on the first.
 */
export function splitCursor(cursor: ScanCursor, maxBytes = MAX_CURSOR_BYTES): ScanCursor[] {
  if (Buffer.byteLength(JSON.stringify(cursor)) <= maxBytes) return [cursor];
  const overhead = Buffer.byteLength(JSON.stringify({ ...cursor, pending: [] }));
  const parts: ScanCursor[] = [];
  let current: FolderTask[] = [];
  let size = overhead;
  // Walk from the top of the stack, so the folder listed part way stays in the first part.
  for (const task of [...cursor.pending].reverse()) {
    const bytes = Buffer.byteLength(JSON.stringify(task)) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      parts.push(branch(cursor, current, parts.length === 0));
      current = [];
      size = overhead;
    }
    current.push(task);
    size += bytes;
  }
  if (current.length > 0) parts.push(branch(cursor, current, parts.length === 0));
  return parts;
}

function branch(cursor: ScanCursor, topFirst: FolderTask[], first: boolean): ScanCursor {
  return {
    ...cursor,
    pending: [...topFirst].reverse(),
    totals: first ? cursor.totals : zeroCounters(),
    branch: true,
  };
}
