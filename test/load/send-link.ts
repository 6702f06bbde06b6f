/**
 * Load: POST /webhooks/send-link through the local stack (`npm start` in a child process on free ports) at a
 * steady rate for a bounded time, with autocannon. Every request is signed afresh (Standard Webhooks, the
 * local secret) with its own webhook-id, so each one is a new send, not an idempotent replay.
 *
 *   node --import tsx test/load/send-link.ts [--rate 50] [--duration 20] [--connections 10]
 *
 * Prints the rate asked and achieved, errors (connection errors, timeouts, non-2xx), latency p50/p90/p99/max
 * (ms, corrected for coordinated omission), and the links the sandbox received (must equal the 2xx answers).
 * Exit 1 if any request failed or a link is missing or doubled.
 */
import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import {
  dentryIdOf,
  type LocalStack,
  sandboxState,
  signed,
  signedPost,
  startLocalStack,
} from "../support/local-stack";
import { runAsScript } from "./common";

export interface SendLinkLoadOptions {
  /** Requests per second, all connections together. */
  rate: number;
  /** Seconds. */
  duration: number;
  connections: number;
}

export interface SendLinkLoadFigures extends SendLinkLoadOptions {
  /** Requests answered within the duration. */
  requests: number;
  achievedRate: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Links the sandbox's sendLink API received during the run. */
  linksSent: number;
}

export async function runSendLinkLoad(
  stack: LocalStack,
  options: SendLinkLoadOptions,
): Promise<SendLinkLoadFigures> {
  const dentryId = await dentryIdOf(stack, "README.txt");
  const body = JSON.stringify({ spaceId: "sandbox-space", dentryId, openConversationId: "cid-sandbox" });
  // Warm up: serverless-offline starts one function instance per concurrent request, each loading its bundle
  // (a cold start); bursts as wide as the load's connections start them all before measuring.
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        const warm = await signedPost(stack, "/webhooks/send-link", JSON.parse(body));
        if (warm.status !== 200)
          throw new Error(`warm-up answered ${warm.status}: ${JSON.stringify(warm.body)}`);
      }),
    );
  }
  const linksBefore = (await sandboxState(stack)).sentLinks.length;

  const result = await autocannon({
    url: stack.httpUrl,
    connections: options.connections,
    duration: options.duration,
    overallRate: options.rate,
    timeout: 10,
    requests: [
      {
        method: "POST",
        path: "/webhooks/send-link",
        // Called for every request: a fresh webhook-id and timestamp each time.
        setupRequest: (request) => ({ ...request, headers: signed(body, `msg_${randomUUID()}`), body }),
      },
    ],
  });

  // autocannon stops at the deadline without waiting for the requests in flight; the stack still answers them.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const linksSent = (await sandboxState(stack)).sentLinks.length - linksBefore;
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count]),
  );
  return {
    ...options,
    requests: result.requests.total,
    achievedRate: result.requests.total / result.duration,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    linksSent,
  };
}

export function formatSendLinkFigures(f: SendLinkLoadFigures): string {
  return [
    `send-link load: ${f.rate} req/s asked for ${f.duration} s over ${f.connections} connections`,
    `  requests   ${f.requests} answered (${f.achievedRate.toFixed(1)} req/s achieved)`,
    `  answers    2xx ${f.ok}, non-2xx ${f.non2xx}, errors ${f.errors}, timeouts ${f.timeouts} ${JSON.stringify(f.statusCodes)}`,
    `  latency    p50 ${f.latencyMs.p50} ms, p90 ${f.latencyMs.p90} ms, p99 ${f.latencyMs.p99} ms, max ${f.latencyMs.max} ms, mean ${f.latencyMs.mean.toFixed(1)} ms`,
    `  links      ${f.linksSent} received by the sandbox (expected ${f.ok} to ${f.ok + f.connections}: one per 2xx, plus requests in flight at the deadline)`,
  ].join("\n");
}

export function sendLinkProblems(f: SendLinkLoadFigures): string[] {
  const problems: string[] = [];
  if (f.errors > 0 || f.timeouts > 0) problems.push(`${f.errors} errors, ${f.timeouts} timeouts`);
  if (f.non2xx > 0) problems.push(`${f.non2xx} non-2xx answers ${JSON.stringify(f.statusCodes)}`);
  // autocannon drops the answers still in flight at the deadline (at most one per connection).
  if (f.linksSent < f.ok || f.linksSent > f.ok + f.connections) {
    problems.push(`${f.linksSent} links sent for ${f.ok} 2xx answers over ${f.connections} connections`);
  }
  if (f.achievedRate < f.rate * 0.9)
    problems.push(`achieved ${f.achievedRate.toFixed(1)} req/s of ${f.rate}`);
  return problems;
}

let output = () => "";
await runAsScript(
  import.meta.url,
  { rate: 50, duration: 20, connections: 10 },
  {
    async run(options) {
      const stack = await startLocalStack();
      output = () => `${stack.output().slice(-3000)}\n`;
      process.stdout.write(`local stack up in ${stack.startSeconds.toFixed(1)} s (${stack.httpUrl})\n`);
      return runSendLinkLoad(stack, options).finally(() => stack.stop());
    },
    format: formatSendLinkFigures,
    problems: sendLinkProblems,
    context: () => output(),
  },
);
