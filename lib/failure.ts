/**
 * What a queue consumer does about a failure, decided in one place for every consumer (the send-link queue
 * path, the archive worker; the schedule's scan queue only ever retries now) and for the HTTP error mapping's
 * throttling:
 * - `retryNow`: let the queue redeliver it (its visibility timeout, its redrive policy bound the tries);
 * - `retryLater`: send it back with a delay (DingTalk is unarchiving the file, banned our IP, keeps
 *   throttling us, or the month's calls are spent);
 * - `deadLetter`: the same message will fail the same way, or must not be repeated (a send whose outcome is
 *   unknown could post the link twice): park it with its reason for a person.
 * Built on the DingTalk client's classification: whether a DingTalk failure is retryable comes from
 * lib/dingtalk/retry.ts (through the error's `retryable` or its HTTP status), throttling is recognised here.
 */
import { CLIENT_CODES, isThrottlingFailure } from "./dingtalk";
import type { AppError } from "./errors";

export type Disposition =
  | { kind: "retryNow" }
  | {
      kind: "retryLater";
      delaySeconds: number;
      /** Why, for the job's attempt history and the logs (a DingTalk code, budgetExhausted...). */
      reason: string;
    }
  | { kind: "deadLetter"; reason: string };

const retryNow = (): Disposition => ({ kind: "retryNow" });
const retryLater = (delaySeconds: number, reason: string): Disposition => ({
  kind: "retryLater",
  delaySeconds,
  reason,
});
const deadLetter = (reason: string): Disposition => ({ kind: "deadLetter", reason });

/** A failure as a consumer sees it, whatever layer raised it (DingTalk, the transfer engine, our checks). */
export interface Failure {
  code: string;
  message: string;
  /** HTTP status of the failed call or of our answer, when there is one. */
  status?: number | undefined;
  /** Whether the same message may succeed later (DingTalk's classification, the engine's, ours). */
  retryable: boolean;
  /** The sender's advice on when to ask again (fileArchived, an IP ban). */
  retryAfterMs?: number | undefined;
}

/** First wait of a message DingTalk kept throttling after the client's own retries. */
export const THROTTLED_RETRY_AFTER_SECONDS = 60;

/**
 * DingTalk refused for load (QPS/QPM 403, 429 system.busy) or we answered 429: nothing was done, ask again
 * later. The one throttling test of the bundle (the table is lib/dingtalk/retry.ts's).
 */
export function isThrottled(failure: Pick<Failure, "status" | "code">): boolean {
  return isThrottlingFailure(failure.status, failure.code);
}

/**
 * The disposition of a failure: a send of unknown outcome is never repeated; the sender's advice on when
 * to ask again is followed; throttling waits; anything that cannot succeed later is dead-lettered; the rest
 * is redelivered now.
 */
export function dispositionOf(failure: Failure): Disposition {
  if (failure.code === CLIENT_CODES.outcomeUnknown) return deadLetter(failure.message);
  if (failure.retryAfterMs !== undefined) {
    return retryLater(failure.retryAfterMs / 1000, failure.code);
  }
  if (isThrottled(failure)) return retryLater(THROTTLED_RETRY_AFTER_SECONDS, failure.code);
  if (!failure.retryable) return deadLetter(failure.message);
  return retryNow();
}

/**
 * An error of our contract (lib/errors.ts) as a failure: 4xx answers are final (bad input, DingTalk's
 * 403/404) except 409 (a duplicate still running) and 429 (throttled, or the month's calls spent).
 */
export function failureOfAppError(error: AppError): Failure {
  const final = error.status >= 400 && error.status < 500 && error.status !== 409 && error.status !== 429;
  return { code: error.code, message: error.message, status: error.status, retryable: !final };
}
