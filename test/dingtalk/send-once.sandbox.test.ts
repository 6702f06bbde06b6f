/**
 * send-file-link is not idempotent: the client repeats it only where DingTalk certainly did nothing, and
 * reports an uncertain failure as `outcomeUnknown` after exactly one request. Counted in the sandbox's
 * sentLinks and calls.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DingTalkError } from "../../lib/dingtalk";
import { classifySendFailure } from "../../lib/dingtalk/retry";
import { startSandbox } from "../../sandbox/server";
import type { FaultRule, Sandbox } from "../../sandbox/types";
import { REAL_SANDBOX_IDS } from "../support/real-ids";
import { FAST_RETRY, failure, sandboxClient } from "./helpers";

let sb: Sandbox;
let fileId: string;

beforeAll(async () => {
  sb = await startSandbox({ port: 0, ...REAL_SANDBOX_IDS });
  fileId = sb.dentryIdByPath("README.txt") ?? "";
});
afterAll(() => sb.close());
beforeEach(() => {
  sb.clearFaults();
  sb.resetCalls();
});

const link = () => ({
  unionId: sb.options.unionId,
  spaceId: sb.options.spaceId,
  dentryId: fileId,
  openConversationId: sb.options.conversationId,
});

describe("send-file-link with a real conversation id", () => {
  it("reaches DingTalk and posts one link", async () => {
    const { client } = sandboxClient(sb);
    const before = sb.sentLinks().length;
    const result = await client.sendFileLink(link());
    expect(result.file?.conversationId).toBe("cidOuTaLz7/D7zkkM/5PlrQQA==");
    expect(sb.sentLinks().slice(before)).toEqual([
      expect.objectContaining({
        openConversationId: "cidOuTaLz7/D7zkkM/5PlrQQA==",
        unionId: sb.options.unionId,
      }),
    ]);
  });
});

describe("outcome unknown: one request, one link at most, never repeated", () => {
  const UNKNOWN: Array<[label: string, rule: FaultRule]> = [
    ["posted, then 500 systemError", { api: "sendLink", kind: "systemError", afterEffect: true }],
    ["posted, then 503 operationTimeout", { api: "sendLink", kind: "operationTimeout", afterEffect: true }],
    [
      "posted, then the connection cut mid-answer",
      { api: "sendLink", kind: "dropConnection", afterBytes: 5 },
    ],
    ["posted, then an answer cut short", { api: "sendLink", kind: "truncate", afterBytes: 5 }],
    ["posted, then the answer stalls past the timeout", { api: "sendLink", kind: "stall", afterBytes: 0 }],
  ];

  it.each(UNKNOWN)("%s", async (_label, rule) => {
    const { client, logger } = sandboxClient(sb, { timeoutMs: 400 });
    sb.addFaults(rule);
    const before = sb.sentLinks().length;
    const error = await failure(client.sendFileLink(link()));
    expect(error).toBeInstanceOf(DingTalkError);
    expect(error).toMatchObject({ code: "outcomeUnknown", api: "sendFileLink", retryable: false });
    expect(sb.calls().sendLink).toBe(1);
    expect(sb.sentLinks().length - before).toBe(1);
    expect(logger.lines.filter((l) => l.level === "warn").map((l) => l.message)).toEqual([
      "DingTalk call may have taken effect; not repeating it",
    ]);
  });

  it("keeps DingTalk's request id and what was seen", async () => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "sendLink", kind: "systemError", afterEffect: true });
    const error = (await failure(client.sendFileLink(link()))) as DingTalkError;
    expect(error.requestId).toMatch(/\S/);
    expect(error.status).toBe(500);
    expect(error.message).toContain("systemError");
  });

  it("a 500 before anything was posted is still unknown to us: not repeated", async () => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "sendLink", kind: "systemError" });
    const error = await failure(client.sendFileLink(link()));
    expect(error).toMatchObject({ code: "outcomeUnknown" });
    expect(sb.calls().sendLink).toBe(1);
  });
});

describe("repeated where DingTalk certainly did nothing", () => {
  it.each<[string, FaultRule]>([
    ["QPS limit 403", { api: "sendLink", kind: "qpsLimit", times: 2 }],
    ["429 system.busy", { api: "sendLink", kind: "systemBusy", times: 2 }],
    ["access token refused", { api: "sendLink", kind: "tokenExpired", times: 1 }],
  ])("%s: repeated, one link in the end", async (_label, rule) => {
    const { client } = sandboxClient(sb);
    sb.addFaults(rule);
    const before = sb.sentLinks().length;
    await client.sendFileLink(link());
    expect(sb.calls().sendLink).toBe((rule.times ?? 0) + 1);
    expect(sb.sentLinks().length - before).toBe(1);
  });

  it("a connection refused before the request was written is repeated (here: until attempts run out)", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let attempts = 0;
    const { client } = sandboxClient(sb, {
      // The token comes from the sandbox; the send goes to a port nobody listens on.
      fetch: (input, init) => {
        const request = new Request(input, init);
        if (!request.url.includes("/convFile/")) return fetch(request);
        attempts++;
        return fetch(new Request(request.url.replace(new URL(sb.url).host, `127.0.0.1:${port}`), request));
      },
    });
    const error = await failure(client.sendFileLink(link()));
    expect(error).toMatchObject({ code: "NetworkError", requestNotSent: true });
    expect(attempts).toBe(FAST_RETRY.maxAttempts);
  });

  it.each<[string, FaultRule, string]>([
    [
      "conversationNotExist",
      { api: "sendLink", kind: "error", status: 404, code: "conversationNotExist" },
      "conversationNotExist",
    ],
    ["paramError", { api: "sendLink", kind: "error", status: 400, code: "paramError" }, "paramError"],
  ])("a refusal (%s) is DingTalk's final answer, as for any call", async (_label, rule, code) => {
    const { client } = sandboxClient(sb);
    sb.addFaults(rule);
    expect(await failure(client.sendFileLink(link()))).toMatchObject({ code });
    expect(sb.calls().sendLink).toBe(1);
  });
});

describe("reads keep retrying", () => {
  it("a 500 on download info is retried as before", async () => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "downloadInfo", kind: "systemError", times: 2 });
    await client.getFileDownloadInfo({
      unionId: sb.options.unionId,
      spaceId: sb.options.spaceId,
      dentryId: fileId,
    });
    expect(sb.calls().downloadInfo).toBe(3);
  });
});

describe("classifySendFailure", () => {
  it.each<[Parameters<typeof classifySendFailure>[0], string]>([
    [{ status: undefined, code: "NetworkError", requestNotSent: true }, "retry"],
    [{ status: undefined, code: "NetworkError" }, "outcome-unknown"],
    [{ status: undefined, code: "Timeout" }, "outcome-unknown"],
    [{ status: 500, code: "unknownError" }, "outcome-unknown"],
    [{ status: 502, code: "HttpError" }, "outcome-unknown"],
    [{ status: 200, code: "InvalidResponse" }, "outcome-unknown"],
    [{ status: 403, code: "Forbidden.AccessDenied.QpsLimitForApi" }, "retry"],
    [{ status: 429, code: "HttpError" }, "retry"],
    [{ status: 400, code: "InvalidAuthentication" }, "refresh-token"],
    [{ status: 400, code: "operationConcurrentControl" }, "never"],
    [{ status: 403, code: "IpBanned" }, "retry-later"],
  ])("%j → %s", (failure, decision) => {
    expect(classifySendFailure(failure)).toBe(decision);
  });
});
