/**
 * The archive tests' world: the DingTalk sandbox and fauxqs (S3) in this process on ephemeral ports, a real
 * DingTalk client and a real S3 client configured as production's (endpoint + path-style). Nothing mocked.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { FauxqsServer } from "fauxqs";
import type { ArchiveDeps } from "../../lib/archive";
import { createDingTalkClient } from "../../lib/dingtalk";
import { fileCheckpointStore } from "../../lib/transfer";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../sandbox/server";
import { startLocalEmulator } from "../../scripts/local-services";

export const MiB = 1024 * 1024;
export const BUCKET = "archive-test";

export interface World {
  sandbox: Sandbox;
  emulator: FauxqsServer;
  s3: S3Client;
  /** A fresh directory for file checkpoints, removed by close(). */
  checkpointDir: string;
  deps(overrides?: Partial<ArchiveDeps>): ArchiveDeps;
  /** Environment for the CLI as a child process, pointing at this world. */
  cliEnv(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startWorld(options: SandboxOptions = {}): Promise<World> {
  const sandbox = await startSandbox({ port: 0, ...options });
  const emulator = await startLocalEmulator(0, { buckets: [BUCKET] });
  const s3 = new S3Client({
    endpoint: emulator.address,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const checkpointDir = await mkdtemp(join(tmpdir(), "archive-test-"));
  const dingtalk = createDingTalkClient({
    baseUrl: sandbox.url,
    appKey: sandbox.options.appKey,
    appSecret: sandbox.options.appSecret,
    retry: { maxAttempts: 3, baseDelayMs: 1, qpsLimitDelayMs: 2, maxDelayMs: 5, maxTotalMs: 5_000 },
  });
  return {
    sandbox,
    emulator,
    s3,
    checkpointDir,
    deps: (overrides = {}) => ({
      dingtalk,
      s3,
      archive: { bucket: BUCKET, prefix: "" },
      transfer: {
        partSize: 5 * MiB,
        concurrency: 4,
        downloadAllowedHosts: [sandbox.fileHost],
        allowHttpHosts: [sandbox.fileHost],
      },
      checkpoints: fileCheckpointStore(checkpointDir),
      defaultUnionId: sandbox.options.unionId,
      ...overrides,
    }),
    cliEnv: (extra = {}) => ({
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_S3: emulator.address,
      DINGTALK_API_BASE: sandbox.url,
      DINGTALK_APP_KEY: sandbox.options.appKey,
      DINGTALK_APP_SECRET: sandbox.options.appSecret,
      DINGTALK_UNION_ID: sandbox.options.unionId,
      DOWNLOAD_ALLOWED_HOSTS: sandbox.fileHost,
      DOWNLOAD_ALLOW_HTTP_HOSTS: sandbox.fileHost,
      ARCHIVE_BUCKET: BUCKET,
      ARCHIVE_CHECKPOINT_DIR: checkpointDir,
      POWERTOOLS_LOG_LEVEL: "SILENT",
      ...extra,
    }),
    close: async () => {
      s3.destroy();
      await sandbox.close();
      await emulator.stop();
      await rm(checkpointDir, { recursive: true, force: true });
    },
  };
}

/** SHA-256 and size of the object as S3 gives it back. */
export async function sha256OfObject(s3: S3Client, key: string): Promise<{ sha256: string; bytes: number }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

export function headObject(s3: S3Client, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
}

/** The seed the sandbox gives a generated file put without one (sandbox/README.md "The tree"). */
export function seedOf(sandbox: Sandbox, path: string, version: number): string {
  return `${sandbox.options.spaceId}/${path}#${version}`;
}
