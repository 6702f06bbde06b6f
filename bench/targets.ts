/**
 * The issue's targets, evaluated on the rows of one run. A target compares contenders measured in the same
 * run; "lib-storage baseline" means both of its configurations (defaults, and queueSize 8 / 16 MiB parts):
 * a target is met only if it holds against each.
 */
import { cpus } from "node:os";
import type { ColdStart } from "./cold-start.js";
import type { Row } from "./harness.js";
import { type BenchPlan, MiB, sizeLabel } from "./plan.js";

export interface Target {
  name: string;
  /** undefined: not measured in this run (a contender missing or failed). */
  met: boolean | undefined;
  detail: string;
}

const f1 = (n: number | undefined) => (n === undefined ? "–" : n.toFixed(1));
const f2 = (n: number | undefined) => (n === undefined ? "–" : n.toFixed(2));

function find(rows: Row[], prefix: string, suffix: string): Row | undefined {
  return rows.find((r) => r.id === `${prefix}${suffix}` && r.ok);
}

/** The size of the file a source was compared on (from the engine c8 row). */
function sweepTag(rows: Row[], source: "throttled" | "unthrottled"): string | undefined {
  const candidates = rows.filter((r) => r.kind === "engine" && r.source === source && r.sink === "sink");
  const sizes = [...new Set(candidates.map((r) => r.size))];
  // The sweep size is the one with several concurrencies.
  const size = sizes.find(
    (s) => new Set(candidates.filter((r) => r.size === s).map((r) => r.concurrency)).size > 1,
  );
  return size === undefined ? undefined : `${source}-${sizeLabel(size).replace(" ", "")}`;
}

/** The process.memoryUsage() peaks of a row's highest-RSS run: where its RSS went. */
function memoryAtPeak(row: Row): string {
  const run = [...row.measurements]
    .filter((m) => m.ok)
    .sort((a, b) => (b.peakRssMiB ?? 0) - (a.peakRssMiB ?? 0))[0];
  const p = run?.peakMemoryMiB;
  if (!p) return "";
  return `at ${sizeLabel(row.size)}, peaks: V8 heap ${f1(p.heapTotal)} MiB committed / ${f1(p.heapUsed)} MiB used, Buffers ${f1(p.arrayBuffers)} MiB`;
}

/** The same engine run with node --max-semi-space-size=2, if measured. */
function semiSpace(rows: Row[]): string {
  const semi = rows
    .filter((r) => r.kind === "engine" && r.nodeFlags?.includes("--max-semi-space-size=2") && r.ok)
    .sort((a, b) => a.size - b.size);
  if (semi.length === 0) return "";
  return `; with node --max-semi-space-size=2: ${semi.map((r) => `${sizeLabel(r.size)}: ${f1(r.peakRssMiB)} MiB`).join(", ")}`;
}

