/**
 * The real servers the handlers talk to — the one test world (test/support/world.ts): the DingTalk sandbox,
 * fauxqs (S3 + SQS), dynalite (idempotency records) — for function, fuzz and security tests. The environment is set as
 * the deployed functions get it, then the handler modules are imported (they validate it at load, as at a
 * cold start). Nothing is mocked.
 */
import { randomUUID } from "node:crypto";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Handler,
  SQSEvent,
  SQSRecord,
} from "aws-lambda";
import { beforeAll } from "vitest";
import { signWebhook } from "../../lib/signatures/verify";
import type { PushKeys } from "../../sandbox/push";
import type { SandboxOptions } from "../../sandbox/types";
import type { LocalDynamo } from "../../scripts/local-services";
import { lambdaContext, sampleEvent } from "./lambda";
import { useWorld } from "./use-world";
import { startWorld, type World } from "./world";

const ARCHIVE_WEBHOOK_SECRET = `whsec_${Buffer.from("fuzz-archive-secret-9d2e77").toString("base64")}`;
/**
 * Each webhook endpoint's own secret: a body signed for one is refused at the other. By endpoint and by the
 * function that serves it (`archive-intake` takes POST /webhooks/archive).
 */
export const WEBHOOK_SECRETS = {
  "send-link": `whsec_${Buffer.from("fuzz-send-link-secret-0b6f41").toString("base64")}`,
  archive: ARCHIVE_WEBHOOK_SECRET,
  "archive-intake": ARCHIVE_WEBHOOK_SECRET,
} as const;
export const EVENT_KEYS: PushKeys = {
  token: "fuzz-event-token-77c1",
  aesKey: "fuzz0Encoding0AES0Key0abcdefghijklmnopqrstu",
  appKey: "sandbox",
};
export const BUCKET = "fuzz-archive";
export const PREFIX = "dingtalk/";
export const QUEUES = {
  archive: "archive-jobs",
  archiveDlq: "archive-jobs-dlq",
  sendLinkDlq: "send-link-dlq",
} as const;

export interface Stack extends World {
  dynamo: LocalDynamo;
}

/** The one world with the functions' queues and idempotency table, its environment set as deployed. */
export async function startStack(
  options: { sandbox?: SandboxOptions; env?: Record<string, string> } = {},
): Promise<Stack> {
  const world = await startWorld({
    sandbox: options.sandbox,
    bucket: BUCKET,
    queues: Object.values(QUEUES),
    dynamo: "idempotency",
  });
  Object.assign(
    process.env,
    world.env({
      WEBHOOK_SECRET_SEND_LINK: WEBHOOK_SECRETS["send-link"],
      WEBHOOK_SECRET_ARCHIVE: WEBHOOK_SECRETS.archive,
      IDEMPOTENCY_TABLE: "idempotency",
      SEND_LINK_DLQ_URL: world.queueUrl(QUEUES.sendLinkDlq),
      ARCHIVE_PREFIX: PREFIX,
      ARCHIVE_QUEUE_URL: world.queueUrl(QUEUES.archive),
      ARCHIVE_DLQ_URL: world.queueUrl(QUEUES.archiveDlq),
      ARCHIVE_STOP_MARGIN_SECONDS: "10",
      TRANSFER_PART_SIZE: String(5 * 1024 * 1024),
      TRANSFER_CONCURRENCY: "2",
      DINGTALK_EVENT_TOKEN: EVENT_KEYS.token,
      DINGTALK_EVENT_AES_KEY: EVENT_KEYS.aesKey,
      ...options.env,
    }),
  );
  return world as Stack;
}

/** startStack for a test file (useWorld): started before its tests, stopped after. */
export const useStack = (
  options: Parameters<typeof startStack>[0] | (() => Parameters<typeof startStack>[0]) = {},
  each?: (stack: Stack) => unknown,
): Stack => useWorld(() => startStack(typeof options === "function" ? options() : options), each);

export type FunctionName = "send-link" | "archive-intake" | "archive" | "dingtalk-events";

