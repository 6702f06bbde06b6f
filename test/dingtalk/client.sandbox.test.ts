/** The client against the real sandbox over HTTP: calls, tokens, pagination, errors. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DingTalkError } from "../../lib/dingtalk";
import { startSandbox } from "../../sandbox/server";
import type { Sandbox } from "../../sandbox/types";
import { everythingIn, FAST_RETRY, failure, recordingFetch, sandboxClient } from "./helpers";

let clock = Date.now();
let sb: Sandbox;
let fileId: string;
let manyId: string;

beforeAll(async () => {
  // The sandbox's clock is ours, so token expiry can be stepped through without waiting.
  sb = await startSandbox({ port: 0, tokenTtlSeconds: 60, now: () => clock });
  fileId = sb.dentryIdByPath("docs/guide.md") ?? "";
  manyId = sb.dentryIdByPath("many") ?? "";
  expect(fileId).not.toBe("");
  expect(manyId).not.toBe("");
});
afterAll(() => sb.close());
beforeEach(() => {
  sb.clearFaults();
  sb.expireTokens();
  sb.resetCalls();
});

const op = () => ({ unionId: sb.options.unionId, spaceId: sb.options.spaceId });

describe("calls", () => {
  it("sendFileLink sends the link and returns DingTalk's file", async () => {
    const { client } = sandboxClient(sb);
    const result = await client.sendFileLink({
      ...op(),
      dentryId: fileId,
      openConversationId: "cid-sandbox",
    });
    expect(result.file).toMatchObject({
      id: fileId,
      conversationId: "cid-sandbox",
      name: "guide.md",
      type: "FILE",
    });
    expect(sb.sentLinks().at(-1)).toMatchObject({ dentryId: fileId, openConversationId: "cid-sandbox" });
  });

  it("getFileDownloadInfo sends preferIntranet=false explicitly and validates the answer", async () => {
    const recorder = recordingFetch();
    const { client } = sandboxClient(sb, { fetch: recorder.fetch });
    const info = await client.getFileDownloadInfo({ ...op(), dentryId: fileId });
    expect(info.protocol).toBe("HEADER_SIGNATURE");
    expect(info.headerSignatureInfo.resourceUrls.length).toBeGreaterThan(0);
    expect(Object.keys(info.headerSignatureInfo.headers).length).toBeGreaterThan(0);
    expect(info.headerSignatureInfo.expirationSeconds).toBeGreaterThan(0);

    const sent = recorder.requests.find((r) => r.url.includes("/downloadInfos/query"));
    expect(sent?.method).toBe("POST");
    expect(JSON.parse(sent?.body ?? "")).toEqual({ option: { preferIntranet: false } });
    expect(new URL(sent?.url ?? "").searchParams.get("unionId")).toBe(sb.options.unionId);
    expect(sent?.headers.get("x-acs-dingtalk-access-token")).toMatch(/\S+/);

    await client.getFileDownloadInfo({ ...op(), dentryId: fileId, version: 1, preferIntranet: true });
    const second = recorder.requests.filter((r) => r.url.includes("/downloadInfos/query")).at(-1);
    expect(JSON.parse(second?.body ?? "")).toEqual({ option: { version: 1, preferIntranet: true } });
  });

  it("preferIntranet: true from the client's options (DINGTALK_PREFER_INTRANET) for every download info", async () => {
    const recorder = recordingFetch();
    const { client } = sandboxClient(sb, { fetch: recorder.fetch, preferIntranet: true });
    await client.getFileDownloadInfo({ ...op(), dentryId: fileId });
    const sent = recorder.requests.find((r) => r.url.includes("/downloadInfos/query"));
    expect(JSON.parse(sent?.body ?? "")).toEqual({ option: { preferIntranet: true } });
  });

  it("getDentry and getSpace", async () => {
    const { client } = sandboxClient(sb);
    const dentry = await client.getDentry({ ...op(), dentryId: fileId });
    expect(dentry).toMatchObject({ id: fileId, type: "FILE", name: "guide.md", version: 2 });
    expect(dentry.size).toBeGreaterThan(0);
    const space = await client.getSpace(op());
    expect(space).toMatchObject({ id: sb.options.spaceId });
    expect(space.quota).toBeGreaterThan(0);
  });

  it("listDentries follows nextToken across pages: 120 entries in 3 calls of 50", async () => {
    const { client } = sandboxClient(sb);
    const names: string[] = [];
    for await (const d of client.listDentries({ ...op(), parentId: manyId, orderBy: "NAME", order: "ASC" })) {
      names.push(d.name);
    }
    expect(names).toHaveLength(120);
    expect(new Set(names).size).toBe(120);
    expect(names[0]).toBe("item-001.txt");
    expect(names.at(-1)).toBe("item-120.txt");
    expect(sb.calls().listDentries).toBe(3);
  });

  it("listDentriesPage returns one page and its nextToken", async () => {
    const { client } = sandboxClient(sb);
    const first = await client.listDentriesPage({ ...op(), parentId: manyId, maxResults: 7 });
    expect(first.dentries).toHaveLength(7);
    expect(first.nextToken).toBeTruthy();
    const second = await client.listDentriesPage({
      ...op(),
      parentId: manyId,
      maxResults: 7,
      nextToken: first.nextToken,
    });
    expect(second.dentries.map((d) => d.id)).not.toContain(first.dentries[0]?.id);
  });

  it("lists the root (parent 0) with folders, which have no size", async () => {
    const { client } = sandboxClient(sb);
    const all = [];
    for await (const d of client.listDentries({ ...op(), parentId: "0" })) all.push(d);
    expect(all.some((d) => d.type === "FOLDER" && d.size === undefined)).toBe(true);
    expect(all.some((d) => d.type === "FILE" && typeof d.size === "number")).toBe(true);
  });

  it("encodes ids in the URL path", async () => {
    const recorder = recordingFetch();
    const { client } = sandboxClient(sb, { fetch: recorder.fetch });
    const error = await failure(client.getDentry({ ...op(), spaceId: "a/b c?d", dentryId: "x#y" }));
    const sent = recorder.requests.find((r) => r.url.includes("/query"));
    expect(sent?.url).toContain("/v1.0/storage/spaces/a%2Fb%20c%3Fd/dentries/x%23y/query?");
    // The sandbox decodes the segment into the id as given: a space it does not have. Never retried.
    expect(error).toMatchObject({ status: 404, code: "spaceNotExist", retryable: false });
    expect((error as Error).message).toContain("space a/b c?d does not exist");
    expect(sb.calls().getDentry).toBe(1);
  });

  it("refuses empty ids before any request", async () => {
    const { client } = sandboxClient(sb);
    await expect(client.getDentry({ ...op(), dentryId: "" })).rejects.toThrow(TypeError);
    expect(sb.calls().getDentry).toBe(0);
  });
});

describe("access token", () => {
  it("is fetched once for many calls", async () => {
    const { client } = sandboxClient(sb);
    for (let i = 0; i < 5; i++) await client.getDentry({ ...op(), dentryId: fileId });
    await client.getSpace(op());
    await client.listDentriesPage({ ...op(), parentId: "0" });
    expect(sb.calls().token).toBe(1);
    expect(sb.calls().getDentry).toBe(5);
  });

  it("is shared by concurrent callers: 50 calls → 1 token call", async () => {
    const { client } = sandboxClient(sb);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => client.getDentry({ ...op(), dentryId: fileId })),
    );
    expect(results).toHaveLength(50);
    expect(sb.calls().token).toBe(1);
    expect(sb.calls().getDentry).toBe(50);
  });

  it("is refreshed ahead of expiry, so no call ever meets an expired token", async () => {
    const start = clock;
    const { client } = sandboxClient(sb, { now: () => clock });
    try {
      const first = await client.getAccessToken();
      await client.getDentry({ ...op(), dentryId: fileId });
      expect(sb.calls().token).toBe(1);

      clock = start + 53_000; // ttl 60 s, margin 10% = 6 s: not yet
      await client.getDentry({ ...op(), dentryId: fileId });
      expect(sb.calls().token).toBe(1);

      clock = start + 55_000; // inside the margin: refreshed (DingTalk answers the same, still valid token)
      await client.getDentry({ ...op(), dentryId: fileId });
      expect(sb.calls().token).toBe(2);
      expect(await client.getAccessToken()).toBe(first);

      clock = start + 61_000; // the first token has expired at DingTalk: a new one, fetched before the call
      await client.getDentry({ ...op(), dentryId: fileId });
      expect(sb.calls().token).toBe(3);
      expect(await client.getAccessToken()).not.toBe(first);
      // Every call succeeded the first time: none was refused for a stale token.
      expect(sb.calls().getDentry).toBe(4);
    } finally {
      clock = Date.now();
    }
  });

  it("keeps the current token when an early refresh fails, and does not retry the refresh on every call", async () => {
    const start = clock;
    const { client, logger } = sandboxClient(sb, {
      now: () => clock,
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    });
    try {
      const first = await client.getAccessToken();
      clock = start + 55_000; // inside the refresh margin, still valid at DingTalk
      sb.addFaults({ api: "token", kind: "systemError", times: 2 });
      await client.getDentry({ ...op(), dentryId: fileId });
      expect(sb.calls().token).toBe(3); // the first fetch + two failed refresh attempts
      expect(await client.getAccessToken()).toBe(first);
      await client.getDentry({ ...op(), dentryId: fileId });
      expect(sb.calls()).toMatchObject({ token: 3, getDentry: 2 });
      expect(logger.lines.some((l) => l.message.includes("refresh failed"))).toBe(true);
    } finally {
      clock = Date.now();
    }
  });

  it("is refreshed and the call repeated once when DingTalk refuses it (InvalidAuthentication)", async () => {
    const { client, logger } = sandboxClient(sb);
    const before = await client.getAccessToken();
    sb.expireTokens();
    const dentry = await client.getDentry({ ...op(), dentryId: fileId });
    expect(dentry.id).toBe(fileId);
    expect(await client.getAccessToken()).not.toBe(before);
    expect(sb.calls()).toMatchObject({ token: 2, getDentry: 2 });
    expect(logger.lines.some((l) => l.message.includes("refreshing"))).toBe(true);
  });

  it("is refreshed once for many concurrent refused calls", async () => {
    const { client } = sandboxClient(sb);
    await client.getAccessToken();
    sb.expireTokens();
    await Promise.all(Array.from({ length: 20 }, () => client.getDentry({ ...op(), dentryId: fileId })));
    expect(sb.calls().token).toBe(2);
    expect(sb.calls().getDentry).toBe(40);
  });

  it("is refreshed on a 401 too", async () => {
    const { client } = sandboxClient(sb);
    await client.getAccessToken();
    sb.addFaults({ api: "getDentry", kind: "error", status: 401, code: "Unauthorized", times: 1 });
    await client.getDentry({ ...op(), dentryId: fileId });
    expect(sb.calls()).toMatchObject({ token: 2, getDentry: 2 });
  });

  it("is refreshed only once: a second refusal fails the call, not retryable", async () => {
    const { client } = sandboxClient(sb);
    sb.addFaults({ api: "getDentry", kind: "tokenExpired", times: 3 });
    const error = await failure(client.getDentry({ ...op(), dentryId: fileId }));
    expect(error).toBeInstanceOf(DingTalkError);
    expect(error).toMatchObject({
      api: "getDentry",
      status: 400,
      code: "InvalidAuthentication",
      retryable: false,
    });
    expect(sb.calls()).toMatchObject({ token: 2, getDentry: 2 });
  });

  it("fails clearly on bad credentials, without repeating the secret", async () => {
    const appSecret = "wrong-secret-d41d8cd98f00b204";
    const { client, logger } = sandboxClient(sb, { appSecret });
    const error = await failure(client.getDentry({ ...op(), dentryId: fileId }));
    expect(error).toMatchObject({
      api: "getAccessToken",
      status: 400,
      code: "invalidClientIdOrSecret",
      retryable: false,
    });
    expect(sb.calls()).toMatchObject({ token: 1, getDentry: 0 });
    expect(everythingIn(error)).not.toContain(appSecret);
    expect(logger.text()).not.toContain(appSecret);
  });
});

describe("a rotating app secret (read per token request, re-read once when refused)", () => {
  it("re-reads the secret when DingTalk refuses the cached value, and redacts both", async () => {
    const stale = "stale-secret-5f1e2d3c4b5a6978";
    let refreshes = 0;
    const appSecret = {
      get: async () => stale,
      refresh: async () => {
        refreshes++;
        return sb.options.appSecret;
      },
    };
    const { client, logger } = sandboxClient(sb, { appSecret });
    const dentry = await client.getDentry({ ...op(), dentryId: fileId });
    expect(dentry.id).toBe(fileId);
    expect(refreshes).toBe(1);
    expect(sb.calls()).toMatchObject({ token: 2, getDentry: 1 });
    expect(logger.text()).toContain("DingTalk refused the cached app secret");
    expect(logger.text()).not.toContain(stale);
  });

  it("gives up after one re-read that brings nothing new", async () => {
    const stale = "stale-secret-0a9b8c7d6e5f4a3b";
    const appSecret = { get: async () => stale, refresh: async () => stale };
    const { client } = sandboxClient(sb, { appSecret });
    const error = await failure(client.getDentry({ ...op(), dentryId: fileId }));
    expect(error).toMatchObject({ code: "invalidClientIdOrSecret" });
    expect(sb.calls()).toMatchObject({ token: 1, getDentry: 0 });
    expect(everythingIn(error)).not.toContain(stale);
  });
});

describe("errors", () => {
  it("carry status, code, DingTalk's request id and the API name", async () => {
    const { client } = sandboxClient(sb);
    const error = await failure(client.getDentry({ ...op(), dentryId: "no-such-dentry" }));
    expect(error).toBeInstanceOf(DingTalkError);
    const e = error as DingTalkError;
    expect(e).toMatchObject({ api: "getDentry", status: 404, code: "dentryNotExist", retryable: false });
    expect(e.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(e.message).toContain("getDentry");
    expect(e.message).toContain("dentryNotExist");
    expect(e.message).toContain(e.requestId);
  });

  it("never contain the access token or the app secret, nor do the log lines", async () => {
    const { client, logger } = sandboxClient(sb, { retry: { ...FAST_RETRY, maxAttempts: 2 } });
    const token = await client.getAccessToken();
    const errors: unknown[] = [];
    sb.addFaults({ api: "getDentry", kind: "tokenExpired", times: 2 });
    errors.push(await failure(client.getDentry({ ...op(), dentryId: fileId })));
    // A DingTalk message that echoes the token back (as some of its answers do) is redacted too.
    const echoed = await client.getAccessToken();
    sb.addFaults({
      api: "getDentry",
      kind: "error",
      status: 400,
      code: "paramError",
      message: `bad ${echoed}`,
      times: 1,
    });
    errors.push(await failure(client.getDentry({ ...op(), dentryId: fileId })));
    expect(errors.at(-1)).toMatchObject({ code: "paramError", dingtalkMessage: "bad [redacted]" });
    sb.addFaults({ api: "getDentry", kind: "systemError", times: 5 });
    errors.push(await failure(client.getDentry({ ...op(), dentryId: fileId })));
    errors.push(
      await failure(
        client.getDentry({ unionId: "someone-else", spaceId: sb.options.spaceId, dentryId: fileId }),
      ),
    );

    expect(errors.every((e) => e instanceof DingTalkError)).toBe(true);
    for (const error of errors) {
      const text = everythingIn(error);
      for (const secret of [token, echoed, sb.options.appSecret]) expect(text).not.toContain(secret);
    }
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const secret of [token, echoed, sb.options.appSecret]) expect(logger.text()).not.toContain(secret);
  });
});
