/**
 * What a benchmark run measures: the cases (contender × source × sink × size), how many runs each, and
 * the cold-start measurement. `planFor("full" | "quick")` is what `npm run bench` runs; tests build smaller
 * plans by hand.
 */
import { workerOptions } from "./worker-options.js";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** unthrottled = loopback as fast as it goes; throttled = the sandbox's per-connection bandwidth limit. */
export type SourceName = "unthrottled" | "throttled";
/** sink = bench/s3-sink.ts (checks, then discards); fauxqs = the S3 emulator (keeps everything in memory). */
export type SinkName = "sink" | "fauxqs";
export type ContenderKind = "engine" | "baseline" | "upload-only" | "rclone" | "curl" | "curl-ranges";

export interface CaseSpec {
  /** Unique, stable: targets and the chart find cases by it. */
  id: string;
  kind: ContenderKind;
  /** As shown in the table, e.g. "engine c8 · 8 MiB parts". */
  label: string;
  /** Where the bytes come from; none for upload-only (generated in the contender). */
  source: SourceName | "none";
  /** Where they go; none for curl (to /dev/null). */
  sink: SinkName | "none";
  size: number;
  /** engine, upload-only, curl-ranges: parts in flight; rclone: --s3-upload-concurrency. */
  concurrency?: number;
  /** engine, upload-only, curl-ranges: part (range) size; baseline: lib-storage partSize; rclone: chunk size. */
  partSize?: number;
  /** baseline: lib-storage queueSize. */
  queueSize?: number;
  runs: number;
  /**
   * Node flags for a Node contender (a runtime setting, not an engine option). The engine and the upload-only
   * ceiling run with the archive worker's NODE_OPTIONS from serverless.yml (bench/worker-options.ts).
   */
  nodeFlags?: string[];
}

export interface BenchPlan {
  name: string;
  /** Bytes per second per file-host connection of the throttled source. */
  throttleBytesPerSecond: number;
  cases: CaseSpec[];
  /** Fresh-process imports per function (and loads of the official SDK client); 0 = skip cold start. */
  coldStartRuns: number;
}

export const sizeLabel = (n: number) =>
  n >= GiB && n % GiB === 0 ? `${n / GiB} GiB` : n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : `${n} B`;
const short = (n: number) => sizeLabel(n).replace(" ", "");

interface Options {
  runs: number;
  throttle: number;
  /** File for the throttled comparison (every contender). */
  throttledSize: number;
  /** File for the unthrottled comparison (concurrency sweep, baselines, rclone, ceilings). */
  sweepSize: number;
  /** Sizes for peak RSS vs file size (engine c8 and the baselines), besides sweepSize. */
  rssSizes: number[];
  /** The size that goes through fauxqs (small: it keeps uploads in memory). */
  fauxqsSize: number;
  partSizes: number[];
  concurrencies: number[];
  coldStartRuns: number;
}

/**
 * Runs are cut for single-connection contenders on the throttled source: their speed is the bandwidth limit
 * of one connection (a 256 MiB file takes 32 s at 8 MiB/s), and the runs barely differ — 2 runs for the two
 * the targets compare with (lib-storage defaults, rclone), 1 for the others. The queueSize 8 baseline is run
 * on 4 GiB only in quick mode's sizes (≤ 1 GiB): 4 GiB × every contender would not fit in 30 minutes.
 */
