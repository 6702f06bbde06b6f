/**
 * One invocation's share of a scheduled archive run: walk the cursor's folders page by page (one DingTalk
 * listDentries call per page of up to 50 entries, nothing per file), compare each NORMAL file's current
 * version with what S3 holds (one ListObjectsV2 walk per space), and queue an archive job per new or
 * changed version, 10 per SendMessageBatch.
 *
 *   pending folders ─► list a page ─► files: archived? skip : queue job    folders: push (recursive)
 *                  └── shouldStop()? ─► return the cursor: pending + this folder's nextToken + totals
 *
 * A plain function: clients and settings come in `deps`, so the Lambda, the backfill CLI and tests share it.
 */
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { archiveKey } from "../archive/key";
import { type ArchiveJob, archiveJobSchema } from "../archive-worker/archive-job";
import type { Dentry, DentryPage, DingTalkClient } from "../dingtalk";
import type { Logger } from "../logging";
import { type ArchivedIndex, listArchivedVersions, versionKey } from "./archived";
import { addCounters, type FolderTask, type ScanCounters, type ScanCursor, zeroCounters } from "./cursor";
import { classifyListFailure, type ListFailure } from "./list-failure";
import { type SendBatchOptions, SQS_BATCH_SIZE, sendMessageBatches } from "./send-batch";

export interface ScanDeps {
  dingtalk: Pick<DingTalkClient, "listDentriesPage" | "listAllDentriesPage">;
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  /** ARCHIVE_PREFIX as lib/config normalises it. */
  prefix: string;
  archiveQueueUrl: string;
  /** DINGTALK_UNION_ID: the operator of folders whose source names none. */
  defaultUnionId: string | undefined;
  /** True = list no further page: the invocation is about to run out of time (or the user pressed Ctrl-C). */
  shouldStop: () => boolean;
  /** List and compare, but queue nothing: report the jobs instead. */
  dryRun?: boolean;
  logger?: Logger;
  /** Resending of SQS partial batch failures. */
  send?: SendBatchOptions;
}

/** A job a dry run would have queued, with what a person needs to recognise the file. */
export interface PlannedJob extends ArchiveJob {
  name: string;
  path: string | undefined;
  size: number;
  /** Archived before under another name: the worker copies it inside S3 (no DingTalk call). */
  rename?: true;
}

export type ScanOutcome =
  /** Every pending folder is listed. */
  | { status: "complete"; cursor: ScanCursor; counters: ScanCounters; planned: PlannedJob[] }
  /** shouldStop() said so: continue from `cursor`. */
  | { status: "stopped"; cursor: ScanCursor; counters: ScanCounters; planned: PlannedJob[] }
  /** DingTalk stayed unavailable after the client's retries: continue from `cursor` after a delay. */
  | {
      status: "retry";
      cursor: ScanCursor;
      counters: ScanCounters;
      planned: PlannedJob[];
      failure: ListFailure;
    }
  /** The month's DingTalk calls are spent: continue from `cursor` when the month turns. */
  | {
      status: "waiting";
      cursor: ScanCursor;
      counters: ScanCounters;
      planned: PlannedJob[];
      failure: ListFailure;
    }
  /** Going on cannot succeed (e.g. bad credentials): the run ends here. */
  | {
      status: "aborted";
      cursor: ScanCursor;
      counters: ScanCounters;
      planned: PlannedJob[];
      failure: ListFailure;
    };

/** DingTalk's maximum page size: every call lists as much as it can. */
export const PAGE_SIZE = 50;

/** A job on the queue plus its size, for the bytes metric. */
interface Outgoing {
  job: ArchiveJob;
  size: number;
}

