/**
 * One invocation of a scheduled archive run, start to summary: scan from the cursor (scan.ts), then put
 * the continuation on the scan queue when the walk is not finished, and count it all in metrics.
 *
 *   cursor ─► scanFolders ─► complete: done
 *                        ├─► stopped (time is short): continuation message(s) on the scan queue, now
 *                        ├─► retry (DingTalk unavailable): continuation message, delayed, bounded attempts
 *                        ├─► waiting (the month's DingTalk calls are spent): a run that listed something
 *                        │   continues when the month turns (delayed continuations); a new one just ends
 *                        └─► aborted (e.g. bad credentials): done, with the error
 */
import { randomUUID } from "node:crypto";
import type { ScanCounters, ScanCursor } from "./cursor";
import { isWholeSpace, splitCursor, startCursor } from "./cursor";
import type { ListFailure } from "./list-failure";
import { recordScanMetrics, type ScanMetricsSink } from "./metrics";
import { type PlannedJob, type ScanDeps, scanFolders } from "./scan";
import { sendMessageBatches } from "./send-batch";
import type { ArchiveSource } from "./sources";
import type { ScheduleStateStore } from "./state";

export interface RunDeps extends ScanDeps {
  /** The scan queue, for continuations. Without it (the CLI) a stopped run reports its cursor instead. */
  scanQueueUrl?: string | undefined;
  metrics?: ScanMetricsSink | undefined;
  /** Default Date.now. */
  now?: () => number;
  /** Where runs leave their watermark for the next one; without it every run is a full listing. */
  state?: ScheduleStateStore | undefined;
  /** A full listing (reconciliation) at least this often per space; default 7 days. */
  fullListingEveryMs?: number | undefined;
  /** List everything this time, whatever the state says. */
  forceFull?: boolean | undefined;
}

/** How far before the last complete run's start an incremental run looks: DingTalk's times have minute
 * precision, clocks differ a little, and an entry changed while the last run paged may have been missed. */
export const INCREMENTAL_OVERLAP_MS = 5 * 60_000;
export const DEFAULT_FULL_LISTING_EVERY_MS = 7 * 24 * 3600_000;

export type RunStatus = "complete" | "continued" | "retrying" | "waiting" | "stopped" | "aborted";

export interface RunSummary extends ScanCounters {
  runId: string;
  status: RunStatus;
  /** 1 for the invocation that started the run, then one more per continuation. */
  invocation: number;
  startedAt: string;
  /** The whole run so far, this invocation included. */
  totals: ScanCounters;
  /** Folders left to list (0 when complete). */
  pendingFolders: number;
  /** Wall time of this invocation. */
  seconds: number;
  /** How the run goes on: messages put on the scan queue, and their delay. */
  continuation?: { messages: number; delaySeconds: number };
  /** Where a stopped run without a scan queue stands (resume with it). */
  cursor?: ScanCursor;
  error?: { code: string; message: string; requestId?: string | undefined };
  /** Dry run: the jobs that would have been queued. */
  jobs?: PlannedJob[];
  /** Dry run: the DingTalk calls a real run would spend (this listing + one per new or changed version). */
  estimate?: CallEstimate;
}

export interface CallEstimate {
  /** Listing calls (spent by the dry run too: a real run lists the same). */
  listingCalls: number;
  /** One download-info call per new or changed version the worker would archive. */
  archiveCalls: number;
  /** Renamed files: copied inside S3, no call. */
  renames: number;
  totalCalls: number;
}

function estimateOf(listingCalls: number, planned: readonly PlannedJob[]): CallEstimate {
  const renames = planned.filter((job) => job.rename).length;
  const archiveCalls = planned.length - renames;
  return { listingCalls, archiveCalls, renames, totalCalls: listingCalls + archiveCalls };
}

/** After this many failed attempts in a row (DingTalk unavailable), a run gives up until the next schedule. */
export const MAX_RETRY_ATTEMPTS = 5;
const MIN_RETRY_DELAY_SECONDS = 60;
/** SQS's longest message delay. */
const MAX_RETRY_DELAY_SECONDS = 900;

/**
 * A new run over `sources`. A whole-space source whose last complete run is known lists only what changed
 * since then (listAll, newest first), unless its last full listing is older than `fullListingEveryMs`.
 */
export async function startRun(sources: readonly ArchiveSource[], deps: RunDeps): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const since = await Promise.all(sources.map((source) => incrementalSince(source, startedAt, deps)));
  return continueRun(startCursor(sources, randomUUID(), new Date(startedAt), since), deps);
}

/** The ISO time an incremental listing of `source` starts from, or undefined for a full listing. */
async function incrementalSince(
  source: ArchiveSource,
  now: number,
  deps: RunDeps,
): Promise<string | undefined> {
  const unionId = source.unionId ?? deps.defaultUnionId;
  if (!deps.state || deps.forceFull || !isWholeSpace(source) || !unionId) return undefined;
  const state = await deps.state.get(source.spaceId, unionId);
  const lastComplete = Date.parse(state.lastCompleteRunStartedAt ?? "");
  const lastFull = Date.parse(state.lastFullRunStartedAt ?? "");
  if (!Number.isFinite(lastComplete) || !Number.isFinite(lastFull)) return undefined;
  if (now - lastFull >= (deps.fullListingEveryMs ?? DEFAULT_FULL_LISTING_EVERY_MS)) return undefined;
  return new Date(lastComplete - INCREMENTAL_OVERLAP_MS).toISOString();
}

