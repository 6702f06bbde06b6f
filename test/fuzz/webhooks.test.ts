/**
 * The signed webhooks (POST /webhooks/send-link, POST /webhooks/archive) through the real handlers
 * (functions/send-link/handler.ts, functions/archive/handler.ts) against the sandbox, fauxqs and dynalite,
 * with hostile bodies and headers: random JSON, wrong types, huge numbers, unicode, prototype-pollution
 * keys, very long strings, missing / duplicated / garbage signature headers and timestamps.
 *
 * Properties: never a 5xx (the servers are healthy) nor an unhandled rejection; every answer follows the
 * error contract and a refusal names its problem (the failing header, or each bad field); an unsigned
 * request has no side effect; Object.prototype is never polluted.
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../lib/signatures/verify";
import {
  errorOf,
  httpEvent,
  invoke,
  QUEUES,
  useHandler,
  useStack,
  WEBHOOK_SECRETS,
  watchRejections,
} from "../support/handler-stack";
import { REAL_IDS } from "../support/real-ids";
import {
  hostileBody,
  hostileString,
  longString,
  POLLUTION_KEYS,
  prototypeSnapshot,
  runs,
} from "./arbitraries";

let fileId: string;
const prototypeBefore = prototypeSnapshot();
const rejections = watchRejections();
afterEach(() => rejections.check());

const stack = useStack();
const handlers = { "send-link": useHandler("send-link"), "archive-intake": useHandler("archive-intake") };
beforeAll(async () => {
  fileId = stack.sandbox.dentryIdByPath("README.txt") as string;
});

afterAll(async () => {
  rejections.stop();
  expect(prototypeSnapshot()).toEqual(prototypeBefore);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const FIELDS = {
  "send-link": ["spaceId", "dentryId", "openConversationId", "unionId"],
  "archive-intake": ["spaceId", "dentryId", "unionId", "version", "jobId"],
} as const;
type Route = keyof typeof FIELDS;
const route = fc.constantFrom<Route>("send-link", "archive-intake");

let counter = 0;
const uniqueId = () => `msg_fuzz_${++counter}_${Date.now()}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Check the answer against the contract; returns the parsed error for refusals. */
function checkAnswer(result: APIGatewayProxyStructuredResultV2) {
  expect(result.statusCode, result.body).toBeLessThan(500);
  expect(result.headers?.["content-type"]).toMatch(/^application\/json/);
  const body = JSON.parse(result.body as string) as Record<string, unknown>;
  if ((result.statusCode as number) < 300) return undefined;
  const error = errorOf(result);
  expect(typeof error.code === "string" && error.code !== "").toBe(true);
  expect(typeof error.message === "string" && error.message.length > 10).toBe(true);
  expect(Object.keys(body)).toEqual(["error"]);
  return error;
}

/** A 400 for bad fields names each of them, in the message and in details.fields. */
function checkFieldsNamed(error: NonNullable<ReturnType<typeof checkAnswer>>) {
  if (error.code !== "InvalidRequest" || !error.details?.fields) return;
  const fields = error.details.fields as Array<{ field: string; problem: string }>;
  expect(fields.length).toBeGreaterThan(0);
  for (const { field, problem } of fields) {
    expect(field.length).toBeGreaterThan(0);
    expect(problem.length).toBeGreaterThan(0);
    expect(error.message).toContain(`${field}: ${problem}`);
  }
}

// ── headers ─────────────────────────────────────────────────────────────────────────────────────────

const garbageTimestamp = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "abc",
    "NaN",
    "-1",
    "0",
    "1e9",
    "1.7e9",
    "0x10",
    "99999999999999999999",
    "١٧٠٠٠٠٠٠٠٠",
  ),
  hostileString(12),
  fc.integer({ min: -1e6, max: 1e6 }).map((delta) => String(nowSeconds() + delta * 1000)),
  fc.constant(null).map(() => `${nowSeconds()}abc`),
  fc.constant(null).map(() => ` ${nowSeconds()}`),
  fc.constant(null).map(() => `${nowSeconds()}.5`),
  fc.constant(null).map(() => `${nowSeconds()},${nowSeconds()}`),
);

const garbageSignature = fc.oneof(
  fc.constantFrom("", "v1", "v1,", "v2,abc", "v1,AAAA", ",", "v1,v1,v1", " "),
  hostileString(30),
  fc.base64String({ minLength: 44, maxLength: 44 }).map((s) => `v1,${s}`),
  fc
    .array(fc.base64String({ minLength: 44, maxLength: 44 }), { minLength: 2, maxLength: 4 })
    .map((sigs) => sigs.map((s) => `v1,${s}`).join(" ")),
  longString(1000, 20_000),
);

/** Header name spellings: API Gateway lowercases, but a direct invoke or a proxy may not. */
const spelled = (name: string) => fc.constantFrom(name, name.toUpperCase(), name.replace(/(^|-)w/g, "$1W"));

