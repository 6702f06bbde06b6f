/**
 * DingTalk answers the sandbox never gives: missing fields, wrong types, huge numbers, hostile names,
 * pollution keys, junk bodies and statuses. Why a tiny node:http server and not the sandbox: the sandbox is
 * a faithful DingTalk and always answers well-formed JSON, so it cannot exercise lib/dingtalk's zod boundary.
 *
 * Properties: every call either resolves with a value our code can rely on (the documented types, sizes and
 * versions safe integers, names non-empty strings, URLs parseable) or rejects with a DingTalkError whose
 * message names the field and never holds the access token or the app secret; and whatever the ids, each id
 * is exactly one path segment (or one query value) on the wire, or the client refuses it before sending.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDingTalkClient, type Dentry, DingTalkError } from "../../lib/dingtalk";
import { everythingIn, type Reply, startScriptedDingTalk } from "../dingtalk/helpers";
import { edgeNumber, hostileName, hostileString, jsonWithKeys, POLLUTION_KEYS, runs } from "./arbitraries";

const TOKEN = "fuzz-access-token-5f1d0c9a77e2";
const SECRET = "fuzz-app-secret-e8b1c2d3";

let server: Awaited<ReturnType<typeof startScriptedDingTalk>>;
let baseUrl: string;
let reply: Reply = { status: 200, body: "{}" };
let seen: string[] = [];

beforeAll(async () => {
  server = await startScriptedDingTalk(TOKEN, "FUZZ-REQ", (url) => {
    seen.push(url);
    return reply;
  });
  baseUrl = server.baseUrl;
});
afterAll(() => server?.close());

// One client for the whole file: its token is fetched once. Retries are instant and few.
const client = () =>
  createDingTalkClient({
    baseUrl,
    appKey: "fuzz",
    appSecret: SECRET,
    retry: { maxAttempts: 2, baseDelayMs: 0, qpsLimitDelayMs: 0, maxDelayMs: 0, maxTotalMs: 5_000 },
    timeoutMs: 5_000,
  });
let shared: ReturnType<typeof client>;
beforeAll(() => {
  shared = client();
});

const ids = { unionId: "u", spaceId: "s", dentryId: "d" };

// ── answers ───────────────────────────────────────────────────────────────────────────────────────

const VALID_DENTRY = {
  id: "3896576655862160",
  spaceId: "sandbox-space",
  parentId: "0",
  type: "FILE",
  name: "README.txt",
  size: 52,
  path: "/README.txt",
  version: 1,
  status: "NORMAL",
  extension: "txt",
  creatorId: "sandbox-union",
  modifierId: "sandbox-union",
  createTime: "2026-01-05T09:00Z",
  modifiedTime: "2026-01-05T09:00Z",
};

/** Values a broken or hostile answer puts where a field should be. */
const wrongValue = fc.oneof(
  fc.constant(undefined), // the field is missing
  fc.constant(null),
  fc.boolean(),
  edgeNumber,
  hostileString(20),
  fc.constantFrom("99999999999999999999", "9007199254740993", "-1", "1.5", "1e3", "0x10", " 12", "NaN"),
  fc.constantFrom("file", "folder", "FILE", "FOLDER", "Folder", "link", ""),
  jsonWithKeys(["id", "name", "size"], 2),
  hostileName,
);

/** A valid object with some of its fields replaced, removed, or joined by pollution keys. */
function mutated(valid: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(valid);
  return fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...keys, ...POLLUTION_KEYS), wrongValue), { maxLength: 4 }),
      fc.option(hostileName, { nil: undefined }),
    )
    .map(([changes, name]) => {
      const copy: Record<string, unknown> = { ...valid };
      if (name !== undefined) copy.name = name;
      for (const [key, value] of changes) {
        if (value === undefined) delete copy[key];
        else
          Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return copy;
    });
}

/** Sizes and versions as numbers or numeric strings (DingTalk's Java longs), past the safe-integer range too. */
const longValue = fc.oneof(
  edgeNumber,
  fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String),
  fc.constantFrom("9007199254740991", "9007199254740992", "99999999999999999999", "0", "00012"),
);

