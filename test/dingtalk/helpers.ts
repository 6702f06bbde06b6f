/** Shared pieces of the DingTalk client tests: a client on short backoffs, a logger and a fetch that record. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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

/** One scripted answer of startScriptedDingTalk. */
export interface Reply {
  status: number;
  body: string;
  contentType?: string;
}

/**
 * A tiny node:http server that says whatever the test tells it to, for answers the sandbox (a faithful
 * DingTalk) never gives. The token call answers properly with `token`; every other request gets
 * `answer(url)`, with `requestId` as x-acs-request-id. `urls` holds every request's URL, token calls included.
 */
export async function startScriptedDingTalk(
  token: string,
  requestId: string,
  answer: (url: string) => Reply,
): Promise<{ baseUrl: string; urls: string[]; close(): Promise<void> }> {
  const urls: string[] = [];
  const server = createServer((req, res) => {
    urls.push(req.url ?? "");
    if (req.url?.includes("/oauth2/accessToken")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ accessToken: token, expireIn: 7200 }));
      return;
    }
    req.resume();
    const reply = answer(req.url ?? "");
    res.writeHead(reply.status, {
      "content-type": reply.contentType ?? "application/json",
      "x-acs-request-id": requestId,
    });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    urls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
