/**
 * No secret, token or signed URL in any log line. The main flows run through the real handlers at DEBUG level
 * (so every line the code can print is printed) against the sandbox, fauxqs and dynalite, with everything
 * written to stdout/stderr captured (test/support/log-capture.ts), plus what the Lambda runtime would print
 * for errors thrown out of a handler or out of a cold start:
 * - send-link: signed/unsigned/stale/malformed webhooks, DingTalk refusals, a refused token refreshed, a
 *   retried 500, a wrong app secret; the SQS and EventBridge paths with dead letters;
 * - archive: webhook, SQS worker with a multipart transfer through expired URLs (403), the file host's 403
 *   and dropped connections, DingTalk's 403 on download info, fileArchived, a missing file;
 * - dingtalk-events: authentic, forged, undecryptable and foreign pushes;
 * - configuration errors at cold start, and a webhook secret that cannot be decoded.
 * None of the lines may hold the app secret, the webhook secret (or its key), the event token or AES key,
 * any access token the sandbox issued, a webhook or push signature, an `Authorization: OSS` signature, or a
 * signed URL's `Expires=` / `Signature=` query.
 */
import type { APIGatewayProxyStructuredResultV2, Handler, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildPush, storageEvent } from "../../sandbox/push";
import { pushHttpEvent } from "../dingtalk-events/helpers";
import {
  EVENT_KEYS,
  type httpEvent,
  invoke,
  loadHandler,
  signedEvent,
  sqsEvent,
  useStack,
  WEBHOOK_SECRETS,
} from "../support/handler-stack";
import { sampleEvent } from "../support/lambda";
import { type CapturedOutput, captureOutput } from "../support/log-capture";

const APP_SECRET = "app-secret-3c9e1f0a7b5d";
const MiB = 1024 * 1024;

let handlers: Record<"send-link" | "archive-intake" | "archive" | "dingtalk-events", Handler>;
let output: CapturedOutput;
const tokens = new Set<string>();
const signatures = new Set<string>();
const ossSignatures = new Set<string>();

/** The token the sandbox has issued (asking again with the same credentials returns the same one). */
async function collectToken() {
  const answer = await fetch(`${stack.sandbox.url}/v1.0/oauth2/accessToken`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appKey: "sandbox", appSecret: APP_SECRET }),
  });
  tokens.add(((await answer.json()) as { accessToken: string }).accessToken);
}

/** The download info's OSS signature, as the file host checks it (to look for it in the logs). */
async function collectOssSignature(dentryId: string) {
  await collectToken();
  const answer = await fetch(
    `${stack.sandbox.url}/v1.0/storage/spaces/sandbox-space/dentries/${dentryId}/downloadInfos/query?unionId=sandbox-union`,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-acs-dingtalk-access-token": [...tokens].at(-1) as string,
      },
      body: JSON.stringify({ option: {} }),
    },
  );
  const info = (await answer.json()) as { headerSignatureInfo: { headers: Record<string, string> } };
  for (const [name, value] of Object.entries(info.headerSignatureInfo.headers)) {
    if (name.toLowerCase() === "authorization") ossSignatures.add(value.replace(/^OSS [^:]+:/, ""));
  }
}

async function http(name: keyof typeof handlers, event: ReturnType<typeof httpEvent>) {
  const signature = event.headers["webhook-signature"];
  if (signature) signatures.add(signature.slice(3));
  return invoke<APIGatewayProxyStructuredResultV2>(handlers[name], event);
}

/** Invoke; an error thrown out of the handler is logged as the Lambda runtime would. */
async function run(name: keyof typeof handlers, event: unknown) {
  try {
    return await invoke(handlers[name], event);
  } catch (error) {
    output.recordThrown(error);
    return undefined;
  }
}

const signed = (
  route: "send-link" | "archive-intake",
  body: unknown,
  id = `msg_logs_${Math.random()}`,
  at?: Date,
) => {
  const text = JSON.stringify(body);
  return signedEvent(route, text, {
    id,
    ...(at ? { at } : {}),
    headers: { "content-type": "application/json" },
  });
};

const stack = useStack({
  sandbox: {
    appSecret: APP_SECRET,
    generatedFiles: [{ name: "big.bin", size: 12 * MiB + 5, seed: "logs-big" }],
  },
  env: { POWERTOOLS_LOG_LEVEL: "DEBUG" },
});
beforeAll(async () => {
  output = captureOutput();
  handlers = {
    "send-link": await loadHandler("send-link"),
    "archive-intake": await loadHandler("archive-intake"),
    archive: await loadHandler("archive"),
    "dingtalk-events": await loadHandler("dingtalk-events"),
  };
});

afterAll(async () => {
  output?.restore();
});

