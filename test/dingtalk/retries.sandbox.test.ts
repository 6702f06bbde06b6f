/**
 * Retry or not, for every code of DingTalk's error reference, against the sandbox's fault rules:
 * the number of calls the sandbox saw and the outcome.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DingTalkError, FILE_ARCHIVED_RETRY_AFTER_MS } from "../../lib/dingtalk";
import { startSandbox } from "../../sandbox/server";
import type { Sandbox } from "../../sandbox/types";
import { FAST_RETRY, failure, sandboxClient } from "./helpers";

let sb: Sandbox;
let fileId: string;

beforeAll(async () => {
  sb = await startSandbox({ port: 0 });
  fileId = sb.dentryIdByPath("README.txt") ?? "";
  expect(fileId).not.toBe("");
});
afterAll(() => sb.close());
beforeEach(() => {
  sb.clearFaults();
  sb.resetCalls();
});

const download = (client: ReturnType<typeof sandboxClient>["client"]) =>
  client.getFileDownloadInfo({ unionId: sb.options.unionId, spaceId: sb.options.spaceId, dentryId: fileId });

const RETRIED: Array<[status: number, code: string]> = [
  [403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"],
  [403, "Forbidden.AccessDenied.QpsLimitForApi"],
  [403, "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi"],
  [429, "system.busy"],
  [429, "systemBusy"],
  [500, "systemError"],
  [500, "unknownError"],
  [503, "operationTimeout"],
  [400, "operationConcurrentControl"],
  [502, "BadGateway"],
  [504, "GatewayTimeout"],
];

const NEVER_RETRIED: Array<[status: number, code: string]> = [
  [400, "paramError"],
  [400, "paramError.spaceId"],
  [400, "paramError.dentryId"],
  [400, "paramError.conversationId"],
  [403, "permissionDenied"],
  [403, "orgAuthLevelNotEnough"],
  [400, "operationNotSupported"],
  [400, "dentryDownloadProtocolNotSupport"],
  [404, "spaceNotExist"],
  [404, "dentryNotExist"],
  [404, "conversationNotExist"],
  [403, "Forbidden.AccessDenied.ApiCountLimitForOrg"],
];

describe("retried with backoff", () => {
  it.each(RETRIED)("%s %s: two failures, then success on the third call", async (status, code) => {
    const { client, logger } = sandboxClient(sb);
    sb.addFaults({ api: "downloadInfo", kind: "error", status, code, times: 2 });
    const info = await download(client);
    expect(info.headerSignatureInfo.resourceUrls.length).toBeGreaterThan(0);
    expect(sb.calls().downloadInfo).toBe(3);
    expect(logger.lines.filter((l) => l.message.includes("retrying"))).toHaveLength(2);
  });

  it("after a network error (connection dropped before any answer)", async () => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "downloadInfo", kind: "dropConnection", times: 2 });
    await download(client);
    expect(sb.calls().downloadInfo).toBe(3);
  });

  it("after an answer cut short mid-body", async () => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "downloadInfo", kind: "truncate", afterBytes: 20, times: 1 });
    await download(client);
    expect(sb.calls().downloadInfo).toBe(2);
  });

  it("after a timeout", async () => {
    const { client } = sandboxClient(sb, { timeoutMs: 150 });
    await client.getAccessToken();
    sb.addFaults({ api: "downloadInfo", kind: "latency", latencyMs: 600, times: 1 });
    await download(client);
    expect(sb.calls().downloadInfo).toBe(2);
  });

  it("also for the token call itself", async () => {
    const { client } = sandboxClient(sb);
    sb.expireTokens();
    sb.addFaults({ api: "token", kind: "systemBusy", times: 2 });
    await download(client);
    expect(sb.calls()).toMatchObject({ token: 3, downloadInfo: 1 });
  });
});

describe("bounded", () => {
  it("by maxAttempts: the last failure surfaces, marked retryable", async () => {
    const { client, logger } = sandboxClient(sb, { retry: { ...FAST_RETRY, maxAttempts: 3 } });
    sb.addFaults({ api: "downloadInfo", kind: "systemError", times: 10 });
    const error = await failure(download(client));
    expect(error).toBeInstanceOf(DingTalkError);
    expect(error).toMatchObject({
      status: 500,
      code: "systemError",
      retryable: true,
      api: "getFileDownloadInfo",
    });
    expect((error as DingTalkError).requestId).toBeTruthy();
    expect(sb.calls().downloadInfo).toBe(3);
    expect(logger.lines.some((l) => l.message.includes("attempts spent"))).toBe(true);
  });

  it("by maxTotalMs: no retry starts past the time budget", async () => {
    // A fake clock that only the backoff moves; jitter pinned to its maximum.
    let clock = 0;
    const waits: number[] = [];
    const { client } = sandboxClient(sb, {
      retry: { maxAttempts: 10, baseDelayMs: 100, qpsLimitDelayMs: 1000, maxDelayMs: 5000, maxTotalMs: 2500 },
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
      random: () => 0.999,
    });
    await client.getAccessToken();
    sb.addFaults({ api: "downloadInfo", kind: "qpsLimit", times: 10 });
    const error = await failure(download(client));
    expect(error).toMatchObject({
      status: 403,
      code: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
      retryable: true,
    });
    // waits 1099 + 1199 = 2298 ms; the next (1399) would end past 2500 ms.
    expect(waits).toEqual([1099, 1199]);
    expect(sb.calls().downloadInfo).toBe(3);
  });

  it("after a timeout on every attempt: code Timeout, no status", async () => {
    const { client } = sandboxClient(sb, { timeoutMs: 100, retry: { ...FAST_RETRY, maxAttempts: 2 } });
    await client.getAccessToken();
    sb.addFaults({ api: "downloadInfo", kind: "latency", latencyMs: 400, times: 2 });
    const error = await failure(download(client));
    expect(error).toMatchObject({ code: "Timeout", status: undefined, retryable: true });
    expect(sb.calls().downloadInfo).toBe(2);
  });

  it("after network errors on every attempt: code NetworkError", async () => {
    const { client } = sandboxClient(sb, { retry: { ...FAST_RETRY, maxAttempts: 2 } });
    sb.addFaults({ api: "downloadInfo", kind: "dropConnection", times: 2 });
    const error = await failure(download(client));
    expect(error).toMatchObject({ code: "NetworkError", status: undefined, retryable: true });
    expect(sb.calls().downloadInfo).toBe(2);
  });
});

describe("never retried", () => {
  it.each(NEVER_RETRIED)("%s %s: one call, the error surfaces", async (status, code) => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "downloadInfo", kind: "error", status, code, times: 1 });
    const error = await failure(download(client));
    expect(error).toBeInstanceOf(DingTalkError);
    expect(error).toMatchObject({
      api: "getFileDownloadInfo",
      status,
      code,
      retryable: false,
      retryAfterMs: undefined,
    });
    expect((error as DingTalkError).requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(sb.calls().downloadInfo).toBe(1);
  });

  it("400 invalidClientIdOrSecret on the token call", async () => {
    const { client } = sandboxClient(sb);
    sb.expireTokens();
    sb.addFaults({ api: "token", kind: "error", status: 400, code: "invalidClientIdOrSecret", times: 1 });
    const error = await failure(download(client));
    expect(error).toMatchObject({
      api: "getAccessToken",
      status: 400,
      code: "invalidClientIdOrSecret",
      retryable: false,
    });
    expect(sb.calls()).toMatchObject({ token: 1, downloadInfo: 0 });
  });

  it("real answers: an unknown dentry (404) and a foreign operator (403)", async () => {
    const { client } = sandboxClient(sb);
    const base = { unionId: sb.options.unionId, spaceId: sb.options.spaceId };
    expect(await failure(client.getFileDownloadInfo({ ...base, dentryId: "nope" }))).toMatchObject({
      status: 404,
      code: "dentryNotExist",
    });
    expect(
      await failure(client.getFileDownloadInfo({ ...base, unionId: "stranger", dentryId: fileId })),
    ).toMatchObject({
      status: 403,
      code: "permissionDenied",
    });
    expect(
      await failure(client.sendFileLink({ ...base, dentryId: fileId, openConversationId: "cid-nope" })),
    ).toMatchObject({ status: 404, code: "conversationNotExist" });
    expect(sb.calls()).toMatchObject({ downloadInfo: 2, sendLink: 1 });
  });
});

describe("retried later, not now", () => {
  it("400 fileArchived: one call, retryable with a retry-after hint for the queue", async () => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "downloadInfo", kind: "fileArchived", times: 1 });
    const error = await failure(download(client));
    expect(error).toMatchObject({
      status: 400,
      code: "fileArchived",
      retryable: true,
      retryAfterMs: FILE_ARCHIVED_RETRY_AFTER_MS,
    });
    expect(sb.calls().downloadInfo).toBe(1);
    // Once DingTalk has unarchived it, asking again works.
    await download(client);
  });
});
