/**
 * What one campaign run does, drawn from its seeded stream: the file's size, the transfer settings, the
 * DingTalk sandbox's fault rules, the S3 proxy's faults, when the CLI is SIGKILLed, and what outcome the
 * faults allow (complete, fail, or either). Pure: the same seed and run number give the same plan.
 */
import type { FaultRule } from "../sandbox/types";
import { Random } from "./random";
import type { S3Faults, S3Op } from "./s3-proxy";

export const MiB = 1024 * 1024;

export interface PlanOptions {
  /** Largest file size. Default 60 MiB. */
  maxSize: number;
  /** Allow stalls that last until the engine's 30 s idle timeout gives up (slow: off for the CI slice). */
  longStalls: boolean;
}

/**
 * Stop the CLI after `ms` from its start, or at a moment of its S3 traffic (counted from the CLI's start):
 * SIGKILL (a crash: nothing saved but what is already in the checkpoint) or SIGTERM (a graceful stop: finish
 * the parts in flight, save the checkpoint, exit 143 with a "paused" line).
 */
export type KillPlan = { signal: "SIGKILL" | "SIGTERM" } & (
  | { at: "time"; ms: number }
  | { at: "s3"; op: S3Op; phase: "request" | "answer"; nth: number }
);

export type Expectation = "complete" | "fail" | "either";

export interface RunPlan {
  run: number;
  seed: string;
  size: number;
  partSize: number;
  concurrency: number;
  /** Per file-host connection, bytes/s; undefined = unlimited. */
  bandwidth: number | undefined;
  /** Lifetime of signed download URLs, seconds (short ones expire during the transfer). */
  urlTtlSeconds: number;
  sandboxFaults: FaultRule[];
  s3Faults: S3Faults;
  /** One entry per killed CLI start; the start after the last one runs to its end. */
  kills: KillPlan[];
  expect: Expectation;
  /** Why the expectation is not "complete". */
  expectWhy: string[];
  /** Short labels of the faults, for the log line and the tallies. */
  labels: string[];
}

/** Faults that cost a part one of its 5 attempts; at most this many per run, so no part can run out. */
const PART_FAILURE_BUDGET = 4;
/** The same for the fallback that streams the whole file (3 attempts). */
const STREAM_FAILURE_BUDGET = 2;