function build(name: string, o: Options): BenchPlan {
  const cases: CaseSpec[] = [];
  // The engine (and the upload-only ceiling, the same S3 path) run as deployed: the worker's NODE_OPTIONS.
  const deployed = workerOptions().nodeFlags;
  const add = (c: Omit<CaseSpec, "runs"> & { runs?: number }) =>
    cases.push({
      runs: o.runs,
      ...((c.kind === "engine" || c.kind === "upload-only") && deployed.length
        ? { nodeFlags: deployed }
        : {}),
      ...c,
    });
  const slowRuns = Math.min(o.runs, 2);
  const oneRun = 1;
  for (const source of ["throttled", "unthrottled"] as const) {
    const size = source === "throttled" ? o.throttledSize : o.sweepSize;
    const tag = `${source}-${short(size)}`;
    for (const partSize of o.partSizes) {
      for (const concurrency of o.concurrencies) {
        add({
          id: `engine-c${concurrency}-p${partSize / MiB}-${tag}`,
          kind: "engine",
          label: `engine c${concurrency} · ${partSize / MiB} MiB parts`,
          source,
          sink: "sink",
          size,
          concurrency,
          partSize,
          // c1 on the throttled source is one connection too: as slow as the baseline.
          ...(source === "throttled" && concurrency === 1 ? { runs: oneRun } : {}),
        });
      }
    }
    add({
      id: `baseline-default-${tag}`,
      kind: "baseline",
      label: "lib-storage Upload (defaults: queueSize 4, 5 MiB parts)",
      source,
      sink: "sink",
      size,
      ...(source === "throttled" ? { runs: slowRuns } : {}),
    });
    add({
      id: `baseline-q8-${tag}`,
      kind: "baseline",
      label: "lib-storage Upload (queueSize 8, 16 MiB parts)",
      source,
      sink: "sink",
      size,
      queueSize: 8,
      partSize: 16 * MiB,
      ...(source === "throttled" ? { runs: oneRun } : {}),
    });
    add({
      id: `rclone-default-${tag}`,
      kind: "rclone",
      label: "rclone copyurl (defaults: 4 × 5 MiB chunks)",
      source,
      sink: "sink",
      size,
      ...(source === "throttled" ? { runs: slowRuns } : {}),
    });
    if (source === "unthrottled") {
      add({
        id: `rclone-c8-${tag}`,
        kind: "rclone",
        label: "rclone copyurl (--s3-upload-concurrency 8, 16 MiB chunks)",
        source,
        sink: "sink",
        size,
        concurrency: 8,
        partSize: 16 * MiB,
      });
    }
    add({
      id: `curl-${tag}`,
      kind: "curl",
      label: "ceiling: curl → /dev/null (one GET)",
      source,
      sink: "none",
      size,
      ...(source === "throttled" ? { runs: 1 } : {}),
    });
    add({
      id: `curl-ranges-${tag}`,
      kind: "curl-ranges",
      label: "ceiling: curl → /dev/null (8 ranges of 8 MiB in parallel)",
      source,
      sink: "none",
      size,
      concurrency: 8,
      partSize: 8 * MiB,
    });
  }
  add({
    id: `upload-only-c8-p8-${short(o.sweepSize)}`,
    kind: "upload-only",
    label: "ceiling: upload only (generated bytes → sink, c8 · 8 MiB parts)",
    source: "none",
    sink: "sink",
    size: o.sweepSize,
    concurrency: 8,
    partSize: 8 * MiB,
  });
  // Peak RSS vs file size: engine c8 and both baselines, unthrottled into the sink.
  for (const size of o.rssSizes) {
    const tag = `unthrottled-${short(size)}`;
    add({
      id: `engine-c8-p8-${tag}`,
      kind: "engine",
      label: "engine c8 · 8 MiB parts",
      source: "unthrottled",
      sink: "sink",
      size,
      concurrency: 8,
      partSize: 8 * MiB,
    });
    add({
      id: `baseline-default-${tag}`,
      kind: "baseline",
      label: "lib-storage Upload (defaults: queueSize 4, 5 MiB parts)",
      source: "unthrottled",
      sink: "sink",
      size,
    });
    if (size <= GiB) {
      add({
        id: `baseline-q8-${tag}`,
        kind: "baseline",
        label: "lib-storage Upload (queueSize 8, 16 MiB parts)",
        source: "unthrottled",
        sink: "sink",
        size,
        queueSize: 8,
        partSize: 16 * MiB,
      });
    }
  }
  // The same engine without the worker's NODE_OPTIONS (node's defaults): what the runtime flags change.
  for (const size of [o.sweepSize, ...o.rssSizes]) {
    add({
      id: `engine-c8-p8-plain-unthrottled-${short(size)}`,
      kind: "engine",
      label: "engine c8 · 8 MiB parts, node without NODE_OPTIONS",
      source: "unthrottled",
      sink: "sink",
      size,
      concurrency: 8,
      partSize: 8 * MiB,
      nodeFlags: [],
    });
  }
  // The S3 emulator, small file only.
  const ftag = `unthrottled-${short(o.fauxqsSize)}-fauxqs`;
  add({
    id: `engine-c8-p8-${ftag}`,
    kind: "engine",
    label: "engine c8 · 8 MiB parts",
    source: "unthrottled",
    sink: "fauxqs",
    size: o.fauxqsSize,
    concurrency: 8,
    partSize: 8 * MiB,
  });
  add({
    id: `baseline-default-${ftag}`,
    kind: "baseline",
    label: "lib-storage Upload (defaults: queueSize 4, 5 MiB parts)",
    source: "unthrottled",
    sink: "fauxqs",
    size: o.fauxqsSize,
  });
  return {
    name,
    throttleBytesPerSecond: o.throttle,
    cases: runOrder(cases, o.sweepSize),
    coldStartRuns: o.coldStartRuns,
  };
}

