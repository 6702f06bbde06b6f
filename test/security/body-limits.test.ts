/**
 * Request body size limits on every HTTP endpoint: a body over the limit (64 KiB by default) is refused with
 * 413 before anything else looks at it (no signature check, no JSON parse, no DingTalk call), counted in
 * bytes (multi-byte UTF-8, and the decoded size of a base64-encoded body); a body at the limit is not.
 * The endpoints are read from serverless.yml, so a new route without a test here fails this file.
 */
import { readFileSync } from "node:fs";
import type { Handler } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { signWebhook } from "../../lib/signatures/verify";
import { buildPush } from "../../sandbox/push";
import {
  EVENT_KEYS,
  errorOf,
  type FunctionName,
  httpEvent,
  invokeHttp,
  QUEUES,
  useHandler,
  useStack,
  WEBHOOK_SECRETS,
} from "../support/handler-stack";

const LIMIT = 64 * 1024;

type HttpFunction = Exclude<FunctionName, "archive">;

/** Route path → the function (and sample event) that serves it. */
const ENDPOINTS: Record<string, HttpFunction> = {
  "/webhooks/send-link": "send-link",
  "/webhooks/archive": "archive-intake",
  "/webhooks/dingtalk-events": "dingtalk-events",
};

const stack = useStack();
const handlers = Object.fromEntries(
  Object.values(ENDPOINTS).map((name) => [name, useHandler(name)]),
) as Record<HttpFunction, Handler>;

/** Every httpApi path in serverless.yml. */
function httpRoutes(): string[] {
  const yml = readFileSync(new URL("../../serverless.yml", import.meta.url), "utf8");
  return [...yml.matchAll(/- httpApi:\s*\n\s*method: \w+\s*\n\s*path: (\S+)/g)].map((m) => m[1] as string);
}

/** The query DingTalk signs with, for the events endpoint (valid, so only the size can be the problem). */
const pushQuery = () => buildPush({ EventType: "check_url" }, EVENT_KEYS).query;

const webhookSecretOf = (name: HttpFunction) =>
  name === "archive-intake" ? WEBHOOK_SECRETS.archive : WEBHOOK_SECRETS["send-link"];

async function send(name: HttpFunction, body: string, options: { base64?: boolean; signed?: boolean } = {}) {
  const text = options.base64 ? Buffer.from(body, "utf8").toString("base64") : body;
  const headers = options.signed ? signWebhook(webhookSecretOf(name), `msg_${Date.now()}`, body) : {};
  const event = httpEvent(
    name,
    text,
    { "content-type": "application/json", ...headers },
    {
      isBase64Encoded: options.base64 === true,
      queryStringParameters: name === "dingtalk-events" ? pushQuery() : undefined,
    },
  );
  return invokeHttp(handlers[name], event);
}

/** A JSON body of exactly `bytes` UTF-8 bytes, made of `char` (1 or 3 bytes) inside a string. */
function bodyOf(bytes: number, char = "a"): string {
  const frame = '{"pad":""}';
  const size = Buffer.byteLength(char);
  const count = Math.floor((bytes - frame.length) / size);
  const rest = bytes - frame.length - count * size;
  return `{"pad":"${char.repeat(count)}${"b".repeat(rest)}"}`;
}

describe("body size limits", () => {
  it("cover every HTTP route of serverless.yml", () => {
    const routes = httpRoutes();
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes)
      expect(Object.keys(ENDPOINTS), `no body-limit test for ${route}`).toContain(route);
  });

  describe.each(Object.entries(ENDPOINTS))("%s", (_path, name) => {
    it("refuses limit + 1 bytes with 413 before checking the signature", async () => {
      const result = await send(name, bodyOf(LIMIT + 1));
      expect(result.statusCode).toBe(413);
      expect(errorOf(result)).toMatchObject({
        code: "PayloadTooLarge",
        message: `Request body is ${LIMIT + 1} bytes; the limit is ${LIMIT}`,
      });
    });

    it("counts bytes, not characters: 3-byte characters over the limit are refused", async () => {
      const body = bodyOf(LIMIT + 2, "報");
      expect(body.length).toBeLessThan(LIMIT);
      expect((await send(name, body)).statusCode).toBe(413);
    });

    it("counts the decoded bytes of a base64 body: over the limit refused, at the limit not", async () => {
      expect((await send(name, bodyOf(LIMIT + 1), { base64: true })).statusCode).toBe(413);
      // Base64 text is 4/3 of the body: longer than the limit, but the body itself is not.
      const atLimit = await send(name, bodyOf(LIMIT), { base64: true, signed: true });
      expect(atLimit.statusCode).not.toBe(413);
    });

    it("a body of exactly the limit goes on to the next check", async () => {
      const result = await send(name, bodyOf(LIMIT));
      expect(result.statusCode).not.toBe(413);
      expect([400, 401]).toContain(result.statusCode);
    });

    it("a huge body (5 MiB) is refused just the same, and nothing is sent or queued", async () => {
      const before = stack.sandbox.sentLinks().length;
      const result = await send(name, bodyOf(5 * 1024 * 1024), { signed: true });
      expect(result.statusCode).toBe(413);
      expect(stack.sandbox.sentLinks().length).toBe(before);
      expect(stack.messages(QUEUES.archive)).toEqual([]);
    });
  });
});
