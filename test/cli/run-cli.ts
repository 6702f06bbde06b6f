/** Run scripts/archive-cli.ts as a child process, as `npm run archive` does, and collect what it prints. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliOutcome>;
  /** What it printed on stderr so far. */
  stderr(): string;
}

export function startCli(args: string[], env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/archive-cli.ts", ...args], {
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
  const done = new Promise<CliOutcome>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliOutcome> {
  return startCli(args, env).done;
}

/** The one JSON line a successful (or stopped) run prints on stdout. */
export function resultOf(outcome: CliOutcome): Record<string, unknown> {
  const lines = outcome.stdout.split("\n").filter((line) => line !== "");
  if (lines.length !== 1) {
    throw new Error(
      `expected exactly one line on stdout, got ${lines.length}:\n${outcome.stdout}\n${outcome.stderr}`,
    );
  }
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}