const dentryAnswer = fc.oneof(
  { weight: 4, arbitrary: mutated(VALID_DENTRY).map((dentry) => ({ dentry })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ size: longValue, version: longValue, type: fc.constantFrom("FILE", "file", "FOLDER") })
      .map((fields) => ({ dentry: { ...VALID_DENTRY, ...fields } })),
  },
  { weight: 1, arbitrary: jsonWithKeys(["dentry", "id", "name", "type", "size"]) },
);

const downloadInfoAnswer = fc
  .record({
    protocol: fc.oneof(fc.constant("HEADER_SIGNATURE"), wrongValue),
    headerSignatureInfo: fc.oneof(
      {
        weight: 4,
        arbitrary: mutated({
          resourceUrls: ["https://zjk.trans.dingtalk.com/f?Expires=1&Signature=sig"],
          headers: { Authorization: "OSS key:sig", "x-oss-date": "Mon, 05 Jan 2026 09:00:00 GMT" },
          expirationSeconds: 900,
          region: "ZHANGJIAKOU",
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          resourceUrls: fc.array(fc.oneof(hostileString(30), fc.webUrl(), wrongValue), { maxLength: 3 }),
          headers: fc.dictionary(fc.oneof(hostileString(10), fc.constantFrom(...POLLUTION_KEYS)), wrongValue),
          expirationSeconds: wrongValue,
        }),
      },
    ),
  })
  .map((answer) => JSON.parse(JSON.stringify(answer)) as unknown);

const listAnswer = fc.record({
  dentries: fc.oneof(fc.array(mutated(VALID_DENTRY), { maxLength: 4 }), wrongValue),
  nextToken: fc.oneof(fc.constant(undefined), hostileString(20), wrongValue),
});

const linkAnswer = fc.oneof(
  mutated({ id: "1", conversationId: "cid", name: "a.pdf", size: 3, type: "file" }).map((file) => ({ file })),
  jsonWithKeys(["file", "id"]),
);

/** A body as text: the answer as JSON, or junk, with a status that is usually 200. */
function replyOf(answer: fc.Arbitrary<unknown>): fc.Arbitrary<Reply> {
  return fc.oneof(
    { weight: 6, arbitrary: answer.map((a) => ({ status: 200, body: JSON.stringify(a) ?? "" })) },
    {
      weight: 1,
      arbitrary: fc.record({
        status: fc.constantFrom(200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503),
        body: fc.oneof(
          hostileString(60),
          fc.constantFrom("", "<html>banned</html>", "null", "[]", '"text"', "1e999", '{"status":1111}'),
          // Error bodies, some echoing what a broken proxy might: the token and the secret.
          fc
            .record({
              code: fc.oneof(
                hostileString(20),
                fc.constantFrom("paramError", "systemError", "fileArchived"),
                wrongValue,
              ),
              message: fc.oneof(
                hostileString(40),
                fc.constantFrom(
                  `token ${TOKEN} refused`,
                  `secret=${SECRET}`,
                  `https://h/x?Signature=${TOKEN}`,
                ),
              ),
              requestid: fc.oneof(hostileString(20), wrongValue),
            })
            .map((b) => JSON.stringify(b)),
        ),
        contentType: fc.constantFrom("application/json", "text/html", "text/plain"),
      }),
    },
  );
}

// ── invariants ─────────────────────────────────────────────────────────────────────────────────────

function checkDentry(dentry: Dentry) {
  expect(typeof dentry.id === "string" && dentry.id !== "", "id is a non-empty string").toBe(true);
  expect(typeof dentry.name === "string" && dentry.name !== "", "name is a non-empty string").toBe(true);
  expect(["FILE", "FOLDER"]).toContain(dentry.type);
  if (dentry.type === "FILE") {
    expect(Number.isSafeInteger(dentry.size) && (dentry.size as number) >= 0, `size ${dentry.size}`).toBe(
      true,
    );
  }
  if (dentry.version !== undefined) {
    expect(Number.isSafeInteger(dentry.version) && dentry.version >= 0, `version ${dentry.version}`).toBe(
      true,
    );
  }
  expect(Object.getPrototypeOf(dentry)).toBe(Object.prototype);
}

