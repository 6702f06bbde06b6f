/** How a DingTalk failure maps onto the HTTP error contract (lib/http/errors.ts). */
import { describe, expect, it } from "vitest";
import { CLIENT_CODES, DingTalkError } from "../../lib/dingtalk";
import { outcomeUnknownError } from "../../lib/dingtalk/errors";
import { toAppError } from "../../lib/http/errors";

const failure = (status: number | undefined, code: string) =>
  new DingTalkError({ api: "sendFileLink", status, code, detail: "x", requestId: "req-1" });

describe("toAppError for DingTalk failures", () => {
  it("an unknown outcome is 502 outcomeUnknown with DingTalk's request id, even after a 503 or a timeout", () => {
    for (const seen of [
      failure(503, "ServiceUnavailable"),
      failure(undefined, "operationTimeout"),
      failure(500, "systemError"),
    ]) {
      expect(toAppError(outcomeUnknownError(seen))).toMatchObject({
        status: 502,
        code: CLIENT_CODES.outcomeUnknown,
        requestId: "req-1",
      });
    }
  });

  it("keeps the other mappings: throttling 429, timeouts 503, DingTalk's 404 passed through", () => {
    expect(toAppError(failure(403, "Forbidden.AccessDenied.QpsLimitForApi"))).toMatchObject({ status: 429 });
    expect(toAppError(failure(undefined, "operationTimeout"))).toMatchObject({ status: 503 });
    expect(toAppError(failure(404, "conversationNotExist"))).toMatchObject({
      status: 404,
      code: "conversationNotExist",
    });
  });
});
