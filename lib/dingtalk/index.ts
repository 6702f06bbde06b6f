/** A typed DingTalk OpenAPI client over ky: token cache, retries, error mapping, validated answers. */
export { createDingTalkClient, type DingTalkClient, type DingTalkClientOptions } from "./client";
export {
  type DingTalkApi,
  DingTalkError,
  FILE_ARCHIVED_RETRY_AFTER_MS,
  IP_BAN_RETRY_AFTER_MS,
  isDingTalkError,
  type ResponseIssue,
} from "./errors";
export { dingTalkClientFromConfig } from "./from-config";
export {
  CLIENT_CODES,
  classifyDingTalkFailure,
  DEFAULT_RETRY_POLICY,
  type FailureDecision,
  isRateLimitCode,
  isThrottlingFailure,
  type RetryPolicy,
  retryDelayMs,
} from "./retry";
export { refreshMarginMs } from "./token";
export * from "./types";
