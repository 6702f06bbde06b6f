import { describe, expect, it } from "vitest";
import {
  classifyDingTalkFailure,
  DEFAULT_RETRY_POLICY,
  type FailureDecision,
  isRateLimitCode,
  retryDelayMs,
} from "../../lib/dingtalk";

/**
 * Every code of DingTalk's retry advice and of its two reference pages' error tables, with the
 * status DingTalk answers it with, plus the client's own codes.
 */
const TABLE: Array<[status: number | undefined, code: string, expected: FailureDecision]> = [
  // throttling: back off and retry
  [403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "retry"],
  [403, "Forbidden.AccessDenied.QpsLimitForApi", "retry"],
  [403, "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", "retry"],
  [429, "system.busy", "retry"],
  [429, "systemBusy", "retry"],
  // DingTalk's own failures
  [500, "systemError", "retry"],
  [500, "unknownError", "retry"],
  [503, "operationTimeout", "retry"],
  [400, "operationConcurrentControl", "retry"],
  // no answer
  [undefined, "NetworkError", "retry"],
  [undefined, "Timeout", "retry"],
  // other 5xx / 429 / 408 without a known code
  [502, "HttpError", "retry"],
  [503, "HttpError", "retry"],
  [504, "HttpError", "retry"],
  [500, "someNewServerCode", "retry"],
  [429, "HttpError", "retry"],
  [408, "HttpError", "retry"],
  // minutes, not seconds: hand back for a later redelivery
  [400, "fileArchived", "retry-later"],
  [403, "IpBanned", "retry-later"],
  [200, "IpBanned", "retry-later"],
  // token refused
  [400, "InvalidAuthentication", "refresh-token"],
  [401, "Unauthorized", "refresh-token"],
  [401, "HttpError", "refresh-token"],
  // never
  [400, "paramError", "never"],
  [400, "paramError.spaceId", "never"],
  [400, "paramError.dentryId", "never"],
  [400, "paramError.conversationId", "never"],
  [403, "permissionDenied", "never"],
  [403, "orgAuthLevelNotEnough", "never"],
  [400, "operationNotSupported", "never"],
  [400, "dentryDownloadProtocolNotSupport", "never"],
  [404, "spaceNotExist", "never"],
  [404, "dentryNotExist", "never"],
  [404, "conversationNotExist", "never"],
  [403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "never"],
  [400, "invalidClientIdOrSecret", "never"],
  [200, "InvalidResponse", "never"],
  [502, "InvalidResponse", "never"],
  // unknown client errors are not retried
  [400, "somethingNew", "never"],
  [403, "HttpError", "never"],
  [404, "HttpError", "never"],
  [undefined, "somethingNew", "never"],
];

describe("classifyDingTalkFailure", () => {
  it.each(TABLE)("%s %s → %s", (status, code, expected) => {
    expect(classifyDingTalkFailure(status, code)).toBe(expected);
  });

  it("lets a known code win over the status", () => {
    // A never-code on a 5xx status is still never; a retry code on a 4xx is still retried.
    expect(classifyDingTalkFailure(500, "paramError")).toBe("never");
    expect(classifyDingTalkFailure(400, "systemError")).toBe("retry");
    expect(classifyDingTalkFailure(503, "fileArchived")).toBe("retry-later");
  });

  it("matches throttling codes with or without the Forbidden.AccessDenied. prefix", () => {
    expect(classifyDingTalkFailure(403, "QpsLimitForApi")).toBe("retry");
    expect(classifyDingTalkFailure(403, "ApiCountLimitForOrg")).toBe("never");
    expect(isRateLimitCode("Forbidden.AccessDenied.QpmLimitForAppkeyAndApi")).toBe(true);
    expect(isRateLimitCode("QpsLimitForAppkeyAndApi")).toBe(true);
    expect(isRateLimitCode("systemBusy")).toBe(false);
    expect(isRateLimitCode("Forbidden.AccessDenied.ApiCountLimitForOrg")).toBe(false);
  });
});

describe("retryDelayMs", () => {
  const policy = { baseDelayMs: 200, qpsLimitDelayMs: 1000, maxDelayMs: 5000 };

  it("doubles the ceiling per attempt and applies full jitter", () => {
    const top = () => 0.999_999;
    expect(retryDelayMs(1, "systemError", policy, top)).toBe(199);
    expect(retryDelayMs(2, "systemError", policy, top)).toBe(399);
    expect(retryDelayMs(3, "systemError", policy, top)).toBe(799);
    expect(retryDelayMs(4, "systemError", policy, () => 0.5)).toBe(800);
    expect(retryDelayMs(3, "systemError", policy, () => 0)).toBe(0);
  });

  it("caps at maxDelayMs", () => {
    expect(retryDelayMs(30, "systemError", policy, () => 0.999_999)).toBe(4999);
  });

  it("waits at least qpsLimitDelayMs after a QPS/QPM limit, as DingTalk advises", () => {
    const code = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi";
    expect(retryDelayMs(1, code, policy, () => 0)).toBe(1000);
    expect(retryDelayMs(1, code, policy, () => 0.5)).toBe(1100);
    expect(retryDelayMs(30, code, policy, () => 0.999_999)).toBe(5000);
  });

  it("stays within [0, max] for any random value and attempt", () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
        for (const code of ["systemError", "Forbidden.AccessDenied.QpsLimitForApi"]) {
          const d = retryDelayMs(attempt, code, DEFAULT_RETRY_POLICY, () => r);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs);
        }
      }
    }
  });

  it("has the documented defaults", () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 5,
      baseDelayMs: 200,
      qpsLimitDelayMs: 1000,
      maxDelayMs: 5000,
      maxTotalMs: 20_000,
    });
  });
});
