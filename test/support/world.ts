/**
 * The one local world every integration test, bench and chaos run builds: the DingTalk sandbox, fauxqs
 * (S3 + SQS) and, when asked, dynalite (DynamoDB) — in this process on ephemeral ports — with real AWS SDK
 * clients configured as production's (endpoint + path-style). Nothing is mocked.
 *
 * Built on scripts/local-services.ts, the same starters `npm start` uses; test/support/local-stack.ts starts
 * that command itself in a child process. Folder helpers add what their tests need on top (archive deps,
 * the schedule's run deps, the handlers' environment) without starting anything of their own.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { FauxqsServer } from "fauxqs";
import { type Sandbox, startSandbox } from "../../sandbox/server";
import type { SandboxOptions } from "../../sandbox/types";
import { type LocalDynamo, startLocalDynamo, startLocalEmulator } from "../../scripts/local-services";

/** Credentials and region of every local AWS client (fauxqs and dynalite accept anything). */
export const LOCAL_AWS = {
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
} as const;

/**
 * For S3 clients that fail on purpose: without a logger the SDK prints "An error was encountered in a
 * non-retryable streaming request." to the console whenever a streamed part fails.
 */
export const SILENT_LOGGER = { debug() {}, info() {}, warn() {}, error() {} };

/** An S3 client for a local endpoint, as production configures one (path-style). */
export function localS3(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({ ...LOCAL_AWS, endpoint, forcePathStyle: true, ...extra });
}

export function localSqs(endpoint: string): SQSClient {
  return new SQSClient({ ...LOCAL_AWS, endpoint });
}

/** A port nothing listens on now (the OS's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type QueueSpec = string | { name: string; deadLetter?: string; maxReceiveCount?: number };

export interface WorldOptions {
  /** The sandbox's options (its port is always ephemeral). */
  sandbox?: SandboxOptions;
  /** The bucket tests archive into; created empty. */
  bucket?: string;
  /** Queues to create (a queue may name its dead-letter queue). */
  queues?: readonly QueueSpec[];
  /** Start dynalite with this table (key `id`, as Powertools' idempotency and the quota state use). */
  dynamo?: string;
  /** Make a fresh directory for file checkpoints (removed by stop()). */
  checkpoints?: boolean;
  /** Extra S3 client settings (e.g. a silent logger). */
  s3?: Partial<S3ClientConfig>;
}

