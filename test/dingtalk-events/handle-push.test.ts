/**
 * handlePush as a plain function: the real crypto and event rules, an in-memory stand-in for the queue.
 * (The function test runs the same path against fauxqs and dynalite.)
 */
import { randomBytes } from "node:crypto";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { callbackKeys, callbackSignature, encryptMessage } from "../../lib/dingtalk-events/crypto";
import { handleDingTalkEvent, type PushDeps } from "../../lib/dingtalk-events/handle";
import { buildPush, openReply, storageEvent } from "../../sandbox/push";
import { lambdaContext } from "../support/lambda";
import { KEYS, memoryQueue, pushHttpEvent, withQuery } from "./helpers";

const NOW = 1_795_497_600_000;
const keys = callbackKeys(KEYS.token, KEYS.aesKey, KEYS.appKey);

function setup() {
  const queue = memoryQueue();
  const deps: PushDeps = {
    keys,
    enqueueOnce: queue.enqueueOnce,
    maxSkewMs: 300_000,
    maxBodyBytes: 64 * 1024,
    allowedUnionIds: ["operator-1"],
    now: () => NOW,
  };
  const send = (push: { query: Record<string, string>; body: unknown }, rawBody?: string) =>
    handleDingTalkEvent(pushHttpEvent(push, rawBody), lambdaContext(), async () => deps);
  return { queue, deps, send };
}

const at = (options: { timestamp?: number; appKey?: string; token?: string } = {}) => ({
  ...KEYS,
  ...options,
  timestamp: options.timestamp ?? NOW,
});

function errorOf(result: APIGatewayProxyStructuredResultV2) {
  return (JSON.parse(result.body as string) as { error: { code: string; message: string } }).error;
}

function expectSuccess(result: APIGatewayProxyStructuredResultV2) {
  expect(result.statusCode).toBe(200);
  expect(result.headers?.["content-type"]).toMatch(/application\/json/);
  expect(openReply(JSON.parse(result.body as string), KEYS)).toBe("success");
}

const fileEvent = (dentryId = "1001", extra: Partial<Parameters<typeof storageEvent>[1]> = {}) =>
  storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId, ...extra });

