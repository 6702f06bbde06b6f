/**
 * `npm start` as a user runs it: the local stack in a child process (sandbox, fauxqs, dynalite,
 * serverless-offline with the esbuild bundles), on free ports. A signed send-link request returns the
 * file object; a signed archive request flows through the local SQS queue to an object in local S3.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../lib/webhooks/verify";
import { openReply, pushEvent, SANDBOX_EVENT_KEYS, storageEvent } from "../sandbox/push";
import { LOCAL_WEBHOOK_SECRET } from "../scripts/local-env";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let stack: ChildProcess;
let output = "";
const ports: Record<string, number> = {};

beforeAll(async () => {
  for (const name of [
    "SANDBOX_PORT",
    "EMULATOR_PORT",
    "DYNAMODB_PORT",
    "OFFLINE_HTTP_PORT",
    "OFFLINE_LAMBDA_PORT",
  ]) {
    ports[name] = await freePort();
  }
  const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_LOG_LEVEL: "WARN" };
  for (const name of Object.keys(env)) {
    if (/^(AWS_|DINGTALK_|WEBHOOK_|ARCHIVE_|DOWNLOAD_|IDEMPOTENCY_)/.test(name)) delete env[name];
  }
  for (const [name, port] of Object.entries(ports)) env[name] = String(port);
  stack = spawn(process.execPath, ["--import", "tsx", "scripts/start-local.ts"], { env, stdio: "pipe" });
  stack.stdout?.on("data", (chunk) => (output += chunk));
  stack.stderr?.on("data", (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local stack did not come up:\n${output}`)), 120_000);
    const check = setInterval(() => {
      if (output.includes("Server ready")) {
        clearTimeout(timer);
        clearInterval(check);
        resolve();
      }
    }, 200);
    stack.once("exit", (code) => {
      clearTimeout(timer);
      clearInterval(check);
      reject(new Error(`local stack exited (${code}):\n${output}`));
    });
  });
}, 150_000);

afterAll(async () => {
  if (!stack || stack.exitCode !== null) return;
  const exited = new Promise((resolve) => stack.once("exit", resolve));
  stack.kill("SIGINT");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (stack.exitCode === null) stack.kill("SIGKILL");
});

async function signedPost(path: string, body: unknown, id = `msg_${Date.now()}_${Math.random()}`) {
  const text = JSON.stringify(body);
  const response = await fetch(`http://127.0.0.1:${ports.OFFLINE_HTTP_PORT}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signWebhook(LOCAL_WEBHOOK_SECRET, id, text) },
    body: text,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A file id found the way a user finds one: through the (sandbox's) DingTalk listing API. */
async function dentryIdOf(name: string): Promise<string> {
  const base = `http://127.0.0.1:${ports.SANDBOX_PORT}`;
  const token = await fetch(`${base}/v1.0/oauth2/accessToken`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ appKey: "sandbox", appSecret: "sandbox-secret" }),
  }).then((r) => r.json() as Promise<{ accessToken: string }>);
  const listing = await fetch(
    `${base}/v1.0/storage/spaces/sandbox-space/dentries?unionId=sandbox-union&parentId=0&maxResults=50`,
    { headers: { "x-acs-dingtalk-access-token": token.accessToken } },
  ).then((r) => r.json() as Promise<{ dentries: Array<{ id: string; name: string }> }>);
  const found = listing.dentries.find((d) => d.name === name);
  if (!found) throw new Error(`no ${name} in the sandbox root`);
  return found.id;
}

/** The object's size once the worker has put it in local S3 (polled for up to a minute). */
async function waitForObject(key: string): Promise<number> {
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${ports.EMULATOR_PORT}`,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const size = await s3
        .send(new HeadObjectCommand({ Bucket: "dingtalk-archive", Key: key }))
        .then((head) => head.ContentLength)
        .catch(() => undefined);
      if (size !== undefined) return size;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "dingtalk-archive" }));
    throw new Error(
      `no ${key}; objects: ${JSON.stringify(listed.Contents?.map((o) => o.Key))}\n${output.slice(-3000)}`,
    );
  } finally {
    s3.destroy();
  }
}

describe("npm start (the local stack)", () => {
  it("answers a signed send-link request with DingTalk's file object", async () => {
    const dentryId = await dentryIdOf("README.txt");
    const answer = await signedPost("/webhooks/send-link", {
      spaceId: "sandbox-space",
      dentryId,
      openConversationId: "cid-sandbox",
    });
    expect(answer.status).toBe(200);
    expect(answer.body.file).toMatchObject({
      id: dentryId,
      name: "README.txt",
      conversationId: "cid-sandbox",
    });
  });

  it("refuses an unsigned request with 401 in the error contract", async () => {
    const response = await fetch(`http://127.0.0.1:${ports.OFFLINE_HTTP_PORT}/webhooks/send-link`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "InvalidSignature" } });
  });

  it("takes DingTalk's encrypted storage-event push and archives the file it names", async () => {
    const dentryId = await dentryIdOf("données.csv");
    const url = `http://127.0.0.1:${ports.OFFLINE_HTTP_PORT}/webhooks/dingtalk-events`;
    const answer = await pushEvent(
      url,
      storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId }),
      SANDBOX_EVENT_KEYS,
    );
    expect(answer.status).toBe(200);
    expect(openReply(answer.body, SANDBOX_EVENT_KEYS)).toBe("success");
    expect(await waitForObject(`sandbox-space/${dentryId}/v1/données.csv`)).toBeGreaterThan(0);
  }, 90_000);

  it("queues a signed archive request and the worker, fed by the local queue, puts the file in local S3", async () => {
    const dentryId = await dentryIdOf("报告 2026.pdf");
    const answer = await signedPost("/webhooks/archive", { spaceId: "sandbox-space", dentryId });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: "queued", jobId: expect.any(String) });

    const s3 = new S3Client({
      endpoint: `http://127.0.0.1:${ports.EMULATOR_PORT}`,
      forcePathStyle: true,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const key = `sandbox-space/${dentryId}/v1/报告 2026.pdf`;
    const deadline = Date.now() + 60_000;
    let size: number | undefined;
    while (Date.now() < deadline && size === undefined) {
      size = await s3
        .send(new HeadObjectCommand({ Bucket: "dingtalk-archive", Key: key }))
        .then((head) => head.ContentLength)
        .catch(() => undefined);
      if (size === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "dingtalk-archive" }));
    expect(
      size,
      `objects: ${JSON.stringify(listed.Contents?.map((o) => o.Key))}\n${output.slice(-3000)}`,
    ).toBe(300_001);
    s3.destroy();
  }, 90_000);
});