export interface World {
  sandbox: Sandbox;
  emulator: FauxqsServer;
  s3: S3Client;
  sqs: SQSClient;
  /** Started only when `dynamo` names a table. */
  dynamo: LocalDynamo | undefined;
  bucket: string;
  /** The checkpoint directory ("" unless `checkpoints`). */
  checkpointDir: string;
  queueUrl(name: string): string;
  /** Bodies waiting in a queue (ready or delayed), parsed when JSON. */
  messages<T = unknown>(name: string): T[];
  /** localEnv() for this world, with Powertools' logs silenced. */
  env(extra?: Record<string, string>): Record<string, string>;
  /**
   * `env` as a script started without DingTalk settings sees it (it falls back to the local stack): this
   * world's ports as the local stack's (SANDBOX_PORT, EMULATOR_PORT, DYNAMODB_PORT), the DingTalk app and
   * the S3 endpoint unset, and the `unset` names too.
   */
  asLocalStack(env: Record<string, string>, unset?: readonly string[]): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The environment a process needs to reach a sandbox and local AWS endpoints as production reaches DingTalk
 * and AWS: endpoints and test credentials, the DingTalk app, the download hosts, the bucket (and checkpoint
 * directory) — plus `extra`. No PATH or HOME: callers that spawn add what they pass on.
 */
export function localEnv(
  where: {
    sandbox: Sandbox;
    s3: string;
    sqs?: string;
    dynamo?: string;
    bucket: string;
    checkpointDir?: string;
  },
  extra: Record<string, string> = {},
): Record<string, string> {
  const { sandbox } = where;
  return {
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: where.s3,
    ...(where.sqs ? { AWS_ENDPOINT_URL_SQS: where.sqs } : {}),
    ...(where.dynamo ? { AWS_ENDPOINT_URL_DYNAMODB: where.dynamo } : {}),
    DINGTALK_API_BASE: sandbox.url,
    DINGTALK_APP_KEY: sandbox.options.appKey,
    DINGTALK_APP_SECRET: sandbox.options.appSecret,
    DINGTALK_UNION_ID: sandbox.options.unionId,
    DOWNLOAD_ALLOWED_HOSTS: sandbox.fileHost,
    DOWNLOAD_ALLOW_HTTP_HOSTS: sandbox.fileHost,
    ARCHIVE_BUCKET: where.bucket,
    ...(where.checkpointDir ? { ARCHIVE_CHECKPOINT_DIR: where.checkpointDir } : {}),
    ...extra,
  };
}

const LOCAL_STACK_UNSET = [
  "DINGTALK_API_BASE",
  "DINGTALK_APP_KEY",
  "DINGTALK_APP_SECRET",
  "DINGTALK_UNION_ID",
  "AWS_ENDPOINT_URL_S3",
];

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const bucket = options.bucket ?? "archive-test";
  const sandbox = await startSandbox({ ...options.sandbox, port: 0 });
  const emulator = await startLocalEmulator(0, {
    buckets: [bucket],
    queues: (options.queues ?? []).map((q) => (typeof q === "string" ? { name: q } : q)),
  });
  const dynamo = options.dynamo ? await startLocalDynamo(0, options.dynamo) : undefined;
  const checkpointDir = options.checkpoints ? await mkdtemp(join(tmpdir(), "world-checkpoints-")) : "";
  const s3 = localS3(emulator.address, options.s3);
  const sqs = localSqs(emulator.address);
  const queueUrl = (name: string) => `${emulator.address}/000000000000/${name}`;
  return {
    sandbox,
    emulator,
    s3,
    sqs,
    dynamo,
    bucket,
    checkpointDir,
    queueUrl,
    messages<T>(name: string): T[] {
      const state = emulator.inspectQueue(name);
      if (!state) throw new Error(`no queue ${name}`);
      return [...state.messages.ready, ...state.messages.delayed].map((m) => {
        try {
          return JSON.parse(m.body) as T;
        } catch {
          return m.body as T;
        }
      });
    },
    env: (extra = {}) =>
      localEnv(
        {
          sandbox,
          s3: emulator.address,
          sqs: emulator.address,
          ...(dynamo ? { dynamo: dynamo.endpoint } : {}),
          bucket,
          checkpointDir,
        },
        { POWERTOOLS_LOG_LEVEL: "SILENT", ...extra },
      ),
    asLocalStack(env, unset = []) {
      const local: Record<string, string> = {
        ...env,
        SANDBOX_PORT: String(sandbox.port),
        EMULATOR_PORT: String(emulator.port),
        ...(dynamo ? { DYNAMODB_PORT: new URL(dynamo.endpoint).port } : {}),
      };
      for (const name of [...LOCAL_STACK_UNSET, ...unset]) delete local[name];
      return local;
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      await sandbox.close();
      await emulator.stop();
      await dynamo?.stop();
      if (checkpointDir) await rm(checkpointDir, { recursive: true, force: true });
    },
  };
}

/** SHA-256 and size of an object as S3 gives it back; a missing object is S3's error (NoSuchKey). */
export async function sha256OfObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ sha256: string; bytes: number }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** sha256OfObject, or undefined when there is no such object. */
export async function objectDigest(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ sha256: string; bytes: number } | undefined> {
  try {
    return await sha256OfObject(s3, bucket, key);
  } catch (err) {
    if ((err as { name?: string }).name === "NoSuchKey") return undefined;
    throw err;
  }
}