describe("accepted pushes", () => {
  it("queues one archive job for a created file and answers the encrypted success", async () => {
    const { queue, send } = setup();
    const event = fileEvent("1001", { eventId: "evt-1", unionId: "operator-1" });
    expectSuccess(await send(buildPush(event, at())));
    expect(queue.jobs).toEqual([
      { key: "event:evt-1", request: { spaceId: "sandbox-space", dentryId: "1001", unionId: "operator-1" } },
    ]);
  });

  it("acts as the user who changed the file only if ALLOWED_UNION_IDS lists them, else as the default operator", async () => {
    const { queue, send } = setup();
    const event = fileEvent("1002", { eventId: "evt-2", unionId: "ZsGGk1JnRAiPDsm8WQiSYrAiEiE" });
    expectSuccess(await send(buildPush(event, at())));
    expect(queue.jobs).toEqual([
      { key: "event:evt-2", request: { spaceId: "sandbox-space", dentryId: "1002" } },
    ]);
  });

  it("acknowledges and ignores a file of a space outside ARCHIVE_SOURCES (it would cost 2 calls)", async () => {
    const { queue, deps, send } = setup();
    deps.archiveSpaces = new Set(["sandbox-space"]);
    const outside = storageEvent("storage_dentry_create", {
      spaceId: "other-space",
      dentryId: "7",
      eventId: "o",
    });
    expectSuccess(await send(buildPush(outside, at())));
    expect(queue.jobs).toEqual([]);
    expectSuccess(await send(buildPush(fileEvent("8", { eventId: "in" }), at())));
    expect(queue.jobs.map((j) => j.request.dentryId)).toEqual(["8"]);
  });

  it("queues an updated file too", async () => {
    const { queue, send } = setup();
    const event = storageEvent("storage_dentry_update", { spaceId: "s", dentryId: "d", eventId: "evt-u" });
    expectSuccess(await send(buildPush(event, at())));
    expect(queue.jobs.map((j) => j.request.dentryId)).toEqual(["d"]);
  });

  it("answers check_url with the encrypted success and queues nothing", async () => {
    const { queue, send } = setup();
    expectSuccess(await send(buildPush({ EventType: "check_url" }, at())));
    expect(queue.jobs).toEqual([]);
  });

  it.each([
    [
      "a folder created",
      storageEvent("storage_dentry_create", { spaceId: "s", dentryId: "f", type: "FOLDER" }),
    ],
    [
      "a folder updated",
      storageEvent("storage_dentry_update", { spaceId: "s", dentryId: "f", type: "FOLDER" }),
    ],
    [
      "a file deleted (the archive keeps its copy)",
      storageEvent("storage_dentry_delete", { spaceId: "s", dentryId: "d" }),
    ],
    ["an address-book event", { EventType: "user_add_org", UserId: ["u1"], CorpId: "ding1" }],
    ["a suite ticket", { EventType: "suite_ticket", SuiteTicket: "t" }],
    [
      "a storage event missing its dentryId",
      { EventType: "storage_dentry_create", spaceId: "s", type: "FILE" },
    ],
    ["a storage event with a control character in an id", { ...fileEvent("a\u0000b") }],
    ["a storage event without type", { EventType: "storage_dentry_create", spaceId: "s", dentryId: "d" }],
    ["a JSON array", [1, 2]],
    ["a message without EventType", { eventType: "storage_dentry_create" }],
    ["a message that is not JSON", "plain text"],
  ])("acknowledges %s and queues nothing", async (_, event) => {
    const { queue, send } = setup();
    expectSuccess(await send(buildPush(event, at())));
    expect(queue.jobs).toEqual([]);
  });

  it("accepts DingTalk's older spellings `signature` and `timeStamp`, and a timestamp in seconds", async () => {
    const { queue, send } = setup();
    const push = buildPush(fileEvent("2001"), at({ timestamp: Math.floor(NOW / 1000) }));
    const { msg_signature, timestamp, nonce } = push.query;
    expectSuccess(
      await send({ query: { signature: msg_signature, timeStamp: timestamp, nonce }, body: push.body }),
    );
    expect(queue.jobs).toHaveLength(1);
  });

  it("queues once for the same push twice and for a retry re-encrypted by DingTalk (same eventId)", async () => {
    const { queue, send } = setup();
    const event = fileEvent("3001", { eventId: "evt-retry" });
    const push = buildPush(event, at());
    expectSuccess(await send(push));
    expectSuccess(await send(push));
    expectSuccess(await send(buildPush(event, at({ timestamp: NOW + 10_000 }))));
    expect(queue.jobs).toHaveLength(1);
  });

  it("without eventId or BizId, keys the job by the event's content", async () => {
    const { queue, send } = setup();
    const { eventId: _, BizId: __, ...event } = fileEvent("4001");
    expectSuccess(await send(buildPush(event, at())));
    expectSuccess(await send(buildPush(event, at())));
    expectSuccess(await send(buildPush({ ...event, dentryId: "4002" }, at())));
    expect(queue.jobs.map((j) => j.key)).toEqual([
      expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    ]);
  });
});

type Push = { query: Record<string, string>; body: unknown };
const without = (p: Push, name: string) => {
  const query = { ...p.query };
  delete query[name];
  return { query, body: p.body };
};

