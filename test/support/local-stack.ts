/**
 * The local stack, started as a user starts it (`npm start`, scripts/start-local.ts) in a child
 * process on free ports (test/support/run-process.ts) — for test/local-stack.test.ts and the load tests — plus the calls they make against it:
 * signed webhooks, the sandbox's admin API, and S3/SQS clients for the stack's fauxqs.
 */
import { randomUUID } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { signWebhook } from "../../lib/signatures/verify";
import {
  LOCAL_BUCKET,
  LOCAL_QUEUES,
  LOCAL_WEBHOOK_SECRETS,
  type WebhookRoute,
} from "../../scripts/local-env";
import { startScript } from "./run-process";
import { freePort, localS3, localSqs } from "./world";

export { ROOT } from "./run-process";
export { LOCAL_BUCKET, LOCAL_QUEUES };

export interface LocalStack {
  ports: Record<
    "SANDBOX_PORT" | "EMULATOR_PORT" | "DYNAMODB_PORT" | "OFFLINE_HTTP_PORT" | "OFFLINE_LAMBDA_PORT",
    number
  >;
  /** serverless-offline's HTTP API, e.g. http://127.0.0.1:3000 */
  httpUrl: string;
  sandboxUrl: string;
  emulatorUrl: string;
  /** Seconds from spawn to "Server ready". */
  startSeconds: number;
  s3: S3Client;
  sqs: SQSClient;
  /** Everything the stack printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** `npm start` on free ports, with the caller's extra environment (e.g. TRANSFER_PART_SIZE). */
export async function startLocalStack(extraEnv: Record<string, string> = {}): Promise<LocalStack> {
  const started = performance.now();
  const ports = {} as LocalStack["ports"];
  for (const name of [
    "SANDBOX_PORT",
    "EMULATOR_PORT",
    "DYNAMODB_PORT",
    "OFFLINE_HTTP_PORT",
    "OFFLINE_LAMBDA_PORT",
  ] as const) {
    ports[name] = await freePort();
  }
  const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_LOG_LEVEL: "WARN" };
  for (const name of Object.keys(env)) {
    if (/^(AWS_|DINGTALK_|WEBHOOK_|ARCHIVE_|DOWNLOAD_|IDEMPOTENCY_|TRANSFER_)/.test(name)) delete env[name];
  }
  for (const [name, port] of Object.entries(ports)) env[name] = String(port);
  Object.assign(env, extraEnv);
  const child = startScript("scripts/start-local.ts", [], { env });
  await child.waitFor("Server ready", 180_000);
  const emulatorUrl = `http://127.0.0.1:${ports.EMULATOR_PORT}`;
  const s3 = localS3(emulatorUrl);
  const sqs = localSqs(emulatorUrl);
  return {
    ports,
    httpUrl: `http://127.0.0.1:${ports.OFFLINE_HTTP_PORT}`,
    sandboxUrl: `http://127.0.0.1:${ports.SANDBOX_PORT}`,
    emulatorUrl,
    startSeconds: (performance.now() - started) / 1000,
    s3,
    sqs,
    output: child.output,
    stop: async () => {
      s3.destroy();
      sqs.destroy();
      await child.stop("SIGINT", 15_000);
    },
  };
}

/** Standard Webhooks headers for `body` to one endpoint (with its secret), with a fresh webhook-id unless one is given. */
export function signed(
  body: string,
  id = `msg_${randomUUID()}`,
  route: WebhookRoute = "send-link",
): Record<string, string> {
  return { "content-type": "application/json", ...signWebhook(LOCAL_WEBHOOK_SECRETS[route], id, body) };
}

export async function signedPost(
  stack: LocalStack,
  path: string,
  body: unknown,
  id?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  const response = await fetch(`${stack.httpUrl}${path}`, {
    method: "POST",
    headers: signed(text, id, path.endsWith("/archive") ? "archive" : "send-link"),
    body: text,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export interface SandboxState {
  calls: Record<string, number>;
  sentLinks: unknown[];
}

export async function sandboxState(stack: LocalStack): Promise<SandboxState> {
  return (await (await fetch(`${stack.sandboxUrl}/__sandbox/state`)).json()) as SandboxState;
}

export async function resetSandboxCalls(stack: LocalStack): Promise<void> {
  await fetch(`${stack.sandboxUrl}/__sandbox/reset-calls`, { method: "POST" });
}

/** A generated file in the sandbox (POST /__sandbox/files); its content's seed is `<space>/<path>#1`. */
export async function putSandboxFile(
  stack: LocalStack,
  file: { name: string; size: number; parentPath?: string },
): Promise<string> {
  const response = await fetch(`${stack.sandboxUrl}/__sandbox/files`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(file),
  });
  if (!response.ok) throw new Error(`POST /__sandbox/files: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { dentryId: string }).dentryId;
}

/** A file id the way a user finds one: through the sandbox's DingTalk listing API. */
export async function dentryIdOf(stack: LocalStack, name: string): Promise<string> {
  const token = await fetch(`${stack.sandboxUrl}/v1.0/oauth2/accessToken`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appKey: "sandbox", appSecret: "sandbox-secret" }),
  }).then((r) => r.json() as Promise<{ accessToken: string }>);
  const listing = await fetch(
    `${stack.sandboxUrl}/v1.0/storage/spaces/sandbox-space/dentries?unionId=sandbox-union&parentId=0&maxResults=50`,
    { headers: { "x-acs-dingtalk-access-token": token.accessToken } },
  ).then((r) => r.json() as Promise<{ dentries: Array<{ id: string; name: string }> }>);
  const found = listing.dentries.find((d) => d.name === name);
  if (!found) throw new Error(`no ${name} in the sandbox root`);
  return found.id;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
