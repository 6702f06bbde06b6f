/**
 * Secret rotation in warm containers: the send-link handler, loaded once (one warm container), its webhook
 * secrets and app secret read from SSM SecureStrings (a local Parameter Store, the real SDK and the real
 * Powertools cache) with SECRETS_MAX_AGE_SECONDS=1.
 * - a new secret is accepted at once (a signature failing against the cached secrets re-reads them);
 * - the previous secret is accepted while its parameter exists, refused within the max age once it is deleted;
 * - a replaced secret with no previous configured is refused within the max age;
 * - a stream of bad signatures costs at most one forced SSM read per interval;
 * - DingTalk refusing the cached app secret re-reads it at once and the call succeeds;
 * - the dingtalk-events handler takes a new callback token and EncodingAESKey at once, and refuses the old
 *   pair within the max age.
 */
import { getParameter } from "@aws-lambda-powertools/parameters/ssm";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPush } from "../../sandbox/push";
import { pushHttpEvent } from "../dingtalk-events/helpers";
import { EVENT_KEYS, useHandler, useStack } from "../support/handler-stack";
import { lambdaContext, signedHttpEvent } from "../support/lambda";
import { type LocalSsm, startLocalSsm } from "../support/ssm";

const CURRENT = "/bridge/test/webhook-secret-send-link";
const PREVIOUS = "/bridge/test/webhook-secret-send-link-previous";
const APP_SECRET = "/bridge/test/dingtalk-app-secret";
const EVENT_TOKEN = "/bridge/test/dingtalk-event-token";
const EVENT_AES_KEY = "/bridge/test/dingtalk-event-aes-key";
const secret = (name: string) => `whsec_${Buffer.from(`rotation-${name}-secret`).toString("base64")}`;
const [A, B, C] = [secret("a"), secret("b"), secret("c")];

let ssm: LocalSsm;
let fileId: string;

beforeAll(async () => {
  ssm = await startLocalSsm({
    [CURRENT]: A,
    [APP_SECRET]: "sandbox-secret",
    [EVENT_TOKEN]: EVENT_KEYS.token,
    [EVENT_AES_KEY]: EVENT_KEYS.aesKey,
  });
});
// The stack reads its secrets from the local SSM started above.
const stack = useStack(() => ({
  env: {
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    SECRETS_MAX_AGE_SECONDS: "1",
    WEBHOOK_SECRET_SEND_LINK_PARAMETER: CURRENT,
    WEBHOOK_SECRET_SEND_LINK_PREVIOUS_PARAMETER: PREVIOUS,
    DINGTALK_APP_SECRET_PARAMETER: APP_SECRET,
    DINGTALK_EVENT_TOKEN_PARAMETER: EVENT_TOKEN,
    DINGTALK_EVENT_AES_KEY_PARAMETER: EVENT_AES_KEY,
  },
}));
beforeAll(async () => {
  // The same variables as values would be a ConfigError ("set either ... not both").
  delete process.env.WEBHOOK_SECRET_SEND_LINK;
  delete process.env.DINGTALK_APP_SECRET;
  delete process.env.DINGTALK_EVENT_TOKEN;
  delete process.env.DINGTALK_EVENT_AES_KEY;
  fileId = stack.sandbox.dentryIdByPath("报告 2026.pdf") as string;
});
// Loaded after those deletions: each handler validates its configuration at load.
const handler = useHandler("send-link");
const events = useHandler("dingtalk-events");

afterAll(async () => {
  await ssm?.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendSignedWith(webhookSecret: string): Promise<number> {
  const body = JSON.stringify({
    spaceId: "sandbox-space",
    dentryId: fileId,
    openConversationId: "cid-sandbox",
  });
  const result = (await handler(
    signedHttpEvent(webhookSecret, body),
    lambdaContext(),
    () => undefined,
  )) as APIGatewayProxyStructuredResultV2;
  return result.statusCode as number;
}

describe("webhook secret rotation in a warm container", () => {
  it("takes a new secret at once, the previous one while it exists, and refuses retired ones within the max age", async () => {
    expect(await sendSignedWith(A)).toBe(200);

    // Rotation: B is the secret now, A the previous one.
    ssm.put(CURRENT, B);
    ssm.put(PREVIOUS, A);
    expect(await sendSignedWith(B)).toBe(200); // at once: the failed check re-read the secrets
    expect(await sendSignedWith(A)).toBe(200); // senders not yet switched still get through

    // The rotation ends: the previous secret is deleted. Within the max age A is refused.
    ssm.delete(PREVIOUS);
    await pause(1100);
    expect(await sendSignedWith(A)).toBe(401);
    expect(await sendSignedWith(B)).toBe(200);

    // A leaked secret replaced without a previous one: refused within the max age.
    ssm.put(CURRENT, C);
    await pause(1100);
    expect(await sendSignedWith(B)).toBe(401);
    expect(await sendSignedWith(C)).toBe(200);
  });

  it("turns a stream of bad signatures into at most one forced SSM read per interval", async () => {
    const before = ssm.reads(CURRENT);
    const intruder = secret("intruder");
    for (let i = 0; i < 20; i++) expect(await sendSignedWith(intruder)).toBe(401);
    // One forced read, plus at most one expiry of the 1-second cache while the requests ran.
    expect(ssm.reads(CURRENT) - before).toBeLessThanOrEqual(3);
  });
});

describe("app secret rotation", () => {
  it("re-reads the app secret at once when DingTalk refuses the cached one, and the call succeeds", async () => {
    // The container holds a stale value in the Powertools cache (valid for 5 minutes as written here)...
    ssm.put(APP_SECRET, "stale-app-secret");
    await getParameter(APP_SECRET, { decrypt: true, maxAge: 300, forceFetch: true });
    ssm.put(APP_SECRET, "sandbox-secret");
    // ...and needs a new token: DingTalk refuses the stale secret, the fresh one is read and used.
    stack.sandbox.expireTokens();
    const tokenCalls = stack.sandbox.calls().token;
    expect(await sendSignedWith(C)).toBe(200);
    // Refused with the stale value, then issued with the fresh one.
    expect(stack.sandbox.calls().token - tokenCalls).toBe(2);
  });
});

describe("DingTalk callback keys rotation", () => {
  const check = async (keys: typeof EVENT_KEYS) => {
    const result = (await events(
      pushHttpEvent(buildPush({ EventType: "check_url" }, { ...keys, timestamp: Date.now() })),
      lambdaContext(),
      () => undefined,
    )) as APIGatewayProxyStructuredResultV2;
    return result.statusCode;
  };

  it("takes a new token and EncodingAESKey at once, and refuses the old pair within the max age", async () => {
    const old = EVENT_KEYS;
    const rotated = {
      ...EVENT_KEYS,
      token: "rotated-event-token",
      aesKey: "rotated0Encoding0AES0Key0abcdefghijklmnopqr",
    };
    expect(await check(old)).toBe(200);
    // The container holds the old pair in the Powertools cache for 5 minutes (as written here)...
    for (const name of [EVENT_TOKEN, EVENT_AES_KEY]) {
      await getParameter(name, { decrypt: true, maxAge: 300, forceFetch: true });
    }
    // ...when DingTalk's console changes them and the operator stores the new pair.
    ssm.put(EVENT_TOKEN, rotated.token);
    ssm.put(EVENT_AES_KEY, rotated.aesKey);
    expect(await check(rotated)).toBe(200); // at once: the failed signature re-read the keys
    expect(await check(old)).toBe(401);
  });
});
