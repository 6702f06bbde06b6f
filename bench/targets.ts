/**
 * The issue's targets, evaluated on the rows of one run. A target compares contenders measured in the same
 * run; "lib-storage baseline" means both of its configurations (defaults, and queueSize 8 / 16 MiB parts):
 * a target is met only if it holds against each.
 */
import { cpus } from "node:os";
import type { ColdStart } from "./cold-start.js";
import type { Row } from "./harness.js";
import { type BenchPlan, MiB, sizeLabel } from "./plan.js";
import { workerOptions } from "./worker-options.js";
import { isDeployedEngineRow, NETWORK_MBPS, WORKER_SIZES, workerSizing } from "./worker-size.js";

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

/** The same engine run without the worker's NODE_OPTIONS (node's defaults), if measured. */
function plainNode(rows: Row[]): string {
  const plain = rows.filter((r) => r.id.startsWith("engine-c8-p8-plain-unthrottled-") && r.ok);
  if (plain.length === 0) return "";
  return `; without NODE_OPTIONS: ${plain
    .sort((a, b) => a.size - b.size)
    .map((r) => `${sizeLabel(r.size)}: ${f1(r.peakRssMiB)} MiB`)
    .join(", ")}`;
}

const flags = (r: Row) => (r.nodeFlags?.length ? r.nodeFlags.join(" ") : "no node flags");

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

  // 2. CPU, unthrottled into the sink: CPU s/GiB ≤ 1.3× the upload-only ceiling's, MiB/s ≥ 1.5× lib-storage's
  // defaults (issue 14, target 3).
  {
    const tag = sweepTag(rows, "unthrottled");
    const engine = tag && find(rows, "engine-c8-p8-", tag);
    const baseline = tag ? find(rows, "baseline-default-", tag) : undefined;
    const q8 = tag ? find(rows, "baseline-q8-", tag) : undefined;
    const downloads = tag ? rows.filter((r) => r.kind.startsWith("curl") && r.id.endsWith(tag) && r.ok) : [];
    const upload = rows.find((r) => r.kind === "upload-only" && r.ok);
    const name =
      "CPU, unthrottled into the sink: engine c8 CPU s/GiB ≤ 1.3× the upload-only ceiling's, and MiB/s ≥ 1.5× lib-storage's defaults";
    if (!engine || !baseline || !upload) {
      out.push({
        name,
        met: undefined,
        detail: "engine c8, the lib-storage defaults or the upload-only ceiling was not measured",
      });
    } else {
      const e = engine.mibps as number;
      const ec = engine.cpuSecondsPerGiB as number;
      const uc = upload.cpuSecondsPerGiB as number;
      const cpuRatio = ec / uc;
      const speedRatio = e / (baseline.mibps as number);
      const download = downloads.length ? Math.max(...downloads.map((r) => r.mibps as number)) : undefined;
      const ceiling = Math.min(download ?? Number.POSITIVE_INFINITY, upload.mibps as number);
      // What the machine can give at most: the CPU of the engine, the file host and the sink per GiB, spread
      // over every CPU with nothing else running.
      const machineCpu = ec + (engine.serverCpuPerGiB.source ?? 0) + (engine.serverCpuPerGiB.sink ?? 0);
      const bound = (cpus().length * 1024) / machineCpu;
      out.push({
        name,
        met: cpuRatio <= 1.3 && speedRatio >= 1.5,
        detail:
          `engine c8 ${f1(e)} MiB/s at ${f2(ec)} CPU s/GiB (${flags(engine)}); upload-only ceiling ${f1(upload.mibps)} MiB/s at ${f2(uc)} CPU s/GiB (${flags(upload)}) → CPU ×${f2(cpuRatio)} (target ≤ 1.3); ` +
          `lib-storage defaults ${f1(baseline.mibps)} MiB/s at ${f2(baseline.cpuSecondsPerGiB)} CPU s/GiB → MiB/s ×${f2(speedRatio)} (target ≥ 1.5)` +
          (q8
            ? `; queueSize 8 / 16 MiB ${f1(q8.mibps)} MiB/s at ${f2(q8.cpuSecondsPerGiB)} CPU s/GiB (×${f2(e / (q8.mibps as number))})`
            : "") +
          `; download ceiling ${download === undefined ? "not measured (no curl)" : `${f1(download)} MiB/s`} → engine at ${((e / ceiling) * 100).toFixed(0)} % of the lower ceiling. ` +
          `CPU per GiB for engine + file host + sink: ${f2(ec)} + ${f2(engine.serverCpuPerGiB.source)} + ${f2(engine.serverCpuPerGiB.sink)} = ${f2(machineCpu)} s → at most ~${bound.toFixed(0)} MiB/s on ${cpus().length} CPUs with nothing else running`,
      });
    }
  }

  // 3. Peak RSS of engine c8 ≤ 120 MiB, and flat in file size, with the worker's deployed NODE_OPTIONS.
  {
    const engine = rows.filter(isDeployedEngineRow).sort((a, b) => a.size - b.size);
    const name =
      "memory: peak RSS of engine c8 · 8 MiB parts ≤ 120 MiB, and flat in file size (largest within 10 % of smallest), with the archive worker's NODE_OPTIONS from serverless.yml";
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
          `node flags: ${flags(last)}; RSS with the code loaded, before the transfer: ${f1(first.startRssMiB)} MiB; ${memoryAtPeak(last)}` +
          plainNode(rows),
      });
    }
  }

  // 4. The archive worker's memory size: the cheapest measured size that keeps up with the network.
  {
    const sizing = workerSizing(rows);
    const deployed = workerOptions().memorySize;
    const name = `worker size: serverless.yml's memorySize for the archive worker is the cheapest of ${WORKER_SIZES.join(" / ")} MB that keeps up with ${Math.max(...NETWORK_MBPS)} MB/s at the measured CPU s/GiB, with the peak RSS in margin`;
    if (!sizing) {
      out.push({ name, met: undefined, detail: "engine c8 · 8 MiB parts was not measured" });
    } else {
      const chosen = sizing.sizes.find((z) => z.memoryMb === sizing.cheapest);
      out.push({
        name,
        met: sizing.cheapest !== undefined && deployed === sizing.cheapest,
        detail:
          `deployed ${deployed ?? "–"} MB; cheapest that keeps up: ${sizing.cheapest ?? "none"} MB` +
          (chosen
            ? ` (its CPU allows ${f1(chosen.cpuMibps)} MiB/s at ${f2(sizing.cpuSecondsPerGiB)} CPU s/GiB; ${chosen.atNetwork.map((a) => `${f1(a.gbSecondsPerGiB)} GB-s per GiB at ${a.networkMbps} MB/s`).join(", ")}; peak RSS ${f1(sizing.peakRssMiB)} MiB)`
            : ""),
      });
    }
  }

  // 5. Cold start: every HTTP-facing function, as deployed (its NODE_OPTIONS), imports in under a third of
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