const unsignedHeaders = fc
  .record(
    {
      id: fc.tuple(spelled("webhook-id"), fc.oneof(hostileString(20), longString(10, 3000))),
      timestamp: fc.tuple(spelled("webhook-timestamp"), garbageTimestamp),
      signature: fc.tuple(spelled("webhook-signature"), garbageSignature),
      other: fc.dictionary(hostileString(10), hostileString(20), { maxKeys: 3 }),
    },
    { requiredKeys: [] },
  )
  .map(({ id, timestamp, signature, other }) => {
    const headers: Record<string, string> = { ...other, "content-type": "application/json" };
    for (const pair of [id, timestamp, signature]) if (pair) headers[pair[0]] = pair[1];
    return headers;
  });

// ── properties ──────────────────────────────────────────────────────────────────────────────────────

describe("unsigned or badly signed webhooks", () => {
  it("are refused with 401 naming the failing check, and change nothing", async () => {
    const linksBefore = stack.sandbox.sentLinks().length;
    await fc.assert(
      fc.asyncProperty(route, hostileBody(FIELDS["send-link"]), unsignedHeaders, async (r, body, headers) => {
        const result = await invoke<APIGatewayProxyStructuredResultV2>(
          handlers[r],
          httpEvent(r, body, headers),
        );
        const error = checkAnswer(result);
        if (result.statusCode === 413) return expect(error?.code).toBe("PayloadTooLarge");
        expect(result.statusCode).toBe(401);
        expect(error?.code).toBe("InvalidSignature");
        expect(error?.message).toMatch(
          /Missing webhook signature header\(s\): webhook-|Webhook signature rejected: (No matching signature|Message timestamp too (old|new)|Invalid Signature Headers)|webhook-timestamp/,
        );
      }),
      runs(400),
    );
    expect(stack.sandbox.sentLinks().length).toBe(linksBefore);
    expect(stack.messages(QUEUES.archive)).toEqual([]);
  });

  it("a signature over another timestamp, id or body, or with another secret, is refused", async () => {
    const tamper = fc.constantFrom("timestamp", "id", "body", "secret");
    await fc.assert(
      fc.asyncProperty(route, tamper, fc.integer({ min: 1, max: 290 }), async (r, what, skew) => {
        const body = JSON.stringify({
          spaceId: "sandbox-space",
          dentryId: fileId,
          openConversationId: "cid-sandbox",
        });
        const id = uniqueId();
        const secret =
          what === "secret" ? `whsec_${Buffer.from("other").toString("base64")}` : WEBHOOK_SECRETS[r];
        const headers = signWebhook(secret, id, body);
        if (what === "timestamp") headers["webhook-timestamp"] = String(nowSeconds() - skew);
        if (what === "id") headers["webhook-id"] = `${id}x`;
        const sent = what === "body" ? body.replace("sandbox-space", "sandbox-spacf") : body;
        const result = await invoke<APIGatewayProxyStructuredResultV2>(
          handlers[r],
          httpEvent(r, sent, headers),
        );
        expect(result.statusCode).toBe(401);
        expect(errorOf(result).message).toMatch(/No matching signature/);
      }),
      runs(60),
    );
  });

  it("a timestamp header that is not plain Unix seconds is refused, even signed over the number it starts with", async () => {
    // The library parses the header with parseInt and signs over the number it read: "1700000000abc"
    // would verify against a signature over "1700000000".
    const suffix = fc.constantFrom("abc", " ", ".5", ",1", "e3", "\u0000", "０");
    const prefix = fc.constantFrom("", " ", "+", "0", "00");
    await fc.assert(
      fc.asyncProperty(route, prefix, suffix, fc.boolean(), async (r, before, after, withSuffix) => {
        fc.pre(before !== "" || withSuffix);
        const body = JSON.stringify({ spaceId: "sandbox-space", dentryId: fileId });
        const id = uniqueId();
        const headers = signWebhook(WEBHOOK_SECRETS[r], id, body);
        headers["webhook-timestamp"] = `${before}${headers["webhook-timestamp"]}${withSuffix ? after : ""}`;
        const result = await invoke<APIGatewayProxyStructuredResultV2>(
          handlers[r],
          httpEvent(r, body, headers),
        );
        expect(result.statusCode, headers["webhook-timestamp"]).toBe(401);
        expect(errorOf(result).message).toMatch(/webhook-timestamp/);
      }),
      runs(60),
    );
  });
});