export function makePlan(seed: string, run: number, options: PlanOptions): RunPlan {
  const r = Random.forRun(seed, run);
  const partSize = r.weighted([
    [5 * MiB, 7],
    [6 * MiB, 2],
    [8 * MiB, 1],
  ] as const);
  const size = drawSize(r, partSize, options.maxSize);
  const multipart = size > partSize;
  const parts = Math.max(1, Math.ceil(size / partSize));
  const concurrency = r.pick([1, 2, 4, 4, 8]);
  const bandwidth = r.weighted<number | undefined>([
    [undefined, 4],
    [48 * MiB, 3],
    [16 * MiB, 3],
  ]);
  const sandboxFaults: FaultRule[] = [];
  const s3Faults: S3Faults = {};
  const labels: string[] = [];
  const expectWhy: string[] = [];
  let expect: Expectation = "complete";
  const weaken = (why: string, to: Expectation) => {
    expectWhy.push(why);
    if (to === "fail") expect = "fail";
    else if (expect === "complete") expect = "either";
  };
  const add = (rule: FaultRule, label: string) => {
    sandboxFaults.push(rule);
    labels.push(label);
  };
  // The host answers 200 with the whole file: the engine aborts the multipart upload and streams the file
  // whole into a multipart upload of its own, with 3 attempts instead of 5.
  const ignoreRange = multipart && r.chance(0.08);
  if (ignoreRange) add({ api: "file", kind: "ignoreRange", times: 1 }, "file:ignoreRange");
  const budget = ignoreRange ? STREAM_FAILURE_BUDGET : PART_FAILURE_BUDGET;
  let partFailures = 0;
  /** Room left in the failure budget for `n` more. */
  const room = (n: number) => Math.max(0, Math.min(n, budget - partFailures));
  const fileBytes = Math.max(1, Math.min(size, partSize));

  // --- the file host (each costs the part it hits one attempt) ---
  const fileKinds = ["dropConnection", "truncate", "systemError", "urlExpired", "stall"] as const;
  const howMany = r.weighted([
    [0, 3],
    [1, 3],
    [2, 2],
    [3, 1],
  ] as const);
  for (let i = 0; i < howMany; i++) {
    const kind = r.pick(fileKinds);
    const times = room(r.int(1, 2));
    if (times === 0) break;
    if (kind === "stall") {
      // A slow body: silence for a while, then the rest (under the engine's 30 s idle timeout: not a failure).
      const latencyMs = r.int(300, 2500);
      add(
        { api: "file", kind: "stall", times, afterBytes: r.int(0, fileBytes - 1), latencyMs },
        `file:slowBody×${times}`,
      );
      continue; // costs no attempt
    }
    partFailures += times;
    const rule: FaultRule = { api: "file", kind, times };
    if (kind === "dropConnection" || kind === "truncate") rule.afterBytes = r.int(0, fileBytes - 1);
    add(rule, `file:${kind}×${times}`);
  }
  if (options.longStalls && r.chance(0.015) && room(1) > 0) {
    partFailures += 1;
    add(
      { api: "file", kind: "stall", times: 1, afterBytes: r.int(0, fileBytes - 1) },
      "file:stallUntilTimeout×1",
    );
  }
  if (r.chance(0.1)) {
    // One URL fails until the engine moves on to the other resourceUrl.
    const times = room(r.int(1, 3));
    if (times > 0) {
      partFailures += times;
      add({ api: "file", kind: "systemError", times, urlIndex: 0 }, `file:url0Down×${times}`);
    }
  }
  if (r.chance(0.3)) {
    add({ api: "file", kind: "latency", times: r.int(1, 6), latencyMs: r.int(20, 400) }, "file:latency");
  }
  const urlTtlSeconds = r.chance(0.12) ? r.int(2, 4) : 900;
  if (urlTtlSeconds < 900) labels.push(`urlTtl${urlTtlSeconds}s`);

  // --- the DingTalk API (the client retries 5 times within 20 s; a token refresh repeats a call once) ---
  const apiKinds = ["systemError", "operationTimeout", "qpsLimit", "systemBusy", "dropConnection"] as const;
  for (const api of ["downloadInfo", "getDentry", "token"] as const) {
    if (!r.chance(api === "downloadInfo" ? 0.35 : 0.15)) continue;
    const kind = r.pick(apiKinds);
    const times = r.int(1, 3);
    add({ api, kind, times }, `${api}:${kind}×${times}`);
  }
  if (r.chance(0.25)) {
    add(
      {
        api: r.pick(["downloadInfo", "getDentry"] as const),
        kind: "latency",
        times: 2,
        latencyMs: r.int(50, 1200),
      },
      "api:latency",
    );
  }
  if (r.chance(0.15)) {
    add(
      { api: r.pick(["downloadInfo", "getDentry"] as const), kind: "tokenExpired", times: 1 },
      "tokenExpired",
    );
  }
  if (r.chance(0.03)) {
    // Twice in a row: the client refreshes the token once per call, then gives up (a clean failure), unless a
    // kill lands between the two.
    add({ api: "getDentry", kind: "tokenExpired", times: 2 }, "tokenExpired×2");
    weaken("two token refusals in a row on one call", "either");
  }
  if (r.chance(0.04)) {
    add({ api: "downloadInfo", kind: "fileArchived", times: 1 }, "fileArchived");
    weaken("fileArchived: DingTalk is unarchiving the file (retry later)", "either");
  }

  // --- S3, through the proxy ---
  if (multipart && r.chance(0.35)) {
    const kind = r.pick(["partInternalError", "partSlowDown", "partReset"] as const);
    const times = room(r.int(1, 2));
    if (times > 0) {
      partFailures += times;
      s3Faults[kind] = times;
      if (kind === "partReset") s3Faults.resetAfterBytes = r.int(1, Math.min(size, partSize) - 1);
      labels.push(`s3:${kind}×${times}`);
    }
  }
  if (!multipart && r.chance(0.15)) {
    s3Faults.putInternalError = 1;
    labels.push("s3:putInternalError×1");
  }
  if (multipart && r.chance(0.15)) {
    s3Faults.completeInternalError = r.int(1, 2); // the SDK retries CompleteMultipartUpload 3 times
    labels.push(`s3:completeInternalError×${s3Faults.completeInternalError}`);
  }
  if (multipart && r.chance(0.1)) {
    s3Faults.createSlowDown = 1;
    labels.push("s3:createSlowDown×1");
  }
  if (multipart && r.chance(0.06)) {
    s3Faults.completeAnswerLost = 1;
    labels.push("s3:completeAnswerLost×1");
  }

  // --- faults that must end the run in a clean failure ---
  if (r.chance(0.035)) {
    add({ api: "file", kind: "systemError" }, "file:down(persistent)");
    weaken("the file host answers 500 to every request", "fail");
  } else if (multipart && r.chance(0.03)) {
    s3Faults.partInternalError = 1000;
    labels.push("s3:partInternalError(persistent)");
    weaken("S3 answers 500 to every UploadPart", "fail");
  } else if (r.chance(0.02)) {
    add(
      { api: "downloadInfo", kind: "error", status: 403, code: "permissionDenied" },
      "downloadInfo:permissionDenied",
    );
    weaken("DingTalk refuses the download (permissionDenied)", "fail");
  }

  // --- SIGKILL and restart ---
  const killCount = r.weighted([
    [0, 4],
    [1, 4],
    [2, 2],
  ] as const);
  const kills: KillPlan[] = [];
  const s3Moments: Array<{ op: S3Op; phase: "request" | "answer"; max: number }> = multipart
    ? [
        { op: "CreateMultipartUpload", phase: "answer", max: 1 },
        { op: "UploadPart", phase: "request", max: parts },
        { op: "UploadPart", phase: "answer", max: parts },
        { op: "CompleteMultipartUpload", phase: "request", max: 1 },
        { op: "CompleteMultipartUpload", phase: "answer", max: 1 },
      ]
    : [
        { op: "HeadObject", phase: "answer", max: 1 },
        { op: "PutObject", phase: "request", max: 1 },
        { op: "PutObject", phase: "answer", max: 1 },
      ];
  for (let i = 0; i < killCount; i++) {
    if (r.chance(0.5)) {
      // CLI start-up takes ~0.8 s; then the transfer, roughly at 25-60 MiB/s on this machine.
      const expectedMs = 900 + (size / (30 * MiB)) * 1000;
      kills.push({ signal: "SIGKILL", at: "time", ms: r.int(150, Math.round(expectedMs * 1.2)) });
    } else {
      const m = r.pick(s3Moments);
      kills.push({ signal: "SIGKILL", at: "s3", op: m.op, phase: m.phase, nth: r.int(1, m.max) });
    }
  }
  // Drawn last, so the rest of a seed's plan stays as it was before SIGTERM was added.
  for (const kill of kills) if (r.chance(0.2)) kill.signal = "SIGTERM";

  return {
    run,
    seed,
    size,
    partSize,
    concurrency,
    bandwidth,
    urlTtlSeconds,
    sandboxFaults,
    s3Faults,
    kills,
    expect,
    expectWhy,
    labels,
  };
}

/**
 * 0 B, tiny, single-part, part-size boundaries, multipart: every branch of the engine (empty PutObject,
 * one PutObject, exactly one part, one part + 1 byte, many parts) shows up in a few dozen runs.
 */
function drawSize(r: Random, partSize: number, maxSize: number): number {
  const kind = r.weighted([
    ["empty", 5],
    ["tiny", 12],
    ["single", 20],
    ["boundary", 10],
    ["multipart", 53],
  ] as const);
  const cap = Math.max(1, maxSize);
  switch (kind) {
    case "empty":
      return 0;
    case "tiny":
      return Math.min(cap, r.int(1, 64 * 1024));
    case "single":
      return Math.min(cap, r.int(64 * 1024, partSize));
    case "boundary": {
      const k = r.int(1, Math.max(1, Math.floor(cap / partSize)));
      return Math.min(cap, Math.max(0, k * partSize + r.pick([-1, 0, 1])));
    }
    case "multipart":
      return cap <= partSize ? r.int(1, cap) : r.int(partSize + 1, cap);
  }
}