export function evaluateTargets(plan: BenchPlan, rows: Row[], cold: ColdStart | undefined): Target[] {
  const out: Target[] = [];

  // 1. Throttled source: engine c8 ≥ 6× the baseline, and ahead of rclone.
  {
    const tag = sweepTag(rows, "throttled");
    const engine = tag && find(rows, "engine-c8-p8-", tag);
    const baselines = tag ? [find(rows, "baseline-default-", tag), find(rows, "baseline-q8-", tag)] : [];
    const rclone = tag ? rows.filter((r) => r.kind === "rclone" && r.id.endsWith(tag) && r.ok) : [];
    const name = `throttled source (${plan.throttleBytesPerSecond / MiB} MiB/s per connection): engine c8 ≥ 6× the lib-storage baseline and ahead of rclone`;
    if (!engine || baselines.some((b) => !b)) {
      out.push({ name, met: undefined, detail: "engine c8 or a baseline was not measured" });
    } else {
      const e = engine.mibps as number;
      const ratios = baselines.map((b) => e / (b?.mibps as number));
      const bestRclone = Math.max(...rclone.map((r) => r.mibps as number));
      const vsBaseline = ratios.every((r) => r >= 6);
      const vsRclone = rclone.length === 0 ? undefined : e > bestRclone;
      out.push({
        name,
        met: vsRclone === undefined ? vsBaseline : vsBaseline && vsRclone,
        detail:
          `engine c8 ${f1(e)} MiB/s; lib-storage defaults ${f1(baselines[0]?.mibps)} MiB/s (×${f1(ratios[0])}), ` +
          `queueSize 8 / 16 MiB ${f1(baselines[1]?.mibps)} MiB/s (×${f1(ratios[1])}); ` +
          (rclone.length === 0
            ? "rclone not installed: not compared"
            : `rclone ${f1(bestRclone)} MiB/s (engine ×${f1(e / bestRclone)})`),
      });
    }
  }

  // 2. Unthrottled into the sink: ≥ 1.5× the baseline at no more CPU/GiB, within 70 % of the lower ceiling.
  {
    const tag = sweepTag(rows, "unthrottled");
    const engine = tag && find(rows, "engine-c8-p8-", tag);
    const baselines = tag ? [find(rows, "baseline-default-", tag), find(rows, "baseline-q8-", tag)] : [];
    const downloads = tag ? rows.filter((r) => r.kind.startsWith("curl") && r.id.endsWith(tag) && r.ok) : [];
    const upload = rows.find((r) => r.kind === "upload-only" && r.ok);
    const name =
      "unthrottled into the sink: engine c8 ≥ 1.5× the baseline's MiB/s at no more CPU s/GiB, and ≥ 70 % of the lower ceiling";
    if (!engine || baselines.some((b) => !b) || !upload) {
      out.push({
        name,
        met: undefined,
        detail: "engine c8, a baseline or the upload-only ceiling was not measured",
      });
    } else {
      const e = engine.mibps as number;
      const ec = engine.cpuSecondsPerGiB as number;
      const ratios = baselines.map((b) => e / (b?.mibps as number));
      const cheaper = baselines.every((b) => ec <= (b?.cpuSecondsPerGiB as number));
      const download = downloads.length ? Math.max(...downloads.map((r) => r.mibps as number)) : undefined;
      const ceiling = Math.min(download ?? Number.POSITIVE_INFINITY, upload.mibps as number);
      const share = e / ceiling;
      // What the machine can give at most: the CPU of the engine, the file host and the sink per GiB, spread
      // over every CPU with nothing else running.
      const machineCpu = ec + (engine.serverCpuPerGiB.source ?? 0) + (engine.serverCpuPerGiB.sink ?? 0);
      const bound = (cpus().length * 1024) / machineCpu;
      out.push({
        name,
        met: ratios.every((r) => r >= 1.5) && cheaper && share >= 0.7,
        detail:
          `engine c8 ${f1(e)} MiB/s at ${f2(ec)} CPU s/GiB; lib-storage defaults ${f1(baselines[0]?.mibps)} MiB/s at ${f2(baselines[0]?.cpuSecondsPerGiB)} CPU s/GiB (×${f2(ratios[0])}), ` +
          `queueSize 8 / 16 MiB ${f1(baselines[1]?.mibps)} MiB/s at ${f2(baselines[1]?.cpuSecondsPerGiB)} CPU s/GiB (×${f2(ratios[1])}); ` +
          `ceilings: download ${download === undefined ? "not measured (no curl)" : `${f1(download)} MiB/s`}, upload only ${f1(upload.mibps)} MiB/s → engine at ${(share * 100).toFixed(0)} % of the lower. ` +
          `CPU per GiB for engine + file host + sink: ${f2(ec)} + ${f2(engine.serverCpuPerGiB.source)} + ${f2(engine.serverCpuPerGiB.sink)} = ${f2(machineCpu)} s → at most ~${bound.toFixed(0)} MiB/s on ${cpus().length} CPUs with nothing else running`,
      });
    }
  }

  // 3. Peak RSS of engine c8 ≤ 120 MiB, and flat in file size.
  {
    const engine = rows
      .filter(
        (r) =>
          r.kind === "engine" &&
          !r.nodeFlags?.length &&
          r.concurrency === 8 &&
          r.partSize === 8 * MiB &&
          r.source === "unthrottled" &&
          r.sink === "sink" &&
          r.ok,
      )
      .sort((a, b) => a.size - b.size);
    const name = "peak RSS of engine c8 ≤ 120 MiB, and flat in file size (largest within 10 % of smallest)";
    if (engine.length < 2) {
      out.push({ name, met: undefined, detail: "engine c8 was not measured at two sizes" });
    } else {
      const first = engine[0] as Row;
      const last = engine.at(-1) as Row;
      const max = Math.max(...engine.map((r) => r.peakRssMiB as number));
      const growth = (last.peakRssMiB as number) / (first.peakRssMiB as number) - 1;
      out.push({
        name,
        met: max <= 120 && growth <= 0.1,
        detail:
          engine.map((r) => `${sizeLabel(r.size)}: ${f1(r.peakRssMiB)} MiB`).join(", ") +
          ` (${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)} % from ${sizeLabel(first.size)} to ${sizeLabel(last.size)}); ` +
          `RSS with the code loaded, before the transfer: ${f1(first.startRssMiB)} MiB; ${memoryAtPeak(last)}` +
          semiSpace(rows),
      });
    }
  }

  // 4. Cold start: every HTTP-facing function, as deployed (its NODE_OPTIONS), imports in under a third of
  //    the SDK storage client's load time.
  {
    const name =
      "cold start: every HTTP function's bundle, with its deployed NODE_OPTIONS, imports in < ⅓ of the time the official SDK's storage client takes to load";
    const http = cold?.functions.filter((f) => f.http) ?? [];
    const failed = http.find((f) => f.error || f.importMsDeployed === undefined);
    if (!cold || http.length === 0 || failed || !cold.sdkStorageMs) {
      out.push({
        name,
        met: undefined,
        detail: cold ? (failed?.error ?? cold.sdkError ?? "not measured") : "cold start not measured",
      });
    } else {
      const sdkMs = cold.sdkStorageMs;
      const ratio = (f: (typeof http)[number]) => (f.importMsDeployed ?? Number.POSITIVE_INFINITY) / sdkMs;
      out.push({
        name,
        met: http.every((f) => ratio(f) < 1 / 3),
        detail: [
          ...http.map(
            (f) =>
              `${f.name} ${f1(f.importMsDeployed)} ms with ${f.nodeOptions ? `"${f.nodeOptions}"` : "no NODE_OPTIONS"} (plain ${f1(f.importMs)}) → ratio ${f2(ratio(f))}`,
          ),
          `SDK storage_1_0 client ${f1(sdkMs)} ms (target < 0.33); medians of ${cold.runs}`,
        ].join("; "),
      });
    }
  }
  return out;
}
