/** Every error code in the reference tables (send-file-link.md, get-download-info.md) is reachable. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox/server";
import type { FaultRule, Sandbox } from "../../sandbox/types";
import { call, idOf, storage, union } from "./helpers";

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
afterEach(() => sb.clearFaults());

const SEND = "/v1.0/convFile/conversations/files/links/send";

function send(body: unknown, query = union(sb), headers: Record<string, string> = {}) {
  return call(sb, "POST", `${SEND}?${query}`, body, headers);
}

function linkBody(over: Record<string, unknown> = {}) {
  return {
    spaceId: sb.options.spaceId,
    dentryId: idOf(sb, "README.txt"),
    openConversationId: "cid-sandbox",
    ...over,
  };
}

function dlInfo(
  dentryId: string,
  query = union(sb),
  body: unknown = { option: { preferIntranet: false } },
  spaceId = sb.options.spaceId,
) {
  return call(
    sb,
    "POST",
    `/v1.0/storage/spaces/${spaceId}/dentries/${dentryId}/downloadInfos/query?${query}`,
    body,
  );
}

function expectError(
  r: { status: number; body: Record<string, unknown>; headers: Headers },
  status: number,
  code: string,
) {
  expect({ status: r.status, code: r.body.code }).toEqual({ status, code });
  expect(r.body.message).toEqual(expect.any(String));
  expect(r.body.requestid).toBe(r.headers.get("x-acs-request-id"));
  expect(r.headers.get("x-acs-trace-id")).toBeTruthy();
}

describe("sendLink", () => {
  it("sends a link, answers DingTalk's file object and records the link", async () => {
    const r = await send(linkBody());
    expect(r.status).toBe(200);
    expect(r.body.file).toEqual({
      id: idOf(sb, "README.txt"),
      conversationId: "cid-sandbox",
      spaceId: "sandbox-space",
      parentId: "0",
      type: "FILE",
      name: "README.txt",
      size: expect.any(Number),
      path: "/README.txt",
      version: 1,
      status: "NORMAL",
      extension: "txt",
      creatorId: "sandbox-union",
      modifierId: "sandbox-union",
      createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/),
      modifiedTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/),
      uuid: expect.any(String),
    });
    expect(sb.sentLinks().at(-1)).toMatchObject({
      unionId: "sandbox-union",
      spaceId: "sandbox-space",
      dentryId: idOf(sb, "README.txt"),
      openConversationId: "cid-sandbox",
    });
  });

  it.each([
    ["no unionId", () => send(linkBody(), ""), 400, "paramError"],
    ["no body", () => send(undefined), 400, "paramError"],
    ["malformed JSON", () => send("{nope"), 400, "paramError"],
    ["no spaceId", () => send(linkBody({ spaceId: undefined })), 400, "paramError.spaceId"],
    ["unknown spaceId", () => send(linkBody({ spaceId: "other-space" })), 400, "paramError.spaceId"],
    ["no dentryId", () => send(linkBody({ dentryId: "" })), 400, "paramError.dentryId"],
    ["unknown dentryId", () => send(linkBody({ dentryId: "123" })), 400, "paramError.dentryId"],
    [
      "no conversation",
      () => send(linkBody({ openConversationId: undefined })),
      400,
      "paramError.conversationId",
    ],
    ["unknown user", () => send(linkBody(), "unionId=stranger"), 403, "permissionDenied"],
    [
      "unknown conversation",
      () => send(linkBody({ openConversationId: "cid-other" })),
      404,
      "conversationNotExist",
    ],
    [
      "systemError fault",
      () => send(linkBody(), union(sb), { "x-sandbox-fault": "systemError" }),
      500,
      "systemError",
    ],
  ] as const)("%s → %i %s", async (_why, run, status, code) => {
    expectError(await run(), status, code);
  });

  it("unknownError via a fault rule", async () => {
    sb.addFaults({
      api: "sendLink",
      kind: "error",
      status: 500,
      code: "unknownError",
      message: "Unknown Error",
      times: 1,
    });
    const r = await send(linkBody());
    expectError(r, 500, "unknownError");
    expect(r.body.message).toBe("Unknown Error");
  });

  it("records nothing for a failed send", async () => {
    const before = sb.sentLinks().length;
    await send(linkBody({ openConversationId: "cid-other" }));
    expect(sb.sentLinks()).toHaveLength(before);
  });
});

describe("downloadInfo", () => {
  const readme = () => idOf(sb, "README.txt");

  it.each([
    ["no unionId", () => dlInfo(readme(), ""), 400, "paramError"],
    ["a body that is not an object", () => dlInfo(readme(), union(sb), "[1]"), 400, "paramError"],
    [
      "a version that does not exist",
      () => dlInfo(readme(), union(sb), { option: { version: 99 } }),
      400,
      "paramError",
    ],
    ["a malformed spaceId", () => dlInfo(readme(), union(sb), {}, "bad%0Aspace"), 400, "paramError.spaceId"],
    ["a malformed dentryId", () => dlInfo("bad%00id"), 400, "paramError.dentryId"],
    ["an unknown user", () => dlInfo(readme(), "unionId=stranger"), 403, "permissionDenied"],
    ["an unknown space", () => dlInfo(readme(), union(sb), {}, "other-space"), 404, "spaceNotExist"],
    ["an unknown dentry", () => dlInfo("424242"), 404, "dentryNotExist"],
    ["a folder", () => dlInfo(idOf(sb, "docs")), 400, "operationNotSupported"],
  ] as const)("%s → %i %s", async (_why, run, status, code) => {
    expectError(await run(), status, code);
  });

  it.each([
    [{ kind: "fileArchived" }, 400, "fileArchived"],
    [{ kind: "systemError" }, 500, "systemError"],
    [{ kind: "operationTimeout" }, 503, "operationTimeout"],
    [
      {
        kind: "error",
        status: 403,
        code: "orgAuthLevelNotEnough",
        message: "auth level of org is not enough",
      },
      403,
      "orgAuthLevelNotEnough",
    ],
    [
      { kind: "error", status: 400, code: "dentryDownloadProtocolNotSupport" },
      400,
      "dentryDownloadProtocolNotSupport",
    ],
    [{ kind: "error", status: 500, code: "unknownError", message: "Unknown Error" }, 500, "unknownError"],
    [{ kind: "qpsLimit" }, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"],
    [{ kind: "systemBusy" }, 429, "system.busy"],
    [{ kind: "tokenExpired" }, 400, "InvalidAuthentication"],
  ] as const)("fault %o → %i %s", async (rule, status, code) => {
    sb.addFaults({ api: "downloadInfo", times: 1, ...rule } as FaultRule);
    expectError(await dlInfo(readme()), status, code);
    expect((await dlInfo(readme())).status).toBe(200); // times: 1
  });

  it("answers only the faulted API; '*' reaches every API but not the token call for tokenExpired", async () => {
    sb.addFaults({ api: "downloadInfo", kind: "systemError" });
    expect((await call(sb, "GET", `${storage(sb)}?${union(sb)}`)).status).toBe(200);
    sb.clearFaults();
    sb.addFaults({ api: "*", kind: "tokenExpired", times: 2 });
    const r = await call(sb, "GET", `${storage(sb)}?${union(sb)}`); // the helper's token call is exempt
    expectError(r, 400, "InvalidAuthentication");
  });
});

describe("other faults on the API", () => {
  it("latency delays an API answer", async () => {
    sb.addFaults({ api: "getSpace", kind: "latency", latencyMs: 250, times: 1 });
    const t = performance.now();
    expect((await call(sb, "GET", `${storage(sb)}?${union(sb)}`)).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(240);
  });

  it("dropConnection makes the call fail at the network level", async () => {
    sb.addFaults({ api: "getSpace", kind: "dropConnection", times: 1 });
    await expect(call(sb, "GET", `${storage(sb)}?${union(sb)}`)).rejects.toThrow();
  });

  it("truncate cuts the JSON short", async () => {
    sb.addFaults({ api: "getSpace", kind: "truncate", afterBytes: 10, times: 1 });
    await expect(call(sb, "GET", `${storage(sb)}?${union(sb)}`)).rejects.toThrow();
  });

  it("an unknown path answers a DingTalk-shaped 404", async () => {
    expectError(await call(sb, "GET", "/v1.0/nope"), 404, "InvalidAction.NotFound");
  });
});