/** Every way a push can fail verification or decryption, with the reason the log gives (the sender never sees it). */
const REFUSALS: Array<[string, () => { push: Push; raw?: string }, string]> = [
  [
    "a wrong signature",
    () => ({ push: withQuery(buildPush(fileEvent(), at()), { msg_signature: "0".repeat(40) }) }),
    "InvalidSignature",
  ],
  [
    "a tampered body",
    () => ({
      push: { query: buildPush(fileEvent(), at()).query, body: { encrypt: encryptMessage(keys, "{}") } },
    }),
    "InvalidSignature",
  ],
  [
    "a changed nonce",
    () => ({ push: withQuery(buildPush(fileEvent(), at()), { nonce: "other" }) }),
    "InvalidSignature",
  ],
  [
    "a changed timestamp",
    () => ({ push: withQuery(buildPush(fileEvent(), at()), { timestamp: String(NOW + 1) }) }),
    "InvalidSignature",
  ],
  [
    "another token",
    () => ({ push: buildPush(fileEvent(), at({ token: "not-our-token" })) }),
    "InvalidSignature",
  ],
  [
    "a timestamp stale by 6 minutes",
    () => ({ push: buildPush(fileEvent(), at({ timestamp: NOW - 360_000 })) }),
    "StaleTimestamp",
  ],
  [
    "a timestamp 6 minutes ahead",
    () => ({ push: buildPush(fileEvent(), at({ timestamp: NOW + 360_000 })) }),
    "StaleTimestamp",
  ],
  [
    "a stale timestamp in seconds",
    () => ({ push: buildPush(fileEvent(), at({ timestamp: Math.floor(NOW / 1000) - 3600 })) }),
    "StaleTimestamp",
  ],
  [
    "a timestamp that is not a number",
    () => ({ push: buildPush(fileEvent(), { ...KEYS, timestamp: "yesterday" }) }),
    "InvalidTimestamp",
  ],
  [
    "a negative timestamp",
    () => ({ push: buildPush(fileEvent(), { ...KEYS, timestamp: "-1" }) }),
    "InvalidTimestamp",
  ],
  [
    "a float timestamp",
    () => ({ push: buildPush(fileEvent(), { ...KEYS, timestamp: "1795497600000.5" }) }),
    "InvalidTimestamp",
  ],
  [
    "no msg_signature",
    () => ({ push: without(buildPush(fileEvent(), at()), "msg_signature") }),
    "InvalidSignature",
  ],
  ["no timestamp", () => ({ push: without(buildPush(fileEvent(), at()), "timestamp") }), "InvalidSignature"],
  ["no nonce", () => ({ push: without(buildPush(fileEvent(), at()), "nonce") }), "InvalidSignature"],
  [
    "a message for another app (owner key)",
    () => ({ push: buildPush(fileEvent(), at({ appKey: "someone-else" })) }),
    "WrongOwnerKey",
  ],
  ["a signed body that is not base64", () => ({ push: signed("not base64!") }), "InvalidBase64"],
  [
    "a signed body of the wrong length",
    () => ({ push: signed(randomBytes(48).toString("base64")) }),
    "InvalidLength",
  ],
  ["a signed body with bad padding", () => ({ push: signed(randomBytes(64).toString("base64")) }), "Invalid"],
  ["an empty body", () => ({ push: buildPush(fileEvent(), at()), raw: "" }), "InvalidRequest"],
  [
    "a body that is not JSON",
    () => ({ push: buildPush(fileEvent(), at()), raw: "encrypt=abc" }),
    "InvalidJson",
  ],
  ["a body without encrypt", () => ({ push: buildPush(fileEvent(), at()), raw: "{}" }), "InvalidRequest"],
  [
    "encrypt not a string",
    () => ({ push: buildPush(fileEvent(), at()), raw: '{"encrypt": 42}' }),
    "InvalidRequest",
  ],
];

describe("refused pushes: one answer whatever the reason (no oracle)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers every verification or decryption failure with the same status and body, queues nothing, and logs why", async () => {
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    }
    const answers = new Set<string>();
    for (const [what, make, reason] of REFUSALS) {
      const { queue, send } = setup();
      const { push, raw } = make();
      lines.length = 0;
      const result = await send(push, raw);
      expect(result.statusCode, what).toBe(401);
      const { requestId: _, ...error } = errorOf(result) as { requestId?: string };
      answers.add(JSON.stringify({ status: result.statusCode, headers: result.headers, error }));
      expect(queue.jobs, what).toEqual([]);
      const logged = lines.find((l) => l.includes("DingTalk push refused"));
      expect(logged, what).toContain(`"reason":"${reason}`);
    }
    expect([...answers]).toEqual([
      JSON.stringify({
        status: 401,
        headers: { "content-type": "application/json; charset=utf-8" },
        error: { code: "InvalidPush", message: "The push could not be verified" },
      }),
    ]);
  });

  it("accepts a timestamp just inside the window", async () => {
    const { send } = setup();
    expectSuccess(await send(buildPush(fileEvent(), at({ timestamp: NOW - 299_000 }))));
  });

  it("413 for an oversized body", async () => {
    const { send } = setup();
    const result = await send(buildPush(fileEvent(), at()), JSON.stringify({ encrypt: "A".repeat(70_000) }));
    expect(result.statusCode).toBe(413);
  });

  it("refuses anything but an HTTP event with a 400 error naming the trigger (as every function does)", async () => {
    const { deps } = setup();
    const sqs = { Records: [{ eventSource: "aws:sqs", messageId: "m-0", body: "{}" }] };
    // Not an HTTP caller, so no HTTP answer: the invocation fails, and the invoker or the queue sees it.
    await expect(handleDingTalkEvent(sqs, lambdaContext(), async () => deps)).rejects.toMatchObject({
      status: 400,
      code: "UnsupportedTrigger",
      message: expect.stringMatching(/dingtalk-events does not take SQS events; it takes HTTP/),
    });
  });

  it("5xx when the job cannot be queued, so DingTalk retries", async () => {
    const { deps } = setup();
    const failing: PushDeps = {
      ...deps,
      enqueueOnce: Object.assign(
        async () => {
          throw new Error("SQS unavailable");
        },
        { registerLambdaContext: () => undefined },
      ),
    };
    const result = await handleDingTalkEvent(
      pushHttpEvent(buildPush(fileEvent(), at())),
      lambdaContext(),
      async () => failing,
    );
    expect(result.statusCode).toBe(500);
  });
});