describe("the main flows, logged at DEBUG", () => {
  it("send-link: webhooks, refusals, DingTalk errors, a refreshed token, a retried QPS limit, an unknown outcome", async () => {
    const { sandbox } = stack;
    const fileId = sandbox.dentryIdByPath("README.txt") as string;
    const request = { spaceId: "sandbox-space", dentryId: fileId, openConversationId: "cid-sandbox" };
    expect((await http("send-link", signed("send-link", request))).statusCode).toBe(200);
    await collectToken();
    // A refused token is refreshed; a revoked one replaced by a new one.
    sandbox.addFaults({ api: "sendLink", kind: "tokenExpired", times: 1 });
    expect((await http("send-link", signed("send-link", request))).statusCode).toBe(200);
    sandbox.expireTokens();
    expect((await http("send-link", signed("send-link", request))).statusCode).toBe(200);
    await collectToken();
    // Throttled: DingTalk did nothing, so the send is retried; a 500 is an unknown outcome, never retried.
    sandbox.addFaults({ api: "sendLink", kind: "qpsLimit", times: 1 });
    expect((await http("send-link", signed("send-link", request))).statusCode).toBe(200);
    sandbox.addFaults({ api: "sendLink", kind: "systemError", times: 1, afterEffect: true });
    expect((await http("send-link", signed("send-link", request))).statusCode).toBe(502);
    // Refusals: stale, forged, malformed, unknown fields, DingTalk's 404 and 403.
    const stale = signed("send-link", request, "msg_stale", new Date(Date.now() - 10 * 60_000));
    expect((await http("send-link", stale)).statusCode).toBe(401);
    const forged = signed("send-link", request);
    forged.headers["webhook-signature"] = `v1,${Buffer.alloc(32, 7).toString("base64")}`;
    expect((await http("send-link", forged)).statusCode).toBe(401);
    const notJson = signedEvent("send-link", "{", { id: "msg_bad" });
    expect((await http("send-link", notJson)).statusCode).toBe(400);
    expect((await http("send-link", signed("send-link", { ...request, extra: 1 }))).statusCode).toBe(400);
    expect(
      (await http("send-link", signed("send-link", { ...request, openConversationId: "cid-x" }))).statusCode,
    ).toBe(404);
    expect(
      (await http("send-link", signed("send-link", { ...request, unionId: "stranger" }))).statusCode,
    ).toBe(403);
    // Queue and bus: a good one, a dead letter, a thrown failure.
    const queued = sqsEvent(
      [JSON.stringify(request), '{"spaceId":1}', JSON.stringify({ ...request, unionId: "stranger" })],
      "logs-sl",
    );
    expect(await run("send-link", queued)).toEqual({ batchItemFailures: [] });
    const bus = sampleEvent<Record<string, unknown>>("send-link.eventbridge.json");
    await run("send-link", { ...bus, id: "evt-logs-1", detail: { ...request, unionId: "stranger" } });
    await run("send-link", { ...bus, id: "evt-logs-2", detail: { spaceId: "x" } });
    await collectToken();
  });

  it("archive: webhook and worker through expired URLs, the file host's 403s, dropped connections, refusals", async () => {
    const { sandbox } = stack;
    const big = sandbox.dentryIdByPath("big.bin") as string;
    await collectOssSignature(big);
    expect(
      (await http("archive-intake", signed("archive-intake", { spaceId: "sandbox-space", dentryId: big })))
        .statusCode,
    ).toBe(202);
    // Faults that fire on the same request consume each other: one kind per run.
    const worker = (job: unknown, id: string) =>
      run("archive", sqsEvent([JSON.stringify(job)], id) as SQSEvent);
    sandbox.addFaults({ api: "file", kind: "urlExpired", times: 2 });
    expect(await worker({ spaceId: "sandbox-space", dentryId: big }, "logs-a1")).toEqual({
      batchItemFailures: [],
    });
    for (const [i, fault] of [
      {
        api: "file",
        kind: "error",
        status: 403,
        code: "AccessDenied",
        message: "Request has expired",
        times: 1,
      },
      { api: "file", kind: "dropConnection", afterBytes: 1000, times: 1 },
      { api: "file", kind: "truncate", afterBytes: 5000, times: 1 },
    ].entries()) {
      const dentryId = sandbox.putGeneratedFile({
        name: `faulty-${i}.bin`,
        size: 6 * MiB,
        seed: `logs-${i}`,
      });
      sandbox.addFaults(fault as Parameters<typeof sandbox.addFaults>[0]);
      expect(await worker({ spaceId: "sandbox-space", dentryId }, `logs-f${i}`)).toEqual({
        batchItemFailures: [],
      });
    }
    sandbox.clearFaults();
    const small = sandbox.putGeneratedFile({ name: "small.txt", size: 100, seed: "logs-small" });
    sandbox.addFaults({
      api: "downloadInfo",
      kind: "error",
      status: 403,
      code: "permissionDenied",
      times: 1,
    });
    await worker({ spaceId: "sandbox-space", dentryId: small }, "logs-a2");
    sandbox.addFaults({ api: "downloadInfo", kind: "fileArchived", times: 1 });
    await worker({ spaceId: "sandbox-space", dentryId: small }, "logs-a3");
    sandbox.addFaults({ api: "file", kind: "urlExpired" }); // every time: the job fails, retryable
    await worker({ spaceId: "sandbox-space", dentryId: small }, "logs-a4");
    sandbox.clearFaults();
    await worker({ spaceId: "sandbox-space", dentryId: "404404" }, "logs-a5");
    await worker("{not json", "logs-a6");
    await run("archive", { spaceId: "sandbox-space", dentryId: small }); // direct invoke: archived
    await collectOssSignature(small);
  }, 60_000);

  it("dingtalk-events: authentic, forged, undecryptable and foreign pushes", async () => {
    const fileId = stack.sandbox.dentryIdByPath("README.txt") as string;
    const pushes = [
      buildPush(
        storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId: fileId }),
        EVENT_KEYS,
      ),
      buildPush({ EventType: "check_url" }, EVENT_KEYS),
      buildPush(storageEvent("storage_dentry_update", { spaceId: "sandbox-space", dentryId: fileId }), {
        ...EVENT_KEYS,
        token: "forged-token",
      }),
      buildPush({ EventType: "check_url" }, { ...EVENT_KEYS, appKey: "another-app" }),
      buildPush({ EventType: "storage_dentry_create" }, EVENT_KEYS),
      buildPush({ EventType: "check_url" }, { ...EVENT_KEYS, timestamp: Date.now() - 3_600_000 }),
    ];
    const answers: Array<[number | undefined, string | undefined]> = [];
    const answer = async (event: unknown) => {
      const result = (await run("dingtalk-events", event)) as
        | { statusCode?: number; body?: string }
        | undefined;
      const body = result?.body ? (JSON.parse(result.body) as { error?: { code?: string } }) : undefined;
      answers.push([result?.statusCode, body?.error?.code]);
    };
    for (const push of pushes) {
      signatures.add(push.query.msg_signature);
      signatures.add(push.body.encrypt);
      await answer(pushHttpEvent(push));
    }
    const garbage = { ...pushes[0], body: { encrypt: Buffer.alloc(64, 1).toString("base64") } };
    await answer(pushHttpEvent(garbage as (typeof pushes)[number]));
    // Only authentic pushes get in; the logs checked after this file come from each kind of refusal.
    expect(answers).toEqual([
      [200, undefined], // authentic storage event: queued
      [200, undefined], // authentic check_url
      // Every refusal gets the one generic answer (no oracle); the logged reason tells them apart.
      [401, "InvalidPush"], // signed with a forged token
      [401, "InvalidPush"], // authentic, but for another app
      [200, undefined], // authentic, unusable: acknowledged (and logged as an error)
      [401, "InvalidPush"], // replayed an hour late
      [401, "InvalidPush"], // a body the signature does not cover
    ]);
  });

  it("configuration errors at cold start, an undecodable webhook secret, a wrong app secret", async () => {
    const saved = { ...process.env };
    const coldStart = async (
      name: "send-link" | "archive" | "dingtalk-events",
      env: Record<string, string>,
    ) => {
      vi.resetModules();
      Object.assign(process.env, env);
      try {
        return await loadHandler(name);
      } catch (error) {
        output.recordThrown(error);
        return undefined;
      } finally {
        for (const key of Object.keys(env)) {
          if (saved[key] === undefined) delete process.env[key];
          else process.env[key] = saved[key];
        }
      }
    };
    expect(
      await coldStart("send-link", { WEBHOOK_SECRET_SEND_LINK_PARAMETER: "/x/webhook-secret" }),
    ).toBeUndefined();
    expect(
      await coldStart("dingtalk-events", {
        DINGTALK_EVENT_AES_KEY: `${EVENT_KEYS.aesKey}-and-more-${APP_SECRET}`,
      }),
    ).toBeUndefined();
    expect(
      await coldStart("archive", { ARCHIVE_BUCKET: "Not A Bucket", TRANSFER_PART_SIZE: "1" }),
    ).toBeUndefined();

    const undecodable = `whsec_!!${APP_SECRET}!!`;
    const broken = await coldStart("send-link", { WEBHOOK_SECRET_SEND_LINK: undecodable });
    expect(broken).toBeDefined();
    const answer = (await (broken as Handler)(
      signed("send-link", { spaceId: "s", dentryId: "d", openConversationId: "c" }),
      (await import("../support/lambda")).lambdaContext(),
      () => undefined,
    )) as APIGatewayProxyStructuredResultV2;
    expect(answer.statusCode).toBe(500);

    const wrongSecret = await coldStart("send-link", { DINGTALK_APP_SECRET: `${APP_SECRET}-wrong` });
    const refused = (await (wrongSecret as Handler)(
      signed("send-link", { spaceId: "sandbox-space", dentryId: "1", openConversationId: "cid-sandbox" }),
      (await import("../support/lambda")).lambdaContext(),
      () => undefined,
    )) as APIGatewayProxyStructuredResultV2;
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    tokens.add(`${APP_SECRET}-wrong`);
    vi.resetModules();
  });
});

