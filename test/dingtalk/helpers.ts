/** Shared pieces of the DingTalk client tests: a client on short backoffs, a logger and a fetch that record. */
import { inspect } from "node:util";
import { createDingTalkClient, type DingTalkClientOptions, type RetryPolicy } from "../../lib/dingtalk";
import type { Logger } from "../../lib/logging";
import type { Sandbox } from "../../sandbox/types";

/** Millisecond backoffs so the suite stays fast on a shared 2-core machine. */
export const FAST_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1,
  qpsLimitDelayMs: 2,
  maxDelayMs: 5,
  maxTotalMs: 10_000,
};

export interface LogLine {
  level: keyof Logger;
  message: string;
  extra: Record<string, unknown>[];
}

export function recordingLogger(): Logger & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string, ...extra: Record<string, unknown>[]) => {
      lines.push({ level, message, extra });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () => inspect(lines, { depth: Number.POSITIVE_INFINITY }),
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  body: string;
  headers: Headers;
}

/** A real fetch that also notes what was sent (to check URLs and bodies on the wire). */
export function recordingFetch(): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    requests.push({
      method: request.method,
      url: request.url,
      body: request.body ? await request.clone().text() : "",
      headers: new Headers(request.headers),
    });
    return fetch(request);
  };
  return { fetch: recording, requests };
}

export function sandboxClient(sb: Sandbox, overrides: Partial<DingTalkClientOptions> = {}) {
  const logger = recordingLogger();
  const client = createDingTalkClient({
    baseUrl: sb.url,
    appKey: sb.options.appKey,
    appSecret: sb.options.appSecret,
    retry: FAST_RETRY,
    timeoutMs: 5_000,
    logger,
    ...overrides,
  });
  return { client, logger };
}

/** Await a promise that must reject; return what it rejected with. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** Everything reachable from an error — message, own fields, cause chain — as one string. */
export function everythingIn(error: unknown): string {
  const parts: string[] = [];
  for (let link = error, depth = 0; link !== undefined && link !== null && depth < 10; depth++) {
    parts.push(inspect(link, { depth: Number.POSITIVE_INFINITY, showHidden: true }));
    parts.push(String(link));
    link = (link as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}
