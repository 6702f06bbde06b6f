import { createCipheriv } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { ArchiveRequest } from "../../lib/archive/request";
import type { Idempotent, KeyedRequest } from "../../lib/idempotency";
import type { DingTalkPush, PushKeys } from "../../sandbox/push";
import { sampleEvent } from "../support/lambda";

/** DingTalk's own published vector (open-dingtalk/DingTalk-Callback-Crypto, DingCallbackCrypto3.py). */
export const PUBLISHED = {
  token: "mryue",
  aesKey: "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
  ownerKey: "ding6ccabc44d2c8d38b",
  msgSignature: "03044561471240d4a14bb09372dfcfd4fd0e40cb",
  timestamp: "1608001896814",
  nonce: "WL4PK6yA",
  encrypt:
    "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3",
  message: '{"EventType":"check_url"}',
  /** The 16-byte prefix found by decrypting the vector: lets an encoder reproduce it byte for byte. */
  random: "l7Y3EcX2CU5w8av3",
};

/** Test credentials (any 43 base64 characters make an EncodingAESKey). */
export const KEYS: PushKeys = {
  token: "test-event-token",
  aesKey: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456",
  appKey: "test-app-key",
};

/** The sample API Gateway event carrying this push (query and body as DingTalk sends them). */
export function pushHttpEvent(
  push: { query: Record<string, string>; body: unknown },
  rawBody?: string,
): APIGatewayProxyEventV2 {
  const event = sampleEvent<APIGatewayProxyEventV2>("dingtalk-events.http.json");
  return {
    ...event,
    rawQueryString: new URLSearchParams(push.query).toString(),
    queryStringParameters: { ...push.query },
    body: rawBody ?? JSON.stringify(push.body),
  };
}

export function withQuery(push: DingTalkPush, changes: Record<string, string>) {
  return { query: { ...push.query, ...changes }, body: push.body };
}

/** Raw AES-256-CBC of exactly these bytes (no padding added), to forge malformed plaintexts. */
export function rawEncrypt(aesKey: string, plain: Buffer): string {
  const key = Buffer.from(`${aesKey}=`, "base64");
  const cipher = createCipheriv("aes-256-cbc", key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64");
}

/** An in-memory stand-in for the idempotent enqueue: records jobs, answers a key's first job id again. */
export function memoryQueue() {
  const byKey = new Map<string, { jobId: string }>();
  const jobs: Array<{ key: string; request: ArchiveRequest }> = [];
  const enqueueOnce: Idempotent<ArchiveRequest, { jobId: string }> = Object.assign(
    async (input: KeyedRequest<ArchiveRequest>) => {
      const known = byKey.get(input.key);
      if (known) return known;
      const answer = { jobId: `job-${jobs.length + 1}` };
      jobs.push(input);
      byKey.set(input.key, answer);
      return answer;
    },
    { registerLambdaContext: () => undefined },
  );
  return { enqueueOnce, jobs };
}