describe("signed webhooks with hostile bodies", () => {
  it("never answer 5xx; a refusal names the bad fields; nothing pollutes Object.prototype", async () => {
    await fc.assert(
      fc.asyncProperty(
        route.chain((r) => fc.tuple(fc.constant(r), hostileBody(FIELDS[r]))),
        async ([r, body]) => {
          const headers = signWebhook(WEBHOOK_SECRETS[r], uniqueId(), body);
          const result = await invoke<APIGatewayProxyStructuredResultV2>(
            handlers[r],
            httpEvent(r, body, headers),
          );
          const error = checkAnswer(result);
          if (error) {
            expect([400, 403, 404, 413, 422]).toContain(result.statusCode);
            checkFieldsNamed(error);
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      runs(500),
    );
    expect(prototypeSnapshot()).toEqual(prototypeBefore);
  });

  it("well-shaped requests with hostile ids: DingTalk's answer or a 400 naming the id, never a 5xx", async () => {
    const hostileId = fc.oneof(
      fc.constantFrom(".", "..", " .. ", "\ud800", "a\udfffb", "%2e%2e", "\u0085", "\u009f", "x".repeat(256)),
      fc.constantFrom(...REAL_IDS.all),
      hostileString(16),
    );
    const request = fc.record({
      spaceId: fc.oneof(fc.constant("sandbox-space"), hostileId),
      dentryId: fc.oneof(fc.constant("0"), hostileId),
      openConversationId: fc.oneof(fc.constant("cid-sandbox"), hostileId),
      unionId: fc.oneof(fc.constant("sandbox-union"), hostileId),
    });
    await fc.assert(
      fc.asyncProperty(route, request, async (r, req) => {
        const fields: Record<string, string> = { ...req };
        if (r === "archive-intake") delete fields.openConversationId;
        const body = JSON.stringify(fields);
        const result = await invoke<APIGatewayProxyStructuredResultV2>(
          handlers[r],
          httpEvent(r, body, signWebhook(WEBHOOK_SECRETS[r], uniqueId(), body)),
        );
        const error = checkAnswer(result);
        if (error?.code === "InvalidRequest") checkFieldsNamed(error);
      }),
      runs(250),
    );
  });

  it("pollution keys are refused by name, whatever their value; valid fields beside them change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        route,
        fc.constantFrom(...POLLUTION_KEYS),
        hostileBody(["x"]),
        async (r, key, value) => {
          let inner: unknown;
          try {
            inner = JSON.parse(value);
          } catch {
            inner = value;
          }
          const request = { spaceId: "sandbox-space", dentryId: fileId, openConversationId: "cid-sandbox" };
          if (r === "archive-intake") delete (request as Partial<typeof request>).openConversationId;
          // Written as text so "__proto__" is an own key of the parsed object, as JSON.parse makes it.
          const body = `${JSON.stringify(request).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(inner) ?? "null"}}`;
          const result = await invoke<APIGatewayProxyStructuredResultV2>(
            handlers[r],
            httpEvent(r, body, signWebhook(WEBHOOK_SECRETS[r], uniqueId(), body)),
          );
          expect(result.statusCode).toBe(400);
          // send-link says "unknown field(s): k", archive zod's "Unrecognized key: \"k\"": both name it.
          expect(errorOf(result).message).toMatch(/unknown field\(s\)|Unrecognized key/);
          expect(errorOf(result).message).toContain(key);
        },
      ),
      runs(120),
    );
    expect(prototypeSnapshot()).toEqual(prototypeBefore);
  });

  it("accepted archive requests queue exactly the validated request (no foreign key, no foreign unionId)", async () => {
    stack.emulator.reset();
    const request = fc.record(
      {
        spaceId: fc.constantFrom("sandbox-space", " sandbox-space ", "其他空间"),
        dentryId: fc.oneof(fc.constant(fileId), fc.stringMatching(/^[0-9]{1,19}$/)),
        unionId: fc.constantFrom("sandbox-union", "u-1"),
        version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      },
      { requiredKeys: ["spaceId", "dentryId"] },
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const body = JSON.stringify(req);
        const result = await invoke<APIGatewayProxyStructuredResultV2>(
          handlers["archive-intake"],
          httpEvent("archive-intake", body, signWebhook(WEBHOOK_SECRETS.archive, uniqueId(), body)),
        );
        if (req.unionId === "u-1") {
          // Not in ALLOWED_UNION_IDS (by default just DINGTALK_UNION_ID): refused, nothing queued.
          expect(result.statusCode).toBe(403);
          expect(errorOf(result).code).toBe("unionIdNotAllowed");
          expect(stack.messages(QUEUES.archive)).toHaveLength(accepted);
          return;
        }
        expect(result.statusCode).toBe(202);
        const { jobId } = JSON.parse(result.body as string) as { jobId: string };
        const queued = stack.messages(QUEUES.archive).at(-1);
        expect(queued).toEqual({ ...req, spaceId: req.spaceId.trim(), jobId });
        accepted++;
      }),
      runs(80),
    );
    expect(stack.messages(QUEUES.archive)).toHaveLength(accepted);
  });
});