/** A run (not a part of a split one, not a dry run) completed: leave its start for the next run. */
async function recordCompletion(cursor: ScanCursor, deps: RunDeps): Promise<void> {
  if (!deps.state || deps.dryRun || cursor.branch) return;
  for (const space of cursor.spaces ?? []) {
    const unionId = space.unionId ?? deps.defaultUnionId;
    if (unionId) await deps.state.recordComplete(space.spaceId, unionId, cursor.startedAt, space.full);
  }
}

/** Go on with a run from its cursor (the first invocation's, or a continuation message's). */
export async function continueRun(cursor: ScanCursor, deps: RunDeps): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  deps.logger?.info("archive run invocation started", {
    runId: cursor.runId,
    invocation: cursor.invocation,
    pendingFolders: cursor.pending.length,
    dryRun: Boolean(deps.dryRun),
  });
  const outcome = await scanFolders(cursor, deps);
  const base = {
    runId: cursor.runId,
    invocation: cursor.invocation,
    startedAt: cursor.startedAt,
    ...outcome.counters,
    totals: outcome.cursor.totals,
    pendingFolders: outcome.cursor.pending.length,
    ...(deps.dryRun
      ? { jobs: outcome.planned, estimate: estimateOf(outcome.counters.pages, outcome.planned) }
      : {}),
  };
  const finish = (status: RunStatus, extra: Partial<RunSummary> = {}): RunSummary => {
    const summary: RunSummary = { ...base, status, seconds: (now() - started) / 1000, ...extra };
    if (deps.metrics) recordScanMetrics(deps.metrics, summary);
    // The log line stays small: no job list, no cursor.
    const { jobs, cursor: _cursor, ...logged } = summary;
    const details = { ...logged, plannedJobs: jobs?.length };
    if (status === "aborted") deps.logger?.error("archive run aborted", details);
    else deps.logger?.info("archive run invocation ended", details);
    return summary;
  };

  switch (outcome.status) {
    case "complete":
      await recordCompletion(outcome.cursor, deps);
      return finish("complete");
    case "aborted":
      return finish("aborted", { error: errorOf(outcome.failure) });
    case "stopped": {
      const next = { ...outcome.cursor, invocation: cursor.invocation + 1 };
      if (!deps.scanQueueUrl) return finish("stopped", { cursor: next });
      const messages = await putContinuation(deps, splitCursor(next), 0);
      return finish("continued", { continuation: { messages, delaySeconds: 0 } });
    }
    case "waiting": {
      const error = errorOf(outcome.failure);
      const next = { ...outcome.cursor, invocation: cursor.invocation + 1 };
      // Nothing listed yet: nothing to keep; the next scheduled run after the month turns starts afresh
      // (so runs scheduled while waiting do not pile up).
      const listedSomething = outcome.cursor.totals.pages > 0;
      if (!deps.scanQueueUrl) return finish("waiting", { cursor: next, error });
      if (!listedSomething) return finish("waiting", { error });
      // Not a failed attempt: `attempts` stays as it was. SQS delays at most 15 minutes: it comes back until then.
      const delaySeconds = Math.min(
        MAX_RETRY_DELAY_SECONDS,
        Math.ceil((outcome.failure.retryAfterMs ?? 0) / 1000),
      );
      const messages = await putContinuation(deps, splitCursor(next), delaySeconds);
      return finish("waiting", { continuation: { messages, delaySeconds }, error });
    }
    case "retry": {
      const attempts = (outcome.cursor.attempts ?? 0) + 1;
      const error = errorOf(outcome.failure);
      if (attempts >= MAX_RETRY_ATTEMPTS) return finish("aborted", { error });
      const next = { ...outcome.cursor, attempts, invocation: cursor.invocation + 1 };
      if (!deps.scanQueueUrl) return finish("stopped", { cursor: next, error });
      const delaySeconds = retryDelaySeconds(outcome.failure, attempts);
      const messages = await putContinuation(deps, [next], delaySeconds);
      return finish("retrying", { continuation: { messages, delaySeconds }, error });
    }
  }
}

/** Wait what DingTalk asked for, else one minute doubling per attempt; within SQS's 15-minute limit. */
export function retryDelaySeconds(failure: ListFailure, attempts: number): number {
  const asked = failure.retryAfterMs === undefined ? 0 : Math.ceil(failure.retryAfterMs / 1000);
  const backoff = MIN_RETRY_DELAY_SECONDS * 2 ** (attempts - 1);
  return Math.min(MAX_RETRY_DELAY_SECONDS, Math.max(asked, backoff));
}

/** Continuations must not be lost: any message SQS refuses after its retries fails the invocation. */
async function putContinuation(deps: RunDeps, cursors: ScanCursor[], delaySeconds: number): Promise<number> {
  const queueUrl = deps.scanQueueUrl as string;
  const result = await sendMessageBatches(deps.sqs, queueUrl, cursors, { ...deps.send, delaySeconds });
  if (result.failed.length > 0) {
    const first = result.failed[0];
    throw new Error(
      `could not queue ${result.failed.length} continuation message(s) of run ${cursors[0]?.runId}: ` +
        `${first?.code} ${first?.reason}`,
    );
  }
  return result.sent;
}

function errorOf(failure: ListFailure): NonNullable<RunSummary["error"]> {
  return { code: failure.code, message: failure.message, requestId: failure.requestId };
}