export async function scanFolders(cursor: ScanCursor, deps: ScanDeps): Promise<ScanOutcome> {
  const log = deps.logger;
  const counters = zeroCounters();
  const planned: PlannedJob[] = [];
  const pending: FolderTask[] = cursor.pending.map((task) => ({ ...task }));
  const archivedBySpace = new Map<string, Promise<ArchivedIndex>>();
  // Overlapping sources may list a file twice: queue it once per invocation.
  const queuedNow = new Set<string>();
  let outgoing: Outgoing[] = [];
  let restartedFolder: FolderTask | undefined;
  // A page listed: the run moves again, so earlier failed attempts no longer count.
  let progressed = false;

  const archived = (spaceId: string) => {
    let set = archivedBySpace.get(spaceId);
    if (!set) {
      set = listArchivedVersions(deps.s3, { bucket: deps.bucket, prefix: deps.prefix, spaceId });
      archivedBySpace.set(spaceId, set);
    }
    return set;
  };

  const flush = async (all: boolean) => {
    while (outgoing.length >= SQS_BATCH_SIZE || (all && outgoing.length > 0)) {
      const batch = outgoing.slice(0, SQS_BATCH_SIZE);
      outgoing = outgoing.slice(SQS_BATCH_SIZE);
      const result = await sendMessageBatches(
        deps.sqs,
        deps.archiveQueueUrl,
        batch.map((o) => o.job),
        deps.send,
      );
      const failedIds = new Set(result.failed.map((f) => f.message.jobId));
      for (const { job, size } of batch) {
        if (failedIds.has(job.jobId)) continue;
        counters.queued += 1;
        counters.bytes += size;
      }
      for (const failure of result.failed) {
        counters.failed += 1;
        log?.error("archive job not queued", {
          ...failure.message,
          code: failure.code,
          reason: failure.reason,
        });
      }
    }
  };

  const outcome = <S extends ScanOutcome["status"]>(status: S) => ({
    status,
    cursor: {
      ...cursor,
      attempts: progressed ? undefined : cursor.attempts,
      pending,
      totals: addCounters(cursor.totals, counters),
    },
    counters,
    planned,
  });

  while (pending.length > 0) {
    // At least one page per invocation, so a run always moves forward.
    if (counters.pages > 0 && deps.shouldStop()) {
      await flush(true);
      return outcome("stopped");
    }
    const task = pending.at(-1) as FolderTask;
    const unionId = task.unionId ?? deps.defaultUnionId;
    let page: DentryPage;
    try {
      if (!unionId) throw new Error(`no unionId for space ${task.spaceId} and DINGTALK_UNION_ID is not set`);
      page = task.since
        ? // Incremental: the whole space flat, newest modified first, until what the last run saw.
          await deps.dingtalk.listAllDentriesPage({
            spaceId: task.spaceId,
            unionId,
            maxResults: PAGE_SIZE,
            order: "DESC",
            ...(task.nextToken ? { nextToken: task.nextToken } : {}),
          })
        : await deps.dingtalk.listDentriesPage({
            spaceId: task.spaceId,
            parentId: task.parentId,
            unionId,
            maxResults: PAGE_SIZE,
            // Creation order: a file added or changed while a run is paused never shifts the pages still to come.
            orderBy: "CREATE_TIME",
            order: "ASC",
            nextToken: task.nextToken,
          });
    } catch (error) {
      const failure = classifyListFailure(error, task);
      if (failure.scope === "rethrow") throw error;
      if (failure.scope === "quota") {
        // No call was made (our budget refused it) or DingTalk refused it uncounted: wait for the month.
        log?.warn("the month's DingTalk calls are spent; the run waits", failureLog(failure));
        await flush(true);
        return { ...outcome("waiting"), failure };
      }
      counters.pages += 1; // a refused call still spends quota
      log?.warn("listing a folder failed", {
        ...failureLog(failure),
        spaceId: task.spaceId,
        parentId: task.parentId,
      });
      if (failure.scope === "token" && restartedFolder !== task) {
        // A stale page token: list this folder again from its first page (once).
        restartedFolder = task;
        delete task.nextToken;
        continue;
      }
      if (failure.scope === "retry" || failure.scope === "run") {
        await flush(true);
        return { ...outcome(failure.scope === "retry" ? "retry" : "aborted"), failure };
      }
      counters.failed += 1;
      dropFolders(pending, task, failure.scope === "space");
      continue;
    }
    counters.pages += 1;
    progressed = true;
    const children: FolderTask[] = [];
    let reachedUnchanged = false;
    for (const dentry of page.dentries) {
      if (task.since && modifiedBefore(dentry, task.since)) {
        // Newest first: everything from here on is older than what the last complete run listed.
        reachedUnchanged = true;
        break;
      }
      counters.listed += 1;
      if (task.since) {
        // A flat listing holds every level already: folders need no walk.
        if (dentry.type === "FILE") {
          const job = await consider(dentry, task);
          if (job) outgoing.push(job);
        }
        continue;
      }
      if (dentry.type === "FOLDER") {
        if (task.recursive !== false) children.push(childFolder(task, dentry));
        continue;
      }
      const job = await consider(dentry, task);
      if (job) outgoing.push(job);
    }
    if (!reachedUnchanged && page.nextToken && page.nextToken !== task.nextToken) {
      task.nextToken = page.nextToken;
      // Subfolders wait below the folder being paged, so a folder is finished before going deeper.
      pending.splice(pending.length - 1, 0, ...children.reverse());
    } else {
      if (page.nextToken)
        log?.warn("nextToken did not advance; folder ends here", { parentId: task.parentId });
      pending.pop();
      counters.folders += 1;
      pending.push(...children.reverse());
    }
    await flush(false);
  }
  await flush(true);
  return outcome("complete");

  /** The job for a file whose current version is not in S3, or undefined (counted either way). */
  async function consider(dentry: Dentry, task: FolderTask): Promise<Outgoing | undefined> {
    if (dentry.status !== undefined && dentry.status !== "NORMAL") {
      counters.inactive += 1;
      return undefined;
    }
    if (dentry.version === undefined) {
      counters.failed += 1;
      log?.warn("file listed without a version; cannot tell whether it changed", { dentryId: dentry.id });
      return undefined;
    }
    const key = versionKey(dentry.id, dentry.version);
    const keys = (await archived(task.spaceId)).get(key);
    if (keys?.has(wantedKey(deps.prefix, task.spaceId, dentry)) || queuedNow.has(`${task.spaceId}/${key}`)) {
      counters.skipped += 1;
      return undefined;
    }
    // Archived under another name: a rename, which the worker copies inside S3 (no call, no download).
    if (keys) log?.info("file renamed since archived; queued for an S3 copy", { dentryId: dentry.id });
    queuedNow.add(`${task.spaceId}/${key}`);
    const parsed = archiveJobSchema.safeParse({
      spaceId: task.spaceId,
      dentryId: dentry.id,
      version: dentry.version,
      ...(task.unionId ? { unionId: task.unionId } : {}),
      jobId: jobIdFor(cursor.runId, dentry.id, dentry.version),
      // What the listing said: the worker then skips getDentry (one metered call per file, not two).
      listed: {
        version: dentry.version,
        name: dentry.name,
        size: dentry.size ?? 0,
        ...(dentry.modifiedTime ? { modifiedTime: dentry.modifiedTime } : {}),
        ...(dentry.creatorId ? { creatorId: dentry.creatorId } : {}),
      },
    });
    if (!parsed.success) {
      counters.failed += 1;
      log?.warn("file cannot become an archive job", { dentryId: dentry.id, problem: parsed.error.message });
      return undefined;
    }
    const size = dentry.size ?? 0;
    if (deps.dryRun) {
      counters.queued += 1;
      counters.bytes += size;
      planned.push({
        ...parsed.data,
        name: dentry.name,
        path: dentry.path,
        size,
        ...(keys ? { rename: true } : {}),
      });
      return undefined;
    }
    return { job: parsed.data, size };
  }
}

