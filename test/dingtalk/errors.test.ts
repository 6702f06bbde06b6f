import { describe, expect, it } from "vitest";
import { DingTalkError, FILE_ARCHIVED_RETRY_AFTER_MS, IP_BAN_RETRY_AFTER_MS } from "../../lib/dingtalk";
import { errorFromAnswer, looksLikeHtml, sanitize } from "../../lib/dingtalk/errors";
import { formatPath } from "../../lib/dingtalk/request";
import { refreshMarginMs } from "../../lib/dingtalk/token";

const answer = (status: number, body: unknown, headerRequestId?: string) =>
  errorFromAnswer({
    api: "getFileDownloadInfo",
    status,
    body,
    headerRequestId,
    secrets: ["s3cr3t", "tok3n"],
  });

describe("errorFromAnswer", () => {
  it("reads DingTalk's {code, message, requestid}, preferring the body's request id", () => {
    const error = answer(
      404,
      { code: "dentryNotExist", message: "no such file", requestid: "RID-BODY" },
      "RID-HDR",
    );
    expect(error).toBeInstanceOf(DingTalkError);
    expect(error).toMatchObject({
      name: "DingTalkError",
      api: "getFileDownloadInfo",
      status: 404,
      code: "dentryNotExist",
      requestId: "RID-BODY",
      dingtalkMessage: "no such file",
      retryable: false,
      retryAfterMs: undefined,
    });
    expect(error.message).toBe(
      "DingTalk getFileDownloadInfo failed (HTTP 404, dentryNotExist): no such file [requestId RID-BODY]",
    );
  });

  it("falls back to the x-acs-request-id header", () => {
    expect(answer(500, { code: "systemError", message: "x" }, "RID-HDR").requestId).toBe("RID-HDR");
  });

  it("gives fileArchived a retry-after hint in minutes and marks it retryable", () => {
    const error = answer(400, { code: "fileArchived", message: "archived", requestid: "R" });
    expect(error.retryAfterMs).toBe(FILE_ARCHIVED_RETRY_AFTER_MS);
    expect(error.retryable).toBe(true);
  });

  it("recognises the IP-ban JSON, with its wait (minutes) as the hint", () => {
    const error = answer(403, { status: 1111, wait: 2 });
    expect(error).toMatchObject({ code: "IpBanned", retryable: true, retryAfterMs: 120_000 });
    expect(answer(200, { status: 1111 }).retryAfterMs).toBe(IP_BAN_RETRY_AFTER_MS);
  });

  it("recognises an HTML ban page below 500, but leaves a 5xx HTML page to its status", () => {
    expect(answer(403, "<!DOCTYPE html><html><body>banned</body></html>")).toMatchObject({
      code: "IpBanned",
      retryable: true,
      retryAfterMs: IP_BAN_RETRY_AFTER_MS,
    });
    expect(answer(502, "<html>Bad Gateway</html>")).toMatchObject({ code: "HttpError", retryable: true });
  });

  it("names a non-DingTalk error answer HttpError", () => {
    const error = answer(418, undefined);
    expect(error).toMatchObject({ code: "HttpError", status: 418, retryable: false, requestId: undefined });
    expect(error.message).toContain("[requestId none]");
  });

  it("never repeats a secret DingTalk echoes back", () => {
    const error = answer(400, {
      code: "InvalidAuthentication",
      message: "bad token tok3n for app secret s3cr3t",
    });
    expect(error.message).not.toContain("tok3n");
    expect(error.message).not.toContain("s3cr3t");
    expect(error.message).toContain("[redacted]");
  });
});

describe("sanitize", () => {
  it("redacts secrets and URL query strings, and bounds the length", () => {
    expect(sanitize("a KEY b KEY", ["KEY", ""])).toBe("a [redacted] b [redacted]");
    expect(sanitize("see https://x.trans.dingtalk.com/f/1?Signature=abc&Expires=1 now", [])).toBe(
      "see https://x.trans.dingtalk.com/f/1?[redacted] now",
    );
    expect(sanitize("x".repeat(1000), []).length).toBeLessThanOrEqual(301);
  });
});

describe("helpers", () => {
  it("looksLikeHtml", () => {
    expect(looksLikeHtml("  <html>")).toBe(true);
    expect(looksLikeHtml('{"a":1}')).toBe(false);
    expect(looksLikeHtml({})).toBe(false);
  });

  it("formatPath", () => {
    expect(formatPath([])).toBe("(root)");
    expect(formatPath(["dentries", 3, "size"])).toBe("dentries[3].size");
    expect(formatPath(["headerSignatureInfo", "resourceUrls"])).toBe("headerSignatureInfo.resourceUrls");
  });

  it("refreshMarginMs: 5 minutes for long tokens, 10% for short ones", () => {
    expect(refreshMarginMs(7_200_000)).toBe(300_000);
    expect(refreshMarginMs(60_000)).toBe(6_000);
  });
});
