/**
 * handlePush as a plain function: the real crypto and event rules, an in-memory stand-in for the queue.
 * (The function test runs the same path against fauxqs and dynalite.)
 */
import { randomBytes } from "node:crypto";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { callbackKeys, callbackSignature, encryptMessage } from "../../lib/dingtalk-events/crypto";
import { handleDingTalkEvent, type PushDeps } from "../../lib/dingtalk-events/handle-push";
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
    ["a storage event with a slash in an id", { ...fileEvent("a/b") }],
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

describe("refused pushes", () => {
  it.each([
    [
      "a wrong signature",
      (p: ReturnType<typeof buildPush>) => withQuery(p, { msg_signature: "0".repeat(40) }),
    ],
    [
      "a tampered body",
      (p: ReturnType<typeof buildPush>) => ({
        query: p.query,
        body: { encrypt: encryptMessage(keys, "{}") },
      }),
    ],
    ["a changed nonce", (p: ReturnType<typeof buildPush>) => withQuery(p, { nonce: "other" })],
    [
      "a changed timestamp",
      (p: ReturnType<typeof buildPush>) => withQuery(p, { timestamp: String(NOW + 1) }),
    ],
  ])("401 for %s", async (_, tamper) => {
    const { queue, send } = setup();
    const result = await send(tamper(buildPush(fileEvent(), at())));
    expect(result.statusCode).toBe(401);
    expect(errorOf(result)).toMatchObject({
      code: "InvalidSignature",
      message: expect.stringMatching(/msg_signature/),
    });
    expect(queue.jobs).toEqual([]);
  });

  it("401 for a push signed with another token", async () => {
    const { send } = setup();
    const result = await send(buildPush(fileEvent(), at({ token: "not-our-token" })));
    expect(result.statusCode).toBe(401);
    expect(JSON.stringify(errorOf(result))).not.toContain(KEYS.token);
  });

  it.each([
    ["stale by 6 minutes", NOW - 360_000, "StaleTimestamp"],
    ["6 minutes in the future", NOW + 360_000, "StaleTimestamp"],
    ["stale in seconds", Math.floor(NOW / 1000) - 3600, "StaleTimestamp"],
  ])("401 for a timestamp %s, even correctly signed", async (_, timestamp, code) => {
    const { queue, send } = setup();
    const result = await send(buildPush(fileEvent(), at({ timestamp })));
    expect(result.statusCode).toBe(401);
    expect(errorOf(result)).toMatchObject({ code, message: expect.stringMatching(/limit is 300 s/) });
    expect(queue.jobs).toEqual([]);
  });

  it("accepts a timestamp just inside the window", async () => {
    const { send } = setup();
    expectSuccess(await send(buildPush(fileEvent(), at({ timestamp: NOW - 299_000 }))));
  });

  it.each([
    ["not a number", "yesterday"],
    ["negative", "-1"],
    ["a float", "1795497600000.5"],
  ])("401 for a timestamp that is %s", async (_, timestamp) => {
    const { send } = setup();
    const push = buildPush(fileEvent(), { ...KEYS, timestamp });
    const result = await send(push);
    expect(result.statusCode).toBe(401);
    expect(errorOf(result).code).toBe("InvalidTimestamp");
  });

  it.each(["msg_signature", "timestamp", "nonce"])("401 naming a missing %s", async (name) => {
    const { send } = setup();
    const push = buildPush(fileEvent(), at());
    const query: Record<string, string> = { ...push.query };
    delete query[name];
    const result = await send({ query, body: push.body });
    expect(result.statusCode).toBe(401);
    expect(errorOf(result).message).toContain(name);
  });

  it("401 for a message encrypted for another app (wrong owner key), nothing queued", async () => {
    const { queue, send } = setup();
    const result = await send(buildPush(fileEvent(), at({ appKey: "someone-else" })));
    expect(result.statusCode).toBe(401);
    expect(errorOf(result)).toMatchObject({ code: "WrongOwnerKey" });
    expect(queue.jobs).toEqual([]);
  });

  it.each([
    ["empty", ""],
    ["not JSON", "encrypt=abc"],
    ["JSON without encrypt", "{}"],
    ["encrypt not a string", '{"encrypt": 42}'],
    ["null", "null"],
  ])("400 for a body that is %s", async (_, raw) => {
    const { send } = setup();
    const result = await send(buildPush(fileEvent(), at()), raw);
    expect(result.statusCode).toBe(400);
  });

  it("400 for a correctly signed body that does not decrypt, naming why", async () => {
    const { send } = setup();
    const encrypt = randomBytes(64).toString("base64");
    const result = await send(signed(encrypt));
    expect(result.statusCode).toBe(400);
    expect(errorOf(result)).toMatchObject({ message: expect.stringMatching(/^Cannot decrypt the push: /) });
  });

  it("413 for an oversized body", async () => {
    const { send } = setup();
    const result = await send(buildPush(fileEvent(), at()), JSON.stringify({ encrypt: "A".repeat(70_000) }));
    expect(result.statusCode).toBe(413);
  });

  it("400 for anything but an HTTP event", async () => {
    const { deps } = setup();
    const result = await handleDingTalkEvent({ Records: [] }, lambdaContext(), async () => deps);
    expect(result.statusCode).toBe(400);
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
      expect.stringContaining('"code":"InvalidSignature"'),
      expect.stringContaining('"code":"WrongOwnerKey"'),
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
    expect([...statuses.keys()].sort()).toEqual([200, 400, 401]);
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