/**
 * True when the entry was last modified before `since`. DingTalk's times have minute precision: `since` already
 * holds a margin (INCREMENTAL_OVERLAP_MS). An entry without a time is taken as changed.
 */
function modifiedBefore(dentry: Dentry, since: string): boolean {
  const modified = dentry.modifiedTime ? Date.parse(dentry.modifiedTime) : Number.NaN;
  return Number.isFinite(modified) && modified < Date.parse(since);
}

/** The S3 key the file's listed name gives; "" when none can be built (the worker then reports why). */
function wantedKey(prefix: string, spaceId: string, dentry: Dentry): string {
  try {
    return archiveKey({
      prefix,
      spaceId,
      dentryId: dentry.id,
      version: dentry.version as number,
      name: dentry.name,
    });
  } catch {
    return "";
  }
}

function childFolder(parent: FolderTask, dentry: Dentry): FolderTask {
  return {
    spaceId: parent.spaceId,
    parentId: dentry.id,
    ...(parent.unionId ? { unionId: parent.unionId } : {}),
  };
}

/** Remove a folder DingTalk refused to list, or every folder of its space when the space itself is gone. */
function dropFolders(pending: FolderTask[], task: FolderTask, wholeSpace: boolean): void {
  for (let i = pending.length - 1; i >= 0; i--) {
    const other = pending[i] as FolderTask;
    if (other === task || (wholeSpace && other.spaceId === task.spaceId)) pending.splice(i, 1);
  }
}

/** Stable per run and file version, so one job can be followed through its re-queues in the logs. */
function jobIdFor(runId: string, dentryId: string, version: number): string {
  const id = `${runId}-${dentryId}-v${version}`;
  if (id.length <= 128) return id;
  return `${runId}-${createHash("sha256").update(dentryId).digest("hex").slice(0, 32)}-v${version}`;
}

function failureLog(failure: ListFailure) {
  return { code: failure.code, message: failure.message, requestId: failure.requestId, scope: failure.scope };
}
