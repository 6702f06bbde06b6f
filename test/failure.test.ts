import { describe, expect, it } from "vitest";
import { AppError } from "../lib/errors";
import { dispositionOf, failureOfAppError, isThrottled } from "../lib/failure";

describe("one failure disposition for every queue consumer", () => {
  it("never repeats a send of unknown outcome, even though a 502 is otherwise retried", () => {
    const unknown = new AppError(502, "outcomeUnknown", "the link may be in the conversation");
    expect(dispositionOf(failureOfAppError(unknown))).toEqual({
      kind: "deadLetter",
      reason: "the link may be in the conversation",
    });
  });

  it("follows the sender's advice on when to ask again, then waits out throttling", () => {
    expect(
      dispositionOf({ code: "fileArchived", message: "m", retryable: true, retryAfterMs: 300_000 }),
    ).toEqual({ kind: "retryLater", delaySeconds: 300, reason: "fileArchived" });
    expect(
      dispositionOf({
        code: "Forbidden.AccessDenied.QpsLimitForApi",
        message: "m",
        status: 403,
        retryable: true,
      }),
    ).toEqual({ kind: "retryLater", delaySeconds: 60, reason: "Forbidden.AccessDenied.QpsLimitForApi" });
  });

  it("dead-letters what cannot succeed later and redelivers the rest now", () => {
    expect(dispositionOf({ code: "dentryNotExist", message: "gone", status: 404, retryable: false })).toEqual(
      {
        kind: "deadLetter",
        reason: "gone",
      },
    );
    expect(dispositionOf({ code: "systemError", message: "m", status: 500, retryable: true })).toEqual({
      kind: "retryNow",
    });
  });

  it("reads our error contract: 4xx final except 409 and 429", () => {
    const kinds = [400, 403, 409, 429, 500, 503].map(
      (status) => dispositionOf(failureOfAppError(new AppError(status, "X", "m"))).kind,
    );
    expect(kinds).toEqual(["deadLetter", "deadLetter", "retryNow", "retryLater", "retryNow", "retryNow"]);
  });

  it("recognises throttling in one place: DingTalk's QPS/QPM codes, system.busy, any 429", () => {
    expect(isThrottled({ code: "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", status: 403 })).toBe(true);
    expect(isThrottled({ code: "system.busy", status: 429 })).toBe(true);
    expect(isThrottled({ code: "budgetExhausted", status: 429 })).toBe(true);
    expect(isThrottled({ code: "Forbidden.AccessDenied.ApiCountLimitForOrg", status: 403 })).toBe(false);
  });
});
