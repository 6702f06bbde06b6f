/**
 * DingTalk's encrypted HTTP push through the real handler (functions/dingtalk-events/handler.ts), with
 * fauxqs for the archive queue and dynalite for idempotency records: random query parameters, random
 * `encrypt` strings, validly signed garbage ciphertext, and validly encrypted pushes (sandbox/push.ts,
 * written apart from lib/dingtalk-events) of random events.
 *
 * Properties: never a 5xx nor an unhandled rejection; unsigned or undecryptable pushes are refused (401 /
 * 400) naming the problem and queue nothing; every authentic push is acknowledged with the encrypted
 * "success" (DingTalk would retry anything else), and queues at most one job, only for a file
 * create/update event, carrying exactly the event's ids.
 */
import { randomBytes } from "node:crypto";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import fc from "fast-check";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { archiveJobSchema } from "../../lib/archive-worker/archive-job";
import { callbackSignature } from "../../lib/dingtalk-events/crypto";
import { PUSH_REFUSED } from "../../lib/dingtalk-events/handle";
import { buildPush, openReply } from "../../sandbox/push";
import { pushHttpEvent } from "../dingtalk-events/helpers";
import {
  EVENT_KEYS,
  errorOf,
  invoke,
  QUEUES,
  useHandler,
  useStack,
  watchRejections,
} from "../support/handler-stack";
import { REAL_IDS } from "../support/real-ids";
import { edgeNumber, hostileBody, hostileString, jsonWithKeys, longString, runs } from "./arbitraries";

const rejections = watchRejections();
afterEach(() => rejections.check());

const stack = useStack();
const handler = useHandler("dingtalk-events");

afterAll(async () => {
  rejections.stop();
});

beforeEach(() => stack.emulator.reset());

let counter = 0;
const unique = () => `${Date.now()}-${++counter}`;
const queued = () => stack.messages(QUEUES.archive) as Array<Record<string, unknown>>;

async function send(
  push: { query: Record<string, string>; body: unknown },
  rawBody?: string,
): Promise<APIGatewayProxyStructuredResultV2> {
  return invoke<APIGatewayProxyStructuredResultV2>(handler, pushHttpEvent(push, rawBody));
}

function checkRefusal(result: APIGatewayProxyStructuredResultV2, statuses: number[]) {
  expect(statuses, result.body).toContain(result.statusCode);
  const error = errorOf(result);
  expect(error.code.length).toBeGreaterThan(0);
  expect(error.message.length).toBeGreaterThan(10);
  return error;
}

/** A push correctly signed over this exact `encrypt`, so the decryption path is what gets tested. */
function signedOver(encrypt: string, timestamp = String(Date.now())) {
  const nonce = randomBytes(6).toString("base64url");
  return {
    query: {
      msg_signature: callbackSignature(EVENT_KEYS.token, timestamp, nonce, encrypt),
      timestamp,
      nonce,
    },
    body: { encrypt },
  };
}

const QUERY_NAMES = ["msg_signature", "signature", "timestamp", "timeStamp", "nonce"];

describe("unsigned pushes", () => {
  it("random query parameters and bodies are refused (400/401/413) and queue nothing", async () => {
    const query = fc.dictionary(
      fc.oneof(fc.constantFrom(...QUERY_NAMES), hostileString(8)),
      fc.oneof(
        hostileString(40),
        fc.constant("").map(() => String(Date.now())),
        fc.constantFrom(
          "",
          "0",
          "-1",
          "1e3",
          "99999999999999999",
          "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        longString(10, 5000),
      ),
      { maxKeys: 6 },
    );
    const body = fc.oneof(
      hostileBody(["encrypt"]),
      fc
        .oneof(hostileString(60), fc.base64String({ maxLength: 200 }))
        .map((encrypt) => JSON.stringify({ encrypt })),
    );
    await fc.assert(
      fc.asyncProperty(query, body, async (q, raw) => {
        const result = await send({ query: q, body: {} }, raw);
        checkRefusal(result, [400, 401, 413]);
      }),
      runs(400),
    );
    expect(queued()).toEqual([]);
  });
});

describe("signed pushes that do not decrypt", () => {
  it("random encrypt strings: the one generic 401 whatever the reason, nothing queued", async () => {
    const encrypt = fc.oneof(
      hostileString(60).filter((s) => s !== ""),
      fc.base64String({ minLength: 1, maxLength: 400 }),
      fc.integer({ min: 1, max: 12 }).map((blocks) => randomBytes(32 * blocks).toString("base64")),
      fc.integer({ min: 1, max: 200 }).map((n) => randomBytes(n).toString("base64")),
      fc.integer({ min: 1, max: 200 }).map((n) => randomBytes(n).toString("base64url")),
    );
    await fc.assert(
      fc.asyncProperty(encrypt, async (e) => {
        const result = await send(signedOver(e));
        const error = checkRefusal(result, [401]);
        expect(error).toMatchObject({ code: PUSH_REFUSED.code, message: PUSH_REFUSED.message });
      }),
      runs(400),
    );
    expect(queued()).toEqual([]);
  });

  it("a real push with its ciphertext altered and re-signed: refused or acknowledged, never a 5xx, queues at most the original", async () => {
    const dentryId = () => stack.sandbox.dentryIdByPath("README.txt") as string;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
        stack.emulator.reset();
        const event = {
          EventType: "storage_dentry_create",
          eventId: unique(),
          spaceId: "sandbox-space",
          dentryId: dentryId(),
          type: "FILE",
        };
        const sealed = Buffer.from(buildPush(event, EVENT_KEYS).body.encrypt, "base64");
        const i = at % sealed.length;
        sealed[i] = (sealed[i] as number) ^ mask;
        const result = await send(signedOver(sealed.toString("base64")));
        expect(result.statusCode, result.body).toBeLessThan(500);
        if (result.statusCode !== 200) checkRefusal(result, [400, 401]);
        for (const job of queued())
          expect(job).toMatchObject({ spaceId: "sandbox-space", dentryId: dentryId() });
      }),
      runs(200),
    );
  });
});