describe("what was logged", () => {
  it("covers the flows (the capture works, DEBUG included)", () => {
    const text = output.text();
    for (const expected of [
      '"message":"link sent"',
      '"message":"request refused"',
      '"message":"DingTalk access token refreshed"',
      "refreshing it and repeating the call",
      '"message":"DingTalk call failed; retrying"',
      '"message":"DingTalk call may have taken effect; not repeating it"',
      '"message":"DingTalk answered"', // DEBUG
      '"message":"send-link message dead-lettered"',
      '"message":"archive job queued"',
      '"message":"transfer refresh"', // DEBUG: the engine's expired-URL refresh
      '"message":"transfer retry"',
      '"message":"archived"',
      '"message":"archive deferred"',
      '"message":"archive failed permanently; job dead-lettered"',
      '"message":"malformed archive job dead-lettered"',
      '"message":"archive failed; the queue will retry"',
      '"message":"DingTalk callback URL check answered"',
      '"message":"DingTalk event unusable; acknowledged"',
      "ConfigError: Invalid configuration",
      "is not a valid Standard Webhooks secret",
      "invalidClientIdOrSecret",
    ]) {
      expect(text, `nothing logged says ${expected}`).toContain(expected);
    }
    expect(tokens.size).toBeGreaterThanOrEqual(3); // two issued, plus the wrong secret
    expect(ossSignatures.size).toBeGreaterThanOrEqual(2);
  });

  it("holds no secret, token, signature or signed URL", () => {
    const lines = output.lines();
    expect(lines.length).toBeGreaterThan(100);
    // The scan itself finds what it looks for.
    const token = [...tokens][0] as string;
    expect(leaksIn([`{"message":"x","token":"${token}"}`])).toHaveLength(1);
    expect(leaksIn(['{"url":"https://h.aliyuncs.com/f?Expires=1&OSSAccessKeyId=k"}'])).toHaveLength(1);
    expect(leaksIn(['{"headers":{"Authorization":"OSS sandbox:abcdefgh12345678"}}'])).toHaveLength(1);
    expect(leaksIn(lines)).toEqual([]);
  });
});

