/**
 * The one child-process runner: a repository script started as its npm script starts it
 * (`node [flags] --import tsx <script> [args]`, from the repository root), its output collected.
 * Used by the CLI, backfill, sandbox and local-stack tests, the load workers and the chaos campaign.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ProcessOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningProcess {
  child: ChildProcess;
  /** Settles when the process has exited and its output is closed. */
  done: Promise<ProcessOutcome>;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved as they came. */
  output(): string;
  /** Resolves when the output contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  /** Send `signal`; SIGKILL after `graceMs` if it is still running. Resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface ProcessOptions {
  /** The whole environment of the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Node flags before the script, e.g. `--max-semi-space-size=2` as `npm run archive` passes. */
  nodeFlags?: string[];
  /** Load the script through tsx (default); false for a bundled .mjs. */
  tsx?: boolean;
  /** "pipe" to write to the child's stdin (default "ignore"). */
  stdin?: "ignore" | "pipe";
}

export function startScript(
  script: string,
  args: string[] = [],
  options: ProcessOptions = {},
): RunningProcess {
  const loader = options.tsx === false ? [] : ["--import", "tsx"];
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...loader, script, ...args], {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let output = "";
  const waiters = new Set<() => void>();
  const collect = (into: (chunk: string) => void) => (chunk: string) => {
    into(chunk);
    output += chunk;
    for (const check of waiters) check();
  };
  child.stdout?.setEncoding("utf8").on(
    "data",
    collect((chunk) => (stdout += chunk)),
  );
  child.stderr?.setEncoding("utf8").on(
    "data",
    collect((chunk) => (stderr += chunk)),
  );
  const done = new Promise<ProcessOutcome>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  // "close" comes after the last output was read ("exit" may come before): what waitFor gives up on.
  let closed = false;
  child.once("close", () => {
    closed = true;
  });
  return {
    child,
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    waitFor: (text, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const finish = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          child.removeListener("close", onClose);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (output.includes(text)) finish();
        };
        const onClose = (code: number | null) =>
          finish(new Error(`${script} exited (${code}) before printing "${text}":\n${output}`));
        const timer = setTimeout(
          () => finish(new Error(`${script} did not print "${text}" in ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        waiters.add(check);
        child.once("close", onClose);
        check();
        if (closed) onClose(child.exitCode);
      }),
    async stop(signal = "SIGTERM", graceMs = 15_000) {
      if (exited()) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      if (!exited()) {
        child.kill("SIGKILL");
        await gone;
      }
    },
  };
}

export const runScript = (script: string, args: string[] = [], options: ProcessOptions = {}) =>
  startScript(script, args, options).done;

/** The one JSON line a CLI run prints on stdout (its result or summary). */
export function onlyJsonLine(outcome: ProcessOutcome): Record<string, unknown> {
  const lines = outcome.stdout.split("\n").filter((line) => line !== "");
  if (lines.length !== 1) {
    throw new Error(
      `expected exactly one line on stdout, got ${lines.length}:\n${outcome.stdout}\n${outcome.stderr}`,
    );
  }
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

/** scripts/archive-cli.ts, as `npm run archive` runs it. */
export const startCli = (args: string[], env: Record<string, string>) =>
  startScript("scripts/archive-cli.ts", args, { env });
export const runCli = (args: string[], env: Record<string, string>) => startCli(args, env).done;

/** scripts/backfill.ts, as `npm run backfill` runs it. */
export const startBackfill = (args: string[], env: Record<string, string>) =>
  startScript("scripts/backfill.ts", args, { env });
export const runBackfill = (args: string[], env: Record<string, string>) => startBackfill(args, env).done;

/** A CloudFormation template as `serverless package` writes it. */
export interface PackagedTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/**
 * `serverless package` (osls, the real toolchain) into `outDir`, offline and with no AWS credentials of any
 * kind (packaging must not need AWS), in its own esbuild folder (tests package at the same time); returns the
 * CloudFormation template it wrote. Throws on a failed or hung (3 min) run.
 */
export async function serverlessPackage(
  outDir: string,
  options: { workFolder: string; stage?: string },
): Promise<PackagedTemplate> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
    ESBUILD_WORK_FOLDER: options.workFolder,
  };
  for (const name of Object.keys(env)) if (name.startsWith("AWS_")) delete env[name];
  const stage = options.stage ? ["--stage", options.stage] : [];
  const sls = startScript(
    "node_modules/serverless/bin/serverless.js",
    ["package", ...stage, "--package", outDir],
    {
      env,
      tsx: false,
    },
  );
  const timer = setTimeout(() => sls.child.kill("SIGKILL"), 180_000);
  const outcome = await sls.done.finally(() => clearTimeout(timer));
  if (outcome.code !== 0) {
    throw new Error(
      `serverless package ended ${outcome.code ?? outcome.signal}:\n${outcome.stdout}\n${outcome.stderr}`,
    );
  }
  return JSON.parse(await readFile(join(outDir, "cloudformation-template-update-stack.json"), "utf8"));
}
