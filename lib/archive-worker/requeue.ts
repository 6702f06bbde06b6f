/**
 * Whether an archive job goes back to the queue, when, and when it stops: one pure decision with an
 * injectable clock, so every requeue is counted and bounded.
 *
 * A job carries its attempt history (`attempts`): when it first ran, how many requeues counted as failed
 * attempts, how many were continuations, and the last few reasons. The rules:
 * - `retry-later` (fileArchived, an IP ban): a failed attempt; the wait starts at DingTalk's advice
 *   (5 minutes for fileArchived) and doubles per attempt up to `maxBackoffMs` (minutes → hours).
 * - `paused` that moved the transfer forward (more parts done than at the last pause): a continuation,
 *   not a failure; a long file may need many. Progress is bounded by the file, so this cannot loop.
 * - `paused` without progress: a failed attempt, requeued at once.
 * The failed attempt that reaches `maxAttempts`, or one after `maxAgeMs` since the job first ran, ends the job in the
 * dead-letter queue with its reason. A wait that is not a failure (issue 12: the monthly quota) is one more
 * `Requeue` kind with `counted: false` in its history entry.
 *
 * SQS delays a message by at most 15 minutes, so a longer wait is carried as `notBefore`: a job received
 * early goes back for the rest of its wait without calling DingTalk (handled in handle.ts).
 */
import { z } from "zod";
import { MAX_DELAY_SECONDS } from "../aws/queue";

export interface RequeueLimits {
  /** Failed attempts in all, the first included: the one that reaches it dead-letters the job. */
  maxAttempts: number;
  /** Time since the job first ran after which a failed attempt dead-letters it. */
  maxAgeMs: number;
  /** Longest wait between attempts. */
  maxBackoffMs: number;
}

export const DEFAULT_REQUEUE_LIMITS: Readonly<RequeueLimits> = {
  maxAttempts: 10,
  maxAgeMs: 48 * 3600_000,
  maxBackoffMs: 6 * 3600_000,
};

/** History entries kept in the message (the newest); the counters keep the totals. */
const RECENT_ENTRIES = 5;

export const attemptHistorySchema = z.strictObject({
  /** When the job first ran, ms since the epoch. */
  firstAt: z.number().int().nonnegative(),
  /** Failed attempts so far (each counted requeue, and the one that dead-lettered the job). */
  failed: z.number().int().nonnegative(),
  /** Pauses that moved the transfer forward. */
  continued: z.number().int().nonnegative(),
  /** Parts done at the last pause: the next pause must do more to be a continuation. */
  partsDone: z.number().int().nonnegative().optional(),
  recent: z
    .array(
      z.strictObject({
        at: z.string().max(40),
        reason: z.string().max(200),
        counted: z.boolean(),
      }),
    )
    .max(RECENT_ENTRIES),
});

export type AttemptHistory = z.infer<typeof attemptHistorySchema>;

/** Why a job goes back to the queue. */
export type Requeue =
  | { kind: "retry-later"; reason: string; retryAfterMs: number }
  | { kind: "paused"; partsDone: number };

export type RequeueDecision<J> =
  | {
      action: "requeue";
      job: J;
      delayMs: number;
      /** Counted as a failed attempt (else a continuation). */
      counted: boolean;
    }
  | { action: "dead-letter"; job: J; reason: string };

interface Requeueable {
  attempts?: AttemptHistory | undefined;
  notBefore?: number | undefined;
}

export function decideRequeue<J extends Requeueable>(
  job: J,
  requeue: Requeue,
  now: number,
  limits: RequeueLimits,
): RequeueDecision<J> {
  const history: AttemptHistory = job.attempts ?? { firstAt: now, failed: 0, continued: 0, recent: [] };
  const progressed = requeue.kind === "paused" && requeue.partsDone > (history.partsDone ?? 0);
  const reason =
    requeue.kind === "paused" ? (progressed ? "paused" : "pausedWithoutProgress") : requeue.reason;
  const counted = !progressed;
  const next: AttemptHistory = {
    firstAt: history.firstAt,
    failed: history.failed + (counted ? 1 : 0),
    continued: history.continued + (counted ? 0 : 1),
    ...(requeue.kind === "paused"
      ? { partsDone: Math.max(requeue.partsDone, history.partsDone ?? 0) }
      : history.partsDone === undefined
        ? {}
        : { partsDone: history.partsDone }),
    recent: [...history.recent, { at: new Date(now).toISOString(), reason, counted }].slice(-RECENT_ENTRIES),
  };
  const { notBefore: _done, ...rest } = job;
  const updated = { ...rest, attempts: next } as J;

  if (counted) {
    const age = now - history.firstAt;
    if (next.failed >= limits.maxAttempts) {
      return {
        action: "dead-letter",
        job: updated,
        reason: `${reason}: gave up after ${next.failed} failed attempts over ${formatDuration(age)}`,
      };
    }
    if (age >= limits.maxAgeMs) {
      return {
        action: "dead-letter",
        job: updated,
        reason: `${reason}: gave up after ${formatDuration(age)} (limit ${formatDuration(limits.maxAgeMs)}) and ${next.failed} failed attempts`,
      };
    }
  }
  const delayMs =
    requeue.kind === "retry-later"
      ? Math.min(limits.maxBackoffMs, requeue.retryAfterMs * 2 ** (next.failed - 1))
      : 0;
  const withWait = delayMs > MAX_DELAY_SECONDS * 1000 ? { ...updated, notBefore: now + delayMs } : updated;
  return { action: "requeue", job: withWait, delayMs, counted };
}

/**
 * A job put back to wait for the monthly DingTalk quota: not a failed attempt, and its wait does not count
 * toward `maxAgeMs` either (a job that waited a week for the month to turn is not "too old" when it next
 * fails): the history's start moves forward by the wait.
 */
export function waitingForQuota<J extends Requeueable>(job: J, waitMs: number): J {
  if (!job.attempts) return job;
  return { ...job, attempts: { ...job.attempts, firstAt: job.attempts.firstAt + waitMs } };
}

/** "5 min", "2.5 h": for reasons a person reads. */
export function formatDuration(ms: number): string {
  if (ms < 90_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 90 * 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

/** The SQS delay for a wait: at most SQS's 15 minutes; the rest is carried by `notBefore`. */
export function sqsDelaySeconds(waitMs: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(waitMs / 1000)));
}