function leaksIn(lines: string[]): string[] {
  const webhookSecrets = Object.values(WEBHOOK_SECRETS).flatMap((secret): Array<[string, string]> => {
    const key = secret.slice("whsec_".length);
    return [
      ["a webhook secret", secret],
      ["a webhook secret's key", key],
      ["a webhook secret's raw key", Buffer.from(key, "base64").toString("utf8")],
    ];
  });
  const forbidden: Array<[string, string]> = [
    ["the app secret", APP_SECRET],
    ...webhookSecrets,
    ["the event token", EVENT_KEYS.token],
    ["the event AES key", EVENT_KEYS.aesKey],
    ...[...tokens].map((t): [string, string] => ["an access token", t]),
    ...[...signatures].map((s): [string, string] => ["a signature or ciphertext", s]),
    ...[...ossSignatures].map((s): [string, string] => ["an OSS signature", s]),
  ];
  const leaks: string[] = [];
  for (const line of lines) {
    const shown = line.slice(0, 300);
    for (const [what, secret] of forbidden) {
      if (secret.length >= 8 && line.includes(secret)) leaks.push(`${what} in: ${shown}`);
    }
    if (/Authorization["':\s]+OSS\s|OSS [\w-]+:[\w+/=]{8,}/i.test(line))
      leaks.push(`an OSS signature in: ${shown}`);
    if (/[?&](Expires|Signature|OSSAccessKeyId|x-oss-signature|security-token)=/i.test(line))
      leaks.push(`a signed URL's query in: ${shown}`);
    if (/x-acs-dingtalk-access-token["':\s]+[0-9a-f]{8,}/i.test(line))
      leaks.push(`a token header in: ${shown}`);
  }
  return leaks;
}