/** The call resolved (checked by `check`) or failed as a DingTalkError that leaks nothing. */
async function outcome<T>(call: Promise<T>, check: (value: T) => void): Promise<void> {
  let value: T;
  try {
    value = await call;
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(DingTalkError);
    const e = error as DingTalkError;
    expect(typeof e.code).toBe("string");
    expect(e.message.length).toBeGreaterThan(0);
    if (e.code === "InvalidResponse" && e.issues) {
      for (const issue of e.issues) expect(e.message.includes(issue.path) || e.issues.length > 5).toBe(true);
    }
    const all = everythingIn(e);
    expect(all.includes(TOKEN), "the error holds the access token").toBe(false);
    expect(all.includes(SECRET), "the error holds the app secret").toBe(false);
    expect(/Signature=/.test(all), "the error holds a signed URL's query").toBe(false);
    return;
  }
  check(value);
}

describe("malformed and hostile answers", () => {
  it("getDentry: a usable dentry or a DingTalkError naming the field", async () => {
    await fc.assert(
      fc.asyncProperty(replyOf(dentryAnswer), async (r) => {
        reply = r;
        await outcome(shared.getDentry(ids), checkDentry);
      }),
      runs(400),
    );
  });

  it("getFileDownloadInfo: parseable URLs and string headers, or a DingTalkError", async () => {
    await fc.assert(
      fc.asyncProperty(replyOf(downloadInfoAnswer), async (r) => {
        reply = r;
        await outcome(shared.getFileDownloadInfo(ids), (info) => {
          const { resourceUrls, headers, expirationSeconds } = info.headerSignatureInfo;
          expect(resourceUrls.length).toBeGreaterThan(0);
          for (const url of resourceUrls) expect(URL.canParse(url), url).toBe(true);
          for (const value of Object.values(headers)) expect(typeof value).toBe("string");
          if (expirationSeconds !== undefined) expect(Number.isSafeInteger(expirationSeconds)).toBe(true);
        });
      }),
      runs(300),
    );
  });

  it("listDentriesPage: every dentry usable, or a DingTalkError", async () => {
    await fc.assert(
      fc.asyncProperty(replyOf(listAnswer), async (r) => {
        reply = r;
        await outcome(shared.listDentriesPage({ unionId: "u", spaceId: "s", parentId: "0" }), (page) => {
          expect(Array.isArray(page.dentries)).toBe(true);
          page.dentries.forEach(checkDentry);
          if (page.nextToken !== undefined) expect(typeof page.nextToken).toBe("string");
        });
      }),
      runs(300),
    );
  });

  it("sendFileLink: a 2xx JSON object comes back as DingTalk sent it, anything else is a DingTalkError", async () => {
    await fc.assert(
      fc.asyncProperty(replyOf(linkAnswer), async (r) => {
        reply = r;
        await outcome(shared.sendFileLink({ ...ids, openConversationId: "cid" }), (answer) => {
          // A posted link is a success whatever fields the answer holds: refusing it would invite a resend.
          expect(r.status).toBeLessThan(300);
          expect(answer).toEqual(JSON.parse(r.body));
        });
      }),
      runs(300),
    );
  });
});

describe("ids on the wire", () => {
  const anyId = fc.oneof(
    {
      weight: 1,
      arbitrary: fc.constantFrom(".", "..", "%2e%2e", ".%2e", "a/b", "?x=1", "#", "a b", "\ud800"),
    },
    { weight: 4, arbitrary: hostileString(16).filter((s) => s !== "") },
  );

  it("each id is exactly one path segment or one query value, or the call is refused before sending", async () => {
    reply = { status: 200, body: JSON.stringify({ dentry: VALID_DENTRY }) };
    await fc.assert(
      fc.asyncProperty(anyId, anyId, anyId, async (spaceId, dentryId, unionId) => {
        seen = [];
        try {
          await shared.getDentry({ spaceId, dentryId, unionId });
        } catch (error) {
          // Refused by the client itself, naming the id, before any request.
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(/spaceId|dentryId|unionId/);
          expect(seen).toEqual([]);
          return;
        }
        expect(seen).toHaveLength(1);
        const url = new URL(seen[0] as string, baseUrl);
        const segments = url.pathname.split("/").map(decodeURIComponent);
        expect(segments).toEqual(["", "v1.0", "storage", "spaces", spaceId, "dentries", dentryId, "query"]);
        expect(url.searchParams.get("unionId")).toBe(unionId);
      }),
      runs(600),
    );
  });
});
