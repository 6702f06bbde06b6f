/**
 * sandbox/push.ts acts as DingTalk. It shares no code with lib/dingtalk-events/crypto.ts, so agreeing
 * with DingTalk's published vector and with the lib in both directions shows both follow DingTalk's format.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReply, callbackKeys, decryptMessage, signatureMatches } from "../../lib/dingtalk-events/crypto";
import { handlePush } from "../../lib/dingtalk-events/handle";
import { buildPush, openReply, pushEvent, SANDBOX_EVENT_KEYS, storageEvent } from "../../sandbox/push";
import { KEYS, memoryQueue, PUBLISHED } from "../dingtalk-events/helpers";

const keys = callbackKeys(KEYS.token, KEYS.aesKey, KEYS.appKey);

describe("buildPush", () => {
  it("reproduces DingTalk's published vector byte for byte", () => {
    const push = buildPush(JSON.parse(PUBLISHED.message), {
      token: PUBLISHED.token,
      aesKey: PUBLISHED.aesKey,
      appKey: PUBLISHED.ownerKey,
      timestamp: PUBLISHED.timestamp,
      nonce: PUBLISHED.nonce,
      random: Buffer.from(PUBLISHED.random),
    });
    expect(push).toEqual({
      query: {
        msg_signature: PUBLISHED.msgSignature,
        timestamp: PUBLISHED.timestamp,
        nonce: PUBLISHED.nonce,
      },
      body: { encrypt: PUBLISHED.encrypt },
    });
  });

  it("produces pushes the lib verifies and decrypts, for every padding length and non-ASCII text", () => {
    for (let n = 0; n < 70; n++) {
      const message = `{"EventType":"x","pad":"${"é".repeat(n % 3)}${"a".repeat(n)}"}`;
      const { query, body } = buildPush(message, KEYS);
      expect(signatureMatches(keys, query.msg_signature, query.timestamp, query.nonce, body.encrypt)).toBe(
        true,
      );
      expect(decryptMessage(keys, body.encrypt)).toBe(message);
    }
  });

  it("sends millisecond timestamps and fresh nonces unless told otherwise", () => {
    const before = Date.now();
    const a = buildPush({}, KEYS);
    const b = buildPush({}, KEYS);
    expect(Number(a.query.timestamp)).toBeGreaterThanOrEqual(before);
    expect(a.query.nonce).not.toBe(b.query.nonce);
    expect(a.body.encrypt).not.toBe(b.body.encrypt);
  });

  it("makes storage events in DingTalk's flat HTTP-push shape", () => {
    expect(
      storageEvent("storage_dentry_update", { spaceId: "s", dentryId: "d", eventId: "e" }),
    ).toMatchObject({
      EventType: "storage_dentry_update",
      eventId: "e",
      spaceId: "s",
      dentryId: "d",
      unionId: "sandbox-union",
      type: "FILE",
    });
  });

  it("ships local-stack credentials with a valid 43-character EncodingAESKey", () => {
    expect(() => callbackKeys(SANDBOX_EVENT_KEYS.token, SANDBOX_EVENT_KEYS.aesKey, "sandbox")).not.toThrow();
  });
});

describe("openReply", () => {
  it("reads the lib's encrypted success and refuses a tampered or misaddressed one", () => {
    const reply = buildReply(keys);
    expect(openReply(reply, KEYS)).toBe("success");
    expect(() => openReply({ ...reply, nonce: "x" }, KEYS)).toThrow(/signature/);
    expect(() => openReply({ ...reply, encrypt: undefined }, KEYS)).toThrow(/string/);
    const other = buildReply(callbackKeys(KEYS.token, KEYS.aesKey, "other-app"));
    expect(() => openReply(other, KEYS)).toThrow(/owner key/);
  });
});

describe("pushEvent over HTTP", () => {
  let server: Server;
  let url: string;
  const queue = memoryQueue();

  beforeAll(async () => {
    // A minimal stand-in for API Gateway in front of the real push handler.
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const target = new URL(req.url ?? "/", "http://localhost");
      const event = {
        rawQueryString: target.search.slice(1),
        queryStringParameters: Object.fromEntries(target.searchParams),
        body: Buffer.concat(chunks).toString("utf8"),
        isBase64Encoded: false,
        headers: {},
      } as unknown as APIGatewayProxyEventV2;
      const result = await handlePush(event, {
        keys,
        enqueueOnce: queue.enqueueOnce,
        maxSkewMs: 300_000,
        maxBodyBytes: 65_536,
        allowedUnionIds: ["sandbox-union"],
      }).catch((error: { status?: number; message: string }) => ({
        statusCode: error.status ?? 500,
        body: JSON.stringify({ error: error.message }),
      }));
      res.writeHead(result.statusCode ?? 200, { "content-type": "application/json" }).end(result.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/dingtalk-events`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("delivers a storage event the real handler queues, and answers its reply", async () => {
    const event = storageEvent("storage_dentry_create", {
      spaceId: "space",
      dentryId: "42",
      eventId: "e-42",
    });
    const answer = await pushEvent(url, event, KEYS);
    expect(answer.status).toBe(200);
    expect(openReply(answer.body, KEYS)).toBe("success");
    expect(queue.jobs).toEqual([
      { key: "event:e-42", request: { spaceId: "space", dentryId: "42", unionId: "sandbox-union" } },
    ]);
  });

  it("hands back the refusal of a push with the wrong credentials", async () => {
    const answer = await pushEvent(url, { EventType: "check_url" }, { ...KEYS, token: "wrong" });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: "The push could not be verified" });
  });
});
