/**
 * `npm run invoke -- <function> <events/file.json>`
 *
 * Runs one sample event through a function's real handler, in this process, against the local stack of
 * `npm start` (the sandbox, fauxqs, dynalite), with the environment serverless.yml's `local` stage gives it.
 * Signed samples are signed afresh: a webhook sample gets a new signature, id and timestamp with the local
 * webhook secret; a DingTalk push keeps its encrypted body (made with the local event keys) and gets a
 * fresh timestamp, nonce and msg_signature. Prints the handler's answer as JSON.
 * Exit: 0 answered; 1 the handler threw; 2 bad usage.
 */

import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Context, Handler } from "aws-lambda";
import { callbackSignature } from "../lib/dingtalk-events/crypto";
import { signWebhook } from "../lib/signatures/verify";
import { EXIT, reportFailure, UsageError } from "./cli";
import { LOCAL_PORTS, LOCAL_QUEUES, localFunctionEnv } from "./local-env";

const USAGE = "usage: npm run invoke -- <function> <events/file.json>";

/** The local stage's event keys (serverless.yml params.local defaults). */
export const LOCAL_EVENT_KEYS = {
  token: "sandbox-event-token",
  aesKey: "sandbox0Encoding0AES0Key0for0local0pushes00",
};

const HANDLERS = {
  sendLink: "../functions/send-link/handler",
  archiveIntake: "../functions/archive-intake/handler",
  archive: "../functions/archive/handler",
  dingtalkEvents: "../functions/dingtalk-events/handler",
  archiveSchedule: "../functions/archive-schedule/handler",
} as const;
export type FunctionName = keyof typeof HANDLERS;

export function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(HANDLERS, name);
}

/** What serverless.yml's local stage gives the functions (params.local), over `npm start`'s environment. */
export function localInvokeEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const base = localFunctionEnv(env);
  const queue = (name: string) => `${base.AWS_ENDPOINT_URL_SQS}/000000000000/${name}`;
  return {
    ...base,
    SEND_LINK_DLQ_URL: queue(LOCAL_QUEUES.sendLinkDeadLetter),
    ARCHIVE_QUEUE_URL: queue(LOCAL_QUEUES.archive),
    ARCHIVE_DLQ_URL: queue(LOCAL_QUEUES.archiveDeadLetter),
    ARCHIVE_SCAN_QUEUE_URL: queue(LOCAL_QUEUES.archiveScan),
    ARCHIVE_SOURCES: env.ARCHIVE_SOURCES ?? '[{"spaceId":"sandbox-space"}]',
    DINGTALK_EVENT_TOKEN: env.DINGTALK_EVENT_TOKEN ?? LOCAL_EVENT_KEYS.token,
    DINGTALK_EVENT_AES_KEY: env.DINGTALK_EVENT_AES_KEY ?? LOCAL_EVENT_KEYS.aesKey,
  };
}

interface HttpSample {
  rawPath?: string;
  headers?: Record<string, string>;
  body?: string;
  rawQueryString?: string;
  queryStringParameters?: Record<string, string>;
}

/** Refresh what a sample cannot keep valid on disk: signatures and timestamps. */
export function prepareEvent(event: unknown, env: Record<string, string>, now: Date = new Date()): unknown {
  const http = event as HttpSample;
  if (http.headers?.["webhook-signature"] !== undefined && typeof http.body === "string") {
    const id = `${http.headers["webhook-id"] ?? "msg_invoke"}-${now.getTime()}`;
    // Each endpoint has its own secret (a body signed for one is refused at the other).
    const archive = http.rawPath?.endsWith("/webhooks/archive") ?? false;
    const secret = (archive ? env.WEBHOOK_SECRET_ARCHIVE : env.WEBHOOK_SECRET_SEND_LINK) ?? "";
    return { ...http, headers: { ...http.headers, ...signWebhook(secret, id, http.body, now) } };
  }
  if (http.queryStringParameters?.msg_signature !== undefined && typeof http.body === "string") {
    const { encrypt } = JSON.parse(http.body) as { encrypt: string };
    const timestamp = String(now.getTime());
    const nonce = randomBytes(6).toString("base64url");
    const token = env.DINGTALK_EVENT_TOKEN ?? LOCAL_EVENT_KEYS.token;
    const query = { msg_signature: callbackSignature(token, timestamp, nonce, encrypt), timestamp, nonce };
    return { ...http, queryStringParameters: query, rawQueryString: new URLSearchParams(query).toString() };
  }
  return event;
}

function context(name: FunctionName): Context {
  const deadline = Date.now() + 900_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `dingtalk-file-bridge-local-${name}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:dingtalk-file-bridge-local-${name}`,
    memoryLimitInMB: "1024",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/dingtalk-file-bridge-local-${name}`,
    logStreamName: "invoke",
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Set the local environment, load the handler (it validates at load, as at a cold start), invoke it. */
export async function invokeLocal(name: FunctionName, event: unknown): Promise<unknown> {
  const env = localInvokeEnv();
  Object.assign(process.env, env);
  const handler = (await import(HANDLERS[name])).handler as Handler;
  return handler(prepareEvent(event, env), context(name), () => undefined);
}

async function main(argv: string[]): Promise<number> {
  const [name, file, ...rest] = argv;
  try {
    if (name === "--help" || name === "-h") {
      console.log(USAGE);
      return EXIT.ok;
    }
    if (!name || !file || rest.length > 0) throw new UsageError("give a function and an event file");
    if (!isFunctionName(name))
      throw new UsageError(`unknown function ${name}: one of ${Object.keys(HANDLERS).join(", ")}`);
    let event: unknown;
    try {
      event = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
    console.error(
      `invoking ${name} with ${file} against the local stack (sandbox on 127.0.0.1:${LOCAL_PORTS.sandbox})`,
    );
    console.log(JSON.stringify(await invokeLocal(name, event), null, 2));
    return EXIT.ok;
  } catch (error) {
    return reportFailure("invoke", USAGE, error);
  }
}

if (process.argv[1]?.endsWith("invoke.ts")) process.exitCode = await main(process.argv.slice(2));
