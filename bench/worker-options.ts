/**
 * The archive worker's runtime settings as serverless.yml deploys them: its NODE_OPTIONS (node flags) and
 * memorySize, each its own or else the provider's (bench/serverless-yml.ts). The engine rows of the benchmark
 * run with exactly these flags, and the worker-size table starts from its memory size, so the figures
 * describe what is deployed.
 *
 * BENCH_WORKER_NODE_OPTIONS overrides the flags (for experiments only: the rows then say which flags ran).
 */
import { nodeFlags, type ServerlessConfig, serverlessConfig } from "./serverless-yml.js";

export interface WorkerOptions {
  /** NODE_OPTIONS of the archive function, split into flags ([] when it sets none). */
  nodeFlags: string[];
  /** Its memorySize in MB (undefined when neither it nor the provider sets one). */
  memorySize: number | undefined;
}

/** The archive function's settings in `config`, its flags replaced by `override` when one is given. */
export function archiveWorkerOptions(config: ServerlessConfig, override?: string): WorkerOptions {
  const archive = config.functions.find((f) => f.name === "archive");
  if (!archive) throw new Error("serverless.yml has no archive function");
  return { nodeFlags: nodeFlags(override ?? archive.nodeOptions), memorySize: archive.memorySize };
}

let cached: WorkerOptions | undefined;

export function workerOptions(): WorkerOptions {
  cached ??= archiveWorkerOptions(serverlessConfig(), process.env.BENCH_WORKER_NODE_OPTIONS);
  return cached;
}
