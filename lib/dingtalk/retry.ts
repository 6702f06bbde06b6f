/**
 * What to do about a failed DingTalk call, as pure functions: which failures to retry here, which to hand
 * back for a later redelivery, which never to retry, and how long to wait between attempts.
 * The table follows DingTalk's advice on which errors to retry plus the error codes of its API reference pages.
 */

/** Codes the client assigns itself when DingTalk's answer has none. */
export const CLIENT_CODES = {
  network: "NetworkError",
  timeout: "Timeout",
  invalidResponse: "InvalidResponse",
  /** The IP-ban answer (HTML page or `{"status":1111,"wait":5}`) instead of DingTalk's error JSON. */
  ipBanned: "IpBanned",
  /** A non-2xx answer without a DingTalk error body (e.g. a proxy's 502). */
  httpError: "HttpError",
  /**
   * A call that is not idempotent (send-file-link) went out and no clear answer came back (timeout, 5xx,
   * an unreadable answer): DingTalk may or may not have done it. Never retried; a person decides.
   */
  outcomeUnknown: "outcomeUnknown",
  /** Download info in a protocol other than HEADER_SIGNATURE: the engine cannot use it. */
  unsupportedProtocol: "UnsupportedDownloadProtocol",
} as const;

/**
 * - `retry`: back off and try again now, within the attempt and time budget.
 * - `retry-later`: waiting seconds will not help (fileArchived, IP ban): fail now with `retryAfterMs`
 *   so a queue can redeliver in minutes.
 * - `never`: the same request will fail the same way.
 * - `refresh-token`: the access token was refused: refresh it once and repeat the call once.
 */
export type FailureDecision = "retry" | "retry-later" | "never" | "refresh-token";

/** Throttling codes; DingTalk advises waiting about a second. Matched without "Forbidden.AccessDenied.". */
const RATE_LIMIT_CODES = new Set(["QpsLimitForAppkeyAndApi", "QpsLimitForApi", "QpmLimitForAppkeyAndApi"]);

const RETRY_CODES = new Set([
  ...RATE_LIMIT_CODES,
  "system.busy",
  "systemBusy",
  "systemError",
  "unknownError",
  "operationTimeout",
  "operationConcurrentControl",
  CLIENT_CODES.network,
  CLIENT_CODES.timeout,
]);

const RETRY_LATER_CODES = new Set(["fileArchived", CLIENT_CODES.ipBanned]);

const NEVER_CODES = new Set([
  "permissionDenied",
  "orgAuthLevelNotEnough",
  "operationNotSupported",
  "dentryDownloadProtocolNotSupport",
  "spaceNotExist",
  "dentryNotExist",
  "conversationNotExist",
  /** Monthly quota of the org: retrying only burns more of nothing. */
  "ApiCountLimitForOrg",
  "invalidClientIdOrSecret",
  /** A malformed answer will not get better by asking again at once. */
  CLIENT_CODES.invalidResponse,
  CLIENT_CODES.outcomeUnknown,
  CLIENT_CODES.unsupportedProtocol,
]);

function bareCode(code: string): string {
  return code.replace(/^Forbidden\.AccessDenied\./, "");
}

export function isRateLimitCode(code: string): boolean {
  return RATE_LIMIT_CODES.has(bareCode(code));
}

/** DingTalk refused the call for load (QPS/QPM 403, 429 system.busy): it did nothing, ask again later. */
export function isThrottlingFailure(status: number | undefined, code: string): boolean {
  const bare = bareCode(code);
  return isRateLimitCode(bare) || bare === "system.busy" || bare === "systemBusy" || status === 429;
}

/**
 * Decide what to do about a failure. `status` is undefined when no answer came. DingTalk's code decides
 * first (it is more precise than the status); an unknown code falls back to the status.
 */
export function classifyDingTalkFailure(status: number | undefined, code: string): FailureDecision {
  const bare = bareCode(code);
  if (bare === "InvalidAuthentication" || status === 401) return "refresh-token";
  if (RETRY_LATER_CODES.has(bare)) return "retry-later";
  if (bare.startsWith("paramError") || NEVER_CODES.has(bare)) return "never";
  if (RETRY_CODES.has(bare)) return "retry";
  if (status === undefined) return "never";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "never";
}

/**
 * What to do about a failed call that is not idempotent (send-file-link: a repeat posts the link again).
 * It is repeated only where DingTalk certainly did nothing: throttled (QPS/QPM 403, 429), the access token
 * refused, or the connection failed before the request was written (`requestNotSent`). An answer that
 * refuses the request for a reason (paramError, conversationNotExist, an IP ban) is final as for any call.
 * Anything else after the request went out (timeout, cut connection, 5xx, an unreadable answer) is
 * `outcome-unknown`.
 */
export type SendFailureDecision = "retry" | "refresh-token" | "never" | "retry-later" | "outcome-unknown";

export function classifySendFailure(failure: {
  status: number | undefined;
  code: string;
  requestNotSent?: boolean | undefined;
}): SendFailureDecision {
  const { status, code } = failure;
  const bare = bareCode(code);
  if (failure.requestNotSent) return "retry";
  if (bare === "InvalidAuthentication" || status === 401) return "refresh-token";
  if (isThrottlingFailure(status, bare)) return "retry";
  if (bare === CLIENT_CODES.ipBanned) return "retry-later";
  if (status === undefined || status >= 500 || bare === CLIENT_CODES.invalidResponse)
    return "outcome-unknown";
  // A 2xx/3xx that is not a success, or a 4xx: DingTalk (or a proxy before it) answered and refused.
  return status >= 400 ? "never" : "outcome-unknown";
}

export interface RetryPolicy {
  /** Attempts in all, the first included (a token refresh-and-repeat does not count). Default 5. */
  maxAttempts: number;
  /** First backoff ceiling; doubles per attempt. Default 200 ms. */
  baseDelayMs: number;
  /** Minimum wait after a QPS/QPM limit answer (DingTalk: "wait about 1 s"). Default 1000 ms. */
  qpsLimitDelayMs: number;
  /** Cap of one wait. Default 5 s. */
  maxDelayMs: number;
  /** No retry starts once this much time has passed since the first attempt (+ the wait). Default 20 s. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  baseDelayMs: 200,
  qpsLimitDelayMs: 1000,
  maxDelayMs: 5000,
  maxTotalMs: 20_000,
};

/**
 * Wait before the attempt after `failedAttempt` (1-based): exponential backoff with full jitter
 * (uniform in [0, min(maxDelayMs, baseDelayMs·2^(n-1))]), so parallel Lambdas do not retry in lockstep.
 * Rate-limit answers add `qpsLimitDelayMs` as a floor: retrying within the same second is refused again.
 */
export function retryDelayMs(
  failedAttempt: number,
  code: string,
  policy: Pick<RetryPolicy, "baseDelayMs" | "qpsLimitDelayMs" | "maxDelayMs">,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  const jittered = Math.floor(random() * ceiling);
  if (!isRateLimitCode(code)) return jittered;
  return Math.min(Math.max(policy.maxDelayMs, policy.qpsLimitDelayMs), policy.qpsLimitDelayMs + jittered);
}
