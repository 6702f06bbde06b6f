/**
 * The archive tests' world: the one test world (the DingTalk sandbox and fauxqs in this process on ephemeral
 * ports), a real DingTalk client and a real S3 client configured as production's. Nothing mocked.
 */
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { ArchiveDeps } from "../../lib/archive";
import { createDingTalkClient } from "../../lib/dingtalk";
import { fileCheckpointStore } from "../../lib/transfer";
import type { Sandbox, SandboxOptions } from "../../sandbox/server";
import {
  sha256OfObject as sha256OfBucketObject,
  startWorld,
  type World,
  type WorldOptions,
} from "../support/world";

export const MiB = 1024 * 1024;
export const BUCKET = "archive-test";

export interface ArchiveWorld extends World {
  /** A fresh directory for file checkpoints, removed by stop(). */
  checkpointDir: string;
  deps(overrides?: Partial<ArchiveDeps>): ArchiveDeps;
  /** Environment for the CLI as a child process, pointing at this world. */
  cliEnv(extra?: Record<string, string>): Record<string, string>;
}

/** The one world (test/support/world.ts) with a checkpoint directory, plus the archive use case's deps. */
export async function startArchiveWorld(
  sandbox: SandboxOptions = {},
  more: Pick<WorldOptions, "queues" | "dynamo"> = {},
): Promise<ArchiveWorld> {
  const world = await startWorld({ ...more, sandbox, bucket: BUCKET, checkpoints: true });
  const { s3, checkpointDir } = world;
  const dingtalk = createDingTalkClient({
    baseUrl: world.sandbox.url,
    appKey: world.sandbox.options.appKey,
    appSecret: world.sandbox.options.appSecret,
    retry: { maxAttempts: 3, baseDelayMs: 1, qpsLimitDelayMs: 2, maxDelayMs: 5, maxTotalMs: 5_000 },
  });
  return {
    ...world,
    deps: (overrides = {}) => ({
      dingtalk,
      s3,
      archive: { bucket: BUCKET, prefix: "" },
      transfer: {
        partSize: 5 * MiB,
        concurrency: 4,
        downloadAllowedHosts: [world.sandbox.fileHost],
        allowHttpHosts: [world.sandbox.fileHost],
      },
      checkpoints: fileCheckpointStore(checkpointDir),
      defaultUnionId: world.sandbox.options.unionId,
      ...overrides,
    }),
    cliEnv: (extra = {}) =>
      world.env({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...extra }),
  };
}

/** SHA-256 and size of the object as S3 gives it back. */
export const sha256OfObject = (s3: S3Client, key: string) => sha256OfBucketObject(s3, BUCKET, key);

export function headObject(s3: S3Client, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
}

/** The seed the sandbox gives a generated file put without one (sandbox/README.md "The tree"). */
export function seedOf(sandbox: Sandbox, path: string, version: number): string {
  return `${sandbox.options.spaceId}/${path}#${version}`;
}