/** Import a function's handler as Lambda would load it (after the environment is set). */
export async function loadHandler(name: FunctionName): Promise<Handler> {
  switch (name) {
    case "send-link":
      return (await import("../../functions/send-link/handler")).handler as Handler;
    case "archive-intake":
      return (await import("../../functions/archive-intake/handler")).handler as Handler;
    case "archive":
      return (await import("../../functions/archive/handler")).handler as Handler;
    case "dingtalk-events":
      return (await import("../../functions/dingtalk-events/handler")).handler as Handler;
  }
}

/** Invoke a handler with a fresh Lambda context. */
export async function invoke<T = unknown>(
  handler: Handler,
  event: unknown,
  remainingMs = 25_000,
): Promise<T> {
  return (await handler(event, lambdaContext("fuzz", remainingMs), () => undefined)) as T;
}

/** The sample API Gateway v2 event of a route, with this body and exactly these headers. */
export function httpEvent(
  route: "send-link" | "archive-intake" | "dingtalk-events",
  body: string | undefined,
  headers: Record<string, string>,
  extra: Partial<APIGatewayProxyEventV2> = {},
): APIGatewayProxyEventV2 {
  const sample = sampleEvent<APIGatewayProxyEventV2>(`${route}.http.json`);
  const event: APIGatewayProxyEventV2 = { ...sample, headers, isBase64Encoded: false, ...extra };
  if (body === undefined) delete event.body;
  else event.body = body;
  return event;
}

/** An SQS event with these bodies, one record each, message ids m-0, m-1... (prefixed to stay unique). */
export function sqsEvent(bodies: readonly string[], idPrefix = "m"): SQSEvent {
  const template = sampleEvent<SQSEvent>("archive.sqs.json").Records[0] as SQSRecord;
  return {
    Records: bodies.map((body, i) => ({ ...template, messageId: `${idPrefix}-${i}`, body })),
  };
}

/** The error of an HTTP answer, per the contract: `{error: {code, message, requestId?, details?}}`. */
export function errorOf(result: APIGatewayProxyStructuredResultV2) {
  return (
    JSON.parse(result.body as string) as {
      error: { code: string; message: string; requestId?: string; details?: { fields?: unknown } };
    }
  ).error;
}

/**
 * Collects unhandled rejections while a test file runs: a handler that answers but leaves a promise
 * rejecting behind would crash a Lambda (Node exits on an unhandled rejection). `check()` waits a moment
 * for late ones, then throws if any were seen since the last check.
 */
export function watchRejections() {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  return {
    async check() {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const seen = rejections.splice(0);
      if (seen.length > 0) throw new Error(`unhandled rejection(s): ${seen.map(String).join("; ")}`);
    },
    stop() {
      process.off("unhandledRejection", onRejection);
    },
  };
}

/**
 * The sample HTTP event of a webhook route with this body, signed as the sender signs it: with the route's
 * secret (or `secret`), a fresh webhook-id unless `id`, now unless `at`; `headers` go in first.
 */
export function signedEvent(
  route: "send-link" | "archive-intake",
  body: string,
  options: { id?: string; at?: Date; secret?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const secret = options.secret ?? WEBHOOK_SECRETS[route];
  const id = options.id ?? `msg_${randomUUID()}`;
  return httpEvent(route, body, { ...options.headers, ...signWebhook(secret, id, body, options.at) });
}

/**
 * A function's handler for a test file, imported in a beforeAll as Lambda loads it (call after useStack, so
 * the environment is set first). The returned handler forwards to it.
 */
export function useHandler(name: FunctionName): Handler {
  let loaded: Handler | undefined;
  beforeAll(async () => {
    loaded = await loadHandler(name);
  });
  return (event, context, callback) => {
    if (!loaded) throw new Error(`the ${name} handler is not loaded yet (invoke it in a test or hook)`);
    return loaded(event, context, callback);
  };
}

/** invoke() for an HTTP event: the API Gateway answer. */
export const invokeHttp = (handler: Handler, event: unknown) =>
  invoke<APIGatewayProxyStructuredResultV2>(handler, event);