/**
 * The order cases run in (each round; the harness reverses every other round): sections (throttled, the
 * unthrottled comparison size, the other sizes, fauxqs) and, in each, the contenders a target compares
 * back to back, so that a machine whose load drifts during the run shifts them alike.
 */
export function runOrder(cases: CaseSpec[], sweepSize: number): CaseSpec[] {
  const section = (c: CaseSpec) =>
    c.sink === "fauxqs" ? 3 : c.source === "throttled" ? 0 : c.size === sweepSize ? 1 : 2;
  const FIRST = [
    "engine-c8-p8-",
    "baseline-default-",
    "baseline-q8-",
    "rclone-default-",
    "upload-only-",
    "curl-ranges-",
    "curl-",
    "engine-c8-p8-plain-",
  ];
  // The longest matching prefix ("curl-ranges-" over "curl-", "engine-c8-p8-plain-" over "engine-c8-p8-").
  const rank = (c: CaseSpec) =>
    FIRST.map((prefix, i) => ({ prefix, i }))
      .filter(({ prefix }) => c.id.startsWith(prefix))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0]?.i ?? FIRST.length;
  return cases
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        section(a.c) - section(b.c) ||
        (section(a.c) === 2 ? a.c.size - b.c.size : 0) ||
        rank(a.c) - rank(b.c) ||
        a.i - b.i,
    )
    .map(({ c }) => c);
}

export function planFor(mode: "full" | "quick"): BenchPlan {
  if (mode === "quick") {
    return build("quick", {
      runs: 1,
      throttle: 8 * MiB,
      throttledSize: 128 * MiB,
      sweepSize: 256 * MiB,
      rssSizes: [GiB],
      fauxqsSize: 64 * MiB,
      partSizes: [8 * MiB, 16 * MiB],
      concurrencies: [1, 4, 8, 16],
      coldStartRuns: 5,
    });
  }
  return build("full", {
    runs: 3,
    throttle: 8 * MiB,
    throttledSize: 256 * MiB,
    sweepSize: GiB,
    rssSizes: [256 * MiB, 4 * GiB],
    fauxqsSize: 256 * MiB,
    partSizes: [8 * MiB, 16 * MiB],
    concurrencies: [1, 4, 8, 16],
    coldStartRuns: 15,
  });
}

/** Every generated file a plan needs, by size. */
export function fileSizes(plan: BenchPlan): number[] {
  return [...new Set(plan.cases.map((c) => c.size))].sort((a, b) => a - b);
}

export const fileName = (size: number) => `bench-${short(size)}.bin`;
export const fileSeed = (size: number) => `bench/${short(size)}`;
