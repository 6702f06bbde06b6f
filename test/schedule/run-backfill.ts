/** Run scripts/backfill.ts as a child process, as `npm run backfill` does, and collect what it prints. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startBackfill(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<Outcome>; stderr(): string } {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/backfill.ts", ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<Outcome>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

export const runBackfill = (args: string[], env: Record<string, string>) => startBackfill(args, env).done;

/** The one JSON line a run prints on stdout. */
export function summaryOf(outcome: Outcome): Record<string, unknown> {
  const lines = outcome.stdout.split("\n").filter((line) => line !== "");
  if (lines.length !== 1) {
    throw new Error(
      `expected exactly one line on stdout, got ${lines.length}:\n${outcome.stdout}\n${outcome.stderr}`,
    );
  }
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}