describe("authentic pushes of random events", () => {
  const idValue = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom("sandbox-space", "1234567890", "sandbox-union", ...REAL_IDS.all),
    },
    { weight: 2, arbitrary: hostileString(16) },
    { weight: 1, arbitrary: fc.oneof(edgeNumber, fc.constant(null), fc.boolean(), jsonWithKeys(["id"], 1)) },
    { weight: 1, arbitrary: fc.constantFrom(".", "..", "\ud800", "", " ", "\ufffe", "x".repeat(300)) },
  );
  const event = fc.record(
    {
      EventType: fc.oneof(
        fc.constantFrom(
          "storage_dentry_create",
          "storage_dentry_update",
          "storage_dentry_delete",
          "check_url",
        ),
        hostileString(20),
        edgeNumber,
      ),
      spaceId: idValue,
      dentryId: idValue,
      unionId: idValue,
      type: fc.oneof(fc.constantFrom("FILE", "FOLDER", "file"), idValue),
      eventId: fc.oneof(
        fc.constant(null).map(unique),
        fc.nat().map((n) => n * 1e6 + ++counter),
        fc.constant(null),
      ),
      BizId: fc.oneof(fc.constant(null).map(unique), fc.boolean()),
      extra: jsonWithKeys(["EventType", "spaceId"], 2),
    },
    { requiredKeys: [] },
  );

  it("are acknowledged with the encrypted success, and queue one job only for a valid file create/update", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          event.map((e) => JSON.stringify(e)),
          hostileString(80),
        ),
        async (plaintext) => {
          stack.emulator.reset();
          const result = await send(buildPush(plaintext, EVENT_KEYS));
          expect(result.statusCode, result.body).toBe(200);
          expect(openReply(JSON.parse(result.body as string), EVENT_KEYS)).toBe("success");
          const jobs = queued();
          expect(jobs.length).toBeLessThanOrEqual(1);
          if (jobs.length === 0) return;
          const sent = JSON.parse(plaintext) as Record<string, unknown>;
          expect(["storage_dentry_create", "storage_dentry_update"]).toContain(sent.EventType);
          expect(sent.type).toBe("FILE");
          const job = jobs[0] as Record<string, unknown>;
          expect(archiveJobSchema.safeParse(job).success).toBe(true);
          expect(job.spaceId).toBe(String(sent.spaceId).trim());
          expect(job.dentryId).toBe(String(sent.dentryId).trim());
        },
      ),
      runs(300),
    );
  });

  it("a timestamp outside the 5-minute window is refused (401), inside it accepted, whatever its spelling", async () => {
    const skewSeconds = fc.oneof(fc.integer({ min: -3600, max: 3600 }), fc.integer({ min: -1e9, max: 1e9 }));
    await fc.assert(
      fc.asyncProperty(skewSeconds, fc.boolean(), fc.boolean(), async (skew, inSeconds, oldSpelling) => {
        fc.pre(Math.abs(Math.abs(skew) - 300) > 2); // not on the edge, where the clock moves during the call
        const at = Date.now() + skew * 1000;
        const timestamp = inSeconds ? String(Math.floor(at / 1000)) : String(at);
        fc.pre(/^\d{1,16}$/.test(timestamp));
        const push = buildPush({ EventType: "check_url" }, { ...EVENT_KEYS, timestamp });
        const query: Record<string, string> = oldSpelling
          ? { signature: push.query.msg_signature, timeStamp: push.query.timestamp, nonce: push.query.nonce }
          : push.query;
        const result = await send({ query, body: push.body });
        if (Math.abs(skew) < 300) expect(result.statusCode, result.body).toBe(200);
        else expect(checkRefusal(result, [401]).code).toBe(PUSH_REFUSED.code);
      }),
      runs(200),
    );
  });
});
