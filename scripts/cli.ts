/**
 * What the project's command-line tools share: exit codes, usage errors from strict flag parsing, and the
 * "first signal stops gracefully, second quits" handling.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { Logger } from "../lib/logging";

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT;

/** Bad usage: the tool prints the message and its usage line and exits 2. */
export class UsageError extends Error {}

/** Strict flags (no positionals, no unknown flags); a parse failure is a UsageError naming the flag. */
export function parseFlags(
  argv: string[],
  options: ParseArgsConfig["options"],
): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A tool's request from its argv: the parsed request, or the exit code once `--help` printed `usage` on
 * stdout (0) or `onUsageError` reported a UsageError (its return). Other errors are thrown.
 */
export function requestOrExit<T>(
  parse: () => T | "help",
  usage: string,
  onUsageError: (message: string) => number,
): { request: T } | { exit: number } {
  try {
    const parsed = parse();
    if (parsed !== "help") return { request: parsed };
    process.stdout.write(`${usage}\n`);
    return { exit: EXIT.ok };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { exit: onUsageError(error.message) };
  }
}

/** What a tool prints for a failure of its own: a usage error with its usage line (exit 2), else `<tool>: <message>` (exit 1). */
export function reportFailure(tool: string, usage: string, error: unknown): number {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${usage}`);
    return EXIT.usage;
  }
  console.error(`${tool}: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.failed;
}

/**
 * The client's and the engine's log lines as text, one per line ("warn: message {details}"), at `level` and
 * above (DEBUG, INFO, WARN, ERROR; SILENT for none), through `write` (stdout holds only a tool's JSON result).
 */
export function textLogger(level: string, write: (line: string) => void): Logger {
  const order = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"];
  const min = Math.max(0, order.indexOf(level.toUpperCase()));
  const at =
    (name: string) =>
    (message: string, ...extra: Record<string, unknown>[]) => {
      if (order.indexOf(name) < min) return;
      const details = extra.length > 0 ? ` ${JSON.stringify(Object.assign({}, ...extra))}` : "";
      write(`${name.toLowerCase()}: ${message}${details}`);
    };
  return { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") };
}

/**
 * On the first SIGINT/SIGTERM call `onFirst` (the tool stops at its next safe point); on a second, exit at
 * once with 130/143. Returns the signal received so far, if any.
 */
export function watchStopSignals(onFirst: (signal: StopSignal) => void): () => StopSignal | undefined {
  let received: StopSignal | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (received) process.exit(SIGNAL_EXIT[signal]);
      received = signal;
      onFirst(signal);
    });
  }
  return () => received;
}
