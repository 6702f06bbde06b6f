/**
 * Answers the sandbox never gives: malformed bodies, the IP-ban page, a nextToken that does not advance.
 * The sandbox always answers well-formed DingTalk JSON (it is a faithful DingTalk), so these cases use a
 * tiny node:http server that says whatever the test tells it to. The token call still answers properly.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDingTalkClient, DingTalkError, IP_BAN_RETRY_AFTER_MS } from "../../lib/dingtalk";
import {
  everythingIn,
  FAST_RETRY,
  failure,
  type Reply,
  recordingLogger,
  startScriptedDingTalk,
} from "./helpers";

const TOKEN = "garbage-server-token-0123456789";
const SECRET = "garbage-server-secret";
const SIGNATURE = "OSS LTAIxxxx:very-secret-signature=";

let server: Awaited<ReturnType<typeof startScriptedDingTalk>>;
let baseUrl: string;
let replies: Reply[] = [];
let paths: string[] = [];

beforeAll(async () => {
  // Repeat the last reply once the list runs out (for retried calls).
  server = await startScriptedDingTalk(
    TOKEN,
    "GARBAGE-REQ-1",
    () => (replies.length > 1 ? replies.shift() : replies[0]) ?? { status: 500, body: "" },
  );
  ({ baseUrl, urls: paths } = server);
});
afterAll(() => server?.close());
beforeEach(() => {
  replies = [];
  paths.length = 0;
});

const logger = recordingLogger();
const client = (base = baseUrl) =>
  createDingTalkClient({ baseUrl: base, appKey: "k", appSecret: SECRET, retry: FAST_RETRY, logger });
const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value) });
const apiCalls = () => paths.filter((p) => !p.includes("/oauth2/")).length;
const ids = { unionId: "u", spaceId: "s", dentryId: "d" };

describe("malformed answers are rejected at the boundary, naming the field", () => {
  it("download info without resourceUrls", async () => {
    replies = [
      json(200, {
        protocol: "HEADER_SIGNATURE",
        headerSignatureInfo: { headers: { Authorization: SIGNATURE } },
      }),
    ];
    const error = await failure(client().getFileDownloadInfo(ids));
    expect(error).toBeInstanceOf(DingTalkError);
    const e = error as DingTalkError;
    expect(e).toMatchObject({
      code: "InvalidResponse",
      status: 200,
      retryable: false,
      requestId: "GARBAGE-REQ-1",
    });
    expect(e.message).toContain("headerSignatureInfo.resourceUrls");
    expect(e.issues?.map((i) => i.path)).toEqual(["headerSignatureInfo.resourceUrls"]);
    expect(apiCalls()).toBe(1);
    expect(everythingIn(e)).not.toContain("very-secret-signature");
  });

  it("download info whose URL is not a URL, and whose headers are not strings", async () => {
    const signed = "https://x.trans.dingtalk.com/f?Signature=very-secret-signature";
    replies = [
      json(200, {
        protocol: "HEADER_SIGNATURE",
        headerSignatureInfo: { resourceUrls: ["not a url", signed], headers: { "x-oss-date": 17 } },
      }),
    ];
    const e = (await failure(client().getFileDownloadInfo(ids))) as DingTalkError;
    expect(e.code).toBe("InvalidResponse");
    expect(e.message).toContain("headerSignatureInfo.resourceUrls[0]");
    expect(e.message).toContain("headerSignatureInfo.headers.x-oss-date");
    expect(everythingIn(e)).not.toContain("very-secret-signature");
    expect(everythingIn(e)).not.toContain("not a url");
  });

  it("a FILE in a listing without its size", async () => {
    replies = [json(200, { dentries: [{ id: "1", type: "FILE", name: "a.txt" }] })];
    const e = (await failure(
      client().listDentriesPage({ unionId: "u", spaceId: "s", parentId: "0" }),
    )) as DingTalkError;
    expect(e).toMatchObject({ code: "InvalidResponse", api: "listDentries" });
    expect(e.message).toContain("dentries[0].size: a FILE must have a size");
  });

  it("a body that is not JSON, and an empty body", async () => {
    replies = [{ status: 200, body: "hello", contentType: "text/plain" }];
    expect(await failure(client().getDentry(ids))).toMatchObject({
      code: "InvalidResponse",
      retryable: false,
    });
    replies = [{ status: 200, body: "" }];
    const e = (await failure(client().getSpace({ unionId: "u", spaceId: "s" }))) as DingTalkError;
    expect(e.message).toContain("empty body");
    expect(apiCalls()).toBe(2);
  });

  it("accepts lenient variants: numeric ids and sizes, lowercase type, unknown fields and statuses", async () => {
    replies = [
      json(200, {
        dentry: {
          id: 42,
          spaceId: 7,
          type: "file",
          name: "a",
          size: "12",
          version: 3,
          status: "NEW_STATUS",
          extra: 1,
        },
      }),
    ];
    const dentry = await client().getDentry(ids);
    expect(dentry).toEqual({
      id: "42",
      spaceId: "7",
      type: "FILE",
      name: "a",
      size: 12,
      version: 3,
      status: "NEW_STATUS",
    });
  });
});

describe("the IP ban", () => {
  it("as an HTML page: retry later, with the 5-minute hint", async () => {
    replies = [
      {
        status: 403,
        body: "<!DOCTYPE html><html><body>Access denied</body></html>",
        contentType: "text/html",
      },
    ];
    const error = await failure(client().getDentry(ids));
    expect(error).toMatchObject({
      code: "IpBanned",
      status: 403,
      retryable: true,
      retryAfterMs: IP_BAN_RETRY_AFTER_MS,
    });
    expect(apiCalls()).toBe(1);
  });

  it('as {"status":1111,"wait":5}, even on HTTP 200', async () => {
    replies = [json(200, { status: 1111, wait: 5 })];
    expect(await failure(client().getDentry(ids))).toMatchObject({ code: "IpBanned", retryAfterMs: 300_000 });
    replies = [{ status: 403, body: JSON.stringify({ status: 1111, wait: 2 }), contentType: "text/plain" }];
    expect(await failure(client().getDentry(ids))).toMatchObject({ code: "IpBanned", retryAfterMs: 120_000 });
    expect(apiCalls()).toBe(2);
  });
});

describe("other answers", () => {
  it("a proxy's 502 HTML page is retried, then surfaces as HttpError", async () => {
    replies = [{ status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" }];
    const error = await failure(client().getDentry(ids));
    expect(error).toMatchObject({
      code: "HttpError",
      status: 502,
      retryable: true,
      requestId: "GARBAGE-REQ-1",
    });
    expect(apiCalls()).toBe(FAST_RETRY.maxAttempts);
  });

  it("a 502 then a good answer: success", async () => {
    replies = [{ status: 502, body: "" }, json(200, { space: { id: "s" } })];
    expect(await client().getSpace({ unionId: "u", spaceId: "s" })).toEqual({ id: "s" });
    expect(apiCalls()).toBe(2);
  });

  it("a nextToken that does not advance stops the listing instead of looping", async () => {
    replies = [json(200, { dentries: [{ id: "1", type: "FOLDER", name: "f" }], nextToken: "same" })];
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const d of client().listDentries({ unionId: "u", spaceId: "s", parentId: "0" }))
          seen.push(d.id);
      })(),
    );
    expect(error).toMatchObject({ code: "InvalidResponse", api: "listDentries" });
    expect(apiCalls()).toBe(2);
  });

  describe("download info", () => {
    const info = (extra: Record<string, unknown>) => ({
      protocol: "HEADER_SIGNATURE",
      headerSignatureInfo: {
        resourceUrls: ["https://h.example/f"],
        headers: { Authorization: SIGNATURE },
        ...extra,
      },
    });
    const ask = () => client().getFileDownloadInfo({ unionId: "u", spaceId: "s", dentryId: "d" });

    it.each([
      ["0", { expirationSeconds: 0 }],
      ["absent", {}],
    ])(
      "expirationSeconds %s is accepted: the URLs are refreshed when the host says they expired",
      async (_label, extra) => {
        replies = [json(200, info(extra))];
        const answer = await ask();
        expect(answer.headerSignatureInfo.resourceUrls).toEqual(["https://h.example/f"]);
        expect(answer.headerSignatureInfo.expirationSeconds ?? 0).toBe(0);
      },
    );

    it("another protocol fails with its own code, once, naming it", async () => {
      replies = [json(200, { protocol: "URL_SIGNATURE", urlSignatureInfo: { url: "https://h.example/f" } })];
      const error = await failure(ask());
      expect(error).toMatchObject({
        code: "UnsupportedDownloadProtocol",
        retryable: false,
        api: "getFileDownloadInfo",
      });
      expect((error as Error).message).toContain('"URL_SIGNATURE"; only HEADER_SIGNATURE is supported');
      expect(apiCalls()).toBe(1);
    });

    it("HEADER_SIGNATURE without its info is a malformed answer naming the field", async () => {
      replies = [json(200, { protocol: "HEADER_SIGNATURE" })];
      const error = await failure(ask());
      expect(error).toMatchObject({ code: "InvalidResponse" });
      expect((error as Error).message).toContain("headerSignatureInfo");
    });
  });

  it("keeps a path in the base URL (e.g. behind a gateway)", async () => {
    replies = [json(200, { space: { id: "s" } })];
    await client(`${baseUrl}/gw/dingtalk`).getSpace({ unionId: "u", spaceId: "s" });
    expect(paths).toEqual([
      "/gw/dingtalk/v1.0/oauth2/accessToken",
      "/gw/dingtalk/v1.0/storage/spaces/s?unionId=u",
    ]);
  });

  it("logs nothing secret", () => {
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const secret of [TOKEN, SECRET, "very-secret-signature"])
      expect(logger.text()).not.toContain(secret);
  });
});
