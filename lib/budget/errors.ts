/**
 * "The month's API calls are spent": our own budget said so, or DingTalk answered 403
 * Forbidden.AccessDenied.ApiCountLimitForOrg (legacy errcode 90020). Either way retrying now is useless and
 * waiting for the month is not: a job waits (re-queued with a delay, never dead-lettered, not a failed
 * attempt), send-link answers 429 `budgetExhausted`, a scheduled run stops where it was.
 */
import { isDingTalkError } from "../dingtalk";
import { AppError } from "../errors";
import { nextChinaMonthStart } from "./month";

export const QUOTA_EXHAUSTED_CODE = "budgetExhausted";

export class QuotaExhausted extends AppError {
  override readonly name = "QuotaExhausted";
  /** Who said so: DINGTALK_MONTHLY_CALL_BUDGET, or DingTalk's own monthly quota. */
  readonly source: "budget" | "dingtalk";
  /** When the next month starts (ms since the epoch): the calls are there again. */
  readonly resumeAt: number;
  /** How long to wait from when this was raised. */
  readonly retryAfterMs: number;

  constructor(init: {
    source: "budget" | "dingtalk";
    now: number;
    message: string;
    requestId?: string | undefined;
    cause?: unknown;
  }) {
    super(429, QUOTA_EXHAUSTED_CODE, init.message, { cause: init.cause, requestId: init.requestId });
    this.source = init.source;
    this.resumeAt = nextChinaMonthStart(init.now);
    this.retryAfterMs = this.resumeAt - init.now;
  }
}

/** DingTalk's code for the org's spent monthly quota, with or without its prefix, or the legacy errcode. */
export function isOrgQuotaCode(code: string): boolean {
  return code.replace(/^Forbidden\.AccessDenied\./, "") === "ApiCountLimitForOrg" || code === "90020";
}

/**
 * The QuotaExhausted in `error` or its causes (however wrapped: an ArchiveError, a TransferError, Powertools'
 * idempotency error), or one made from DingTalk's ApiCountLimitForOrg; undefined for anything else.
 */
export function quotaExhaustedIn(error: unknown, now: number = Date.now()): QuotaExhausted | undefined {
  for (let link = error, depth = 0; link instanceof Error && depth < 8; depth++) {
    if (link instanceof QuotaExhausted) return link;
    if (isDingTalkError(link) && isOrgQuotaCode(link.code)) {
      return new QuotaExhausted({
        source: "dingtalk",
        now,
        message: `DingTalk's monthly API quota of the org is spent (${link.code}); calls resume when the month turns (China time)`,
        requestId: link.requestId,
        cause: link,
      });
    }
    link = link.cause;
  }
  return undefined;
}
