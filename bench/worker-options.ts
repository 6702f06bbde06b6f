/**
 * The archive worker's runtime settings as serverless.yml deploys them: its NODE_OPTIONS (node flags) and
 * memorySize. The engine rows of the benchmark run with exactly these flags, and the worker-size table
 * starts from its memory size, so the figures describe what is deployed.
 *
 * BENCH_WORKER_NODE_OPTIONS overrides the flags (for experiments only: the rows then say which flags ran).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./services.js";

export interface WorkerOptions {
  /** NODE_OPTIONS of the archive function, split into flags ([] when it sets none). */
  nodeFlags: string[];
  /** Its memorySize in MB (undefined when the function leaves it to the provider default). */
  memorySize: number | undefined;
}

/** The `archive:` function block of serverless.yml: its own lines, up to the next function. */
export function archiveFunctionBlock(yaml: string): string[] {
  const lines = yaml.split("\n");
  const functions = lines.findIndex((l) => /^functions:\s*$/.test(l));
  if (functions === -1) throw new Error("serverless.yml has no functions section");
  const start = lines.findIndex((l, i) => i > functions && /^ {2}archive:\s*$/.test(l));
  if (start === -1) throw new Error("serverless.yml has no archive function");
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^ {0,2}\S/.test(line)) break; // the next function, or the next top-level section
    block.push(line);
  }
  return block;
}

export function parseWorkerOptions(yaml: string): WorkerOptions {
  const block = archiveFunctionBlock(yaml);
  const value = (name: string) => {
    for (const line of block) {
      const m = new RegExp(`^\\s+${name}:\\s*(.*?)\\s*$`).exec(line);
      if (m) return (m[1] ?? "").replace(/^(["'])(.*)\1$/, "$2");
    }
    return undefined;
  };
  const memory = value("memorySize");
  return {
    nodeFlags: (value("NODE_OPTIONS") ?? "").split(/\s+/).filter(Boolean),
    memorySize: memory === undefined ? undefined : Number(memory),
  };
}

let cached: WorkerOptions | undefined;

export function workerOptions(): WorkerOptions {
  if (!cached) {
    cached = parseWorkerOptions(readFileSync(join(ROOT, "serverless.yml"), "utf8"));
    const override = process.env.BENCH_WORKER_NODE_OPTIONS;
    if (override !== undefined) cached.nodeFlags = override.split(/\s+/).filter(Boolean);
  }
  return cached;
}
