import {
  IdempotencyAlreadyInProgressError,
  IdempotencyValidationError,
} from "@aws-lambda-powertools/idempotency";
import { isOrgQuotaCode, QUOTA_EXHAUSTED_CODE } from "../budget/errors";
import { CLIENT_CODES, DingTalkError } from "../dingtalk";
import { AppError } from "../errors";
import { isThrottled } from "../failure";
import { logger } from "../logging";
import { type HttpResult, jsonResponse } from "./api-gateway";

/**
 * Map a DingTalk failure onto our error contract: DingTalk's own 403/404 (and its param errors, which
 * mean the ids we were given are wrong) pass through with DingTalk's code and request id; throttling
 * becomes 429, DingTalk's timeouts and a request certainly not sent 503, and anything else DingTalk got
 * wrong 502.
 */
export function fromDingTalkError(error: DingTalkError): AppError {
  const extra = {
    requestId: error.requestId,
    cause: error,
    details: { dingtalkStatus: error.status, api: error.api },
  };
  const message = `DingTalk ${error.api} failed: ${error.code}: ${error.dingtalkMessage ?? error.message}`;
  // A send went out and its outcome is unknown: 502 whatever DingTalk's status was (a 503 would invite the
  // caller to retry, and a retry could post the link twice).
  if (error.code === CLIENT_CODES.outcomeUnknown) return new AppError(502, error.code, message, extra);
  // Certainly not sent (no connection, or no time left in the invocation to start): asking again is safe.
  if (error.requestNotSent) return new AppError(503, error.code, message, extra);
  // The org's monthly quota is spent: the same answer as our own budget's (wait for the month).
  if (isOrgQuotaCode(error.code)) return new AppError(429, QUOTA_EXHAUSTED_CODE, message, extra);
  // Throttled (the bundle's one test, lib/failure.ts): 429 once our own retries are spent.
  if (isThrottled(error)) return new AppError(429, error.code, message, extra);
  if (error.code === "operationTimeout" || error.status === 503)
    return new AppError(503, error.code, message, extra);
  if (error.code === "fileArchived") return new AppError(503, error.code, message, extra);
  if (error.code.startsWith("paramError")) return new AppError(400, error.code, message, extra);
  if (error.status === 403 || error.status === 404)
    return new AppError(error.status, error.code, message, extra);
  return new AppError(502, error.code, message, extra);
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof DingTalkError) return fromDingTalkError(error);
  // Powertools idempotency wraps what the function threw; look through it.
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof AppError || cause instanceof DingTalkError) return toAppError(cause);
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new AppError(
      409,
      "RequestInProgress",
      "A request with this webhook-id is still being processed; retry later",
    );
  }
  if (error instanceof IdempotencyValidationError) {
    return new AppError(
      422,
      "IdempotencyKeyReused",
      "This webhook-id was already used with a different body",
    );
  }
  return new AppError(500, "InternalError", "Internal error", { cause: error });
}

/** Render any failure as `{error: {code, message, requestId?, details?}}`; 5xx ones are logged in full. */
export function errorResponse(error: unknown, awsRequestId?: string): HttpResult {
  const appError = toAppError(error);
  if (appError.status >= 500)
    logger.error("request failed", { error: appError.cause ?? appError, code: appError.code });
  else
    logger.warn("request refused", {
      code: appError.code,
      message: appError.message,
      status: appError.status,
    });
  const body: Record<string, unknown> = { code: appError.code, message: appError.message };
  const requestId = appError.requestId ?? awsRequestId;
  if (requestId) body.requestId = requestId;
  if (appError.details !== undefined) body.details = appError.details;
  return jsonResponse(appError.status, { error: body });
}
