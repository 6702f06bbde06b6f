/**
 * Capture everything the process writes to stdout and stderr, as CloudWatch would receive it from a Lambda.
 *
 * How output gets there:
 * - Powertools Logger builds its own `new Console({ stdout: process.stdout, stderr: process.stderr })` at
 *   construction (or uses the global console when POWERTOOLS_DEV is set) and prints one JSON line per entry;
 *   a Console calls `stream.write(...)` on every entry, so replacing `write` on the two streams sees each line.
 * - Anything else (console.*, a library printing a warning, process.emitWarning) ends in the same writes; but
 *   vitest swaps the global console for one that writes elsewhere, so console.* is wrapped too.
 * - An error thrown out of a handler is printed by the Lambda runtime, not by us: `recordThrown` adds what
 *   the runtime would print (name, message, stack, cause chain).
 *
 * Usage: `const output = captureOutput(); try { ...run... } finally { output.restore(); } output.lines()`.
 */
import { inspect } from "node:util";

export interface CapturedOutput {
  /** Every complete line written so far (stdout and stderr interleaved, in order), plus thrown errors. */
  lines(): string[];
  /** All of it as one string. */
  text(): string;
  /** Add what the Lambda runtime would log for an error thrown out of a handler. */
  recordThrown(error: unknown): void;
  /** Stop capturing: put back the streams' write and the console methods. Idempotent. */
  restore(): void;
}

type Write = typeof process.stdout.write;
const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

export function captureOutput(options: { echo?: boolean } = {}): CapturedOutput {
  const lines: string[] = [];
  const partial = { stdout: "", stderr: "" };
  const restores: Array<() => void> = [];

  const take = (stream: keyof typeof partial, text: string) => {
    const joined = partial[stream] + text;
    const parts = joined.split("\n");
    partial[stream] = parts.pop() ?? "";
    lines.push(...parts);
  };

  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    const original = stream.write;
    const replacement = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      take(name, typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      if (options.echo) return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      callback?.();
      return true;
    } as Write;
    stream.write = replacement;
    restores.push(() => {
      stream.write = original;
    });
  }

  for (const method of CONSOLE_METHODS) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      const stream = method === "warn" || method === "error" || method === "trace" ? "stderr" : "stdout";
      take(stream, `${args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 10 }))).join(" ")}\n`);
      if (options.echo) original.apply(console, args);
    };
    restores.push(() => {
      console[method] = original;
    });
  }

  let restored = false;
  return {
    lines: () => [...lines, ...Object.values(partial).filter((p) => p !== "")],
    text() {
      return this.lines().join("\n");
    },
    recordThrown(error) {
      // What the Node Lambda runtime prints for an invocation error: the error as JSON-ish text with its stack.
      lines.push(inspect(error, { depth: 10, showHidden: false }));
      for (let link = error, depth = 0; link instanceof Error && depth < 10; depth++) {
        lines.push(`${link.name}: ${link.message}`, link.stack ?? "");
        link = link.cause;
      }
    },
    restore() {
      if (restored) return;
      restored = true;
      for (const undo of restores.reverse()) undo();
    },
  };
}

/** Run `body` with output captured (restored afterwards, even on failure). */
export async function withCapturedOutput<T>(
  body: (output: CapturedOutput) => Promise<T>,
  options: { echo?: boolean } = {},
): Promise<{ result: T; output: CapturedOutput }> {
  const output = captureOutput(options);
  try {
    return { result: await body(output), output };
  } finally {
    output.restore();
  }
}