describe("logging", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs a refusal with its code and the sender's IP, and no line carries a secret or the ciphertext", async () => {
    // Powertools writes one JSON line per entry (warnings and errors to stderr); read them as CloudWatch would.
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    }
    const { send } = setup();
    const accepted = buildPush(fileEvent("5001"), at());
    await send(accepted);
    await send(buildPush(fileEvent(), at({ token: "wrong" })));
    await send(buildPush(fileEvent(), at({ appKey: "other" })));
    await send(buildPush({ EventType: "storage_dentry_create" }, at()));
    expect(lines.find((l) => l.includes("archive job queued"))).toContain('"dentryId":"5001"');
    expect(lines.filter((l) => l.includes('"level":"WARN"') && l.includes("request refused"))).toEqual([
      expect.stringContaining('"code":"InvalidPush"'),
      expect.stringContaining('"code":"InvalidPush"'),
    ]);
    expect(lines.filter((l) => l.includes("DingTalk push refused"))).toEqual([
      expect.stringContaining('"reason":"InvalidSignature"'),
      expect.stringContaining('"reason":"WrongOwnerKey"'),
    ]);
    const entries = lines.filter((l) =>
      /"message":"(archive job queued|request refused|DingTalk event unusable)/.test(l),
    );
    expect(entries).toHaveLength(4);
    for (const entry of entries) expect(entry).toContain('"sourceIp":"203.0.113.20"');
    expect(lines.find((l) => l.includes('"level":"ERROR"'))).toMatch(/unusable.*spaceId is required/);
    for (const line of lines) {
      expect(line).not.toContain(KEYS.token);
      expect(line).not.toContain(KEYS.aesKey);
      expect(line).not.toContain(accepted.body.encrypt.slice(0, 24));
    }
  });
});

/** A push with this exact `encrypt` string, correctly signed (so the decryption path is what is tested). */
function signed(encrypt: string) {
  const push = buildPush({}, at());
  const query = {
    ...push.query,
    msg_signature: signatureFor(encrypt, push.query.timestamp, push.query.nonce),
  };
  return { query, body: { encrypt } };
}

function signatureFor(encrypt: string, timestamp: string, nonce: string) {
  return callbackSignature(KEYS.token, timestamp, nonce, encrypt);
}

describe("fuzz: random pushes never answer 5xx nor leave an unhandled rejection", () => {
  it("holds for 600 random bodies, signed and unsigned", async () => {
    const { send, queue } = setup();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    const statuses = new Map<number, number>();
    try {
      for (let i = 0; i < 600; i++) {
        const result = await send(...randomPush(i));
        statuses.set(result.statusCode ?? 0, (statuses.get(result.statusCode ?? 0) ?? 0) + 1);
        expect(result.statusCode).toBeLessThan(500);
        expect(() => JSON.parse(result.body as string)).not.toThrow();
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onRejection);
    }
    expect(rejections).toEqual([]);
    // Every branch was reached: refusals, undecryptable bodies, and accepted random messages.
    // Refusals are all the one generic 401 (no 400 that would tell "signed, but undecryptable").
    expect([...statuses.keys()].sort()).toEqual([200, 401]);
    expect(queue.jobs).toEqual([]);
  });
});

function randomPush(i: number): [{ query: Record<string, string>; body: unknown }, string?] {
  const bytes = randomBytes(1 + (i % 97) * 3);
  switch (i % 6) {
    case 0: // raw random bytes as the body, random query
      return [
        { query: { msg_signature: bytes.toString("hex"), timestamp: String(NOW), nonce: "n" }, body: {} },
        bytes.toString("latin1"),
      ];
    case 1: // a random base64 string, correctly signed: reaches the decryption checks
      return [signed(bytes.toString("base64"))];
    case 2: // random ciphertext of a valid length, correctly signed
      return [signed(randomBytes(32 * (1 + (i % 5))).toString("base64"))];
    case 3: // a valid encryption of random bytes: reaches the event parser
      return [signed(encryptMessage(keys, bytes.toString("latin1")))];
    case 4: {
      // a real push with one ciphertext byte flipped, re-signed
      const sealed = Buffer.from(buildPush(fileEvent(), at()).body.encrypt, "base64");
      sealed[i % sealed.length] = (sealed[i % sealed.length] as number) ^ (1 + (i % 255));
      return [signed(sealed.toString("base64"))];
    }
    default: // random JSON-ish values in the body
      return [
        buildPush(fileEvent(), at()),
        JSON.stringify({ encrypt: [null, 1, {}, bytes.toString("hex"), true][i % 5] }),
      ];
  }
}
