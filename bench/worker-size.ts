/**
 * The archive worker's memory size, chosen from the benchmark's own figures. Lambda gives a function CPU in
 * proportion to its memory (one vCPU at 1,769 MB), so the engine's measured CPU seconds per GiB set the
 * throughput each size allows; the network (60–90 MB/s from DingTalk's file host, a realistic range) sets the
 * other bound. What is billed is GB-seconds: memory × duration, per archived GiB.
 */
import type { Row } from "./harness.js";
import { GiB, MiB } from "./plan.js";

/** Memory sizes compared, MB (Lambda's "MB" are MiB; 1,769 MB = one full vCPU). */
export const WORKER_SIZES = [512, 1024, 1769] as const;
const FULL_VCPU_MB = 1769;
/** The realistic network range, MB/s (10^6 bytes) as network speeds are quoted. */
export const NETWORK_MBPS = [60, 90] as const;
/** Peak RSS must stay under this share of the memory size (headroom for larger parts, GC timing, the runtime). */
export const RSS_HEADROOM = 0.6;

export interface WorkerSize {
  memoryMb: number;
  vcpu: number;
  /** MiB/s the engine's CPU s/GiB allows at this vCPU share. */
  cpuMibps: number;
  /** Per network speed (NETWORK_MBPS): the MiB/s achieved (the lower bound) and GB-seconds per GiB. */
  atNetwork: Array<{ networkMbps: number; mibps: number; gbSecondsPerGiB: number }>;
  /** Keeps up with the fastest network speed, and the peak RSS fits within RSS_HEADROOM of the memory. */
  keepsUp: boolean;
  rssFits: boolean;
}

export interface WorkerSizing {
  /** The engine row whose CPU s/GiB and peak RSS the table uses. */
  cpuSecondsPerGiB: number;
  peakRssMiB: number;
  source: string;
  sizes: WorkerSize[];
  /** The cheapest size (fewest GB-seconds per GiB at the fastest network) that keeps up and fits. */
  cheapest: number | undefined;
}

export function sizeWorker(cpuSecondsPerGiB: number, peakRssMiB: number, source: string): WorkerSizing {
  const sizes = WORKER_SIZES.map((memoryMb): WorkerSize => {
    const vcpu = Math.min(1, memoryMb / FULL_VCPU_MB);
    const cpuMibps = (vcpu * GiB) / MiB / cpuSecondsPerGiB;
    const atNetwork = NETWORK_MBPS.map((networkMbps) => {
      const mibps = Math.min(cpuMibps, (networkMbps * 1e6) / MiB);
      return { networkMbps, mibps, gbSecondsPerGiB: (memoryMb / 1024) * (GiB / MiB / mibps) };
    });
    const fastest = Math.max(...NETWORK_MBPS);
    return {
      memoryMb,
      vcpu,
      cpuMibps,
      atNetwork,
      keepsUp: cpuMibps >= (fastest * 1e6) / MiB,
      rssFits: peakRssMiB <= memoryMb * RSS_HEADROOM,
    };
  });
  const cost = (s: WorkerSize) => s.atNetwork.at(-1)?.gbSecondsPerGiB ?? Number.POSITIVE_INFINITY;
  const cheapest = sizes
    .filter((s) => s.keepsUp && s.rssFits)
    .sort((a, b) => cost(a) - cost(b) || a.memoryMb - b.memoryMb)[0]?.memoryMb;
  return { cpuSecondsPerGiB, peakRssMiB, source, sizes, cheapest };
}

/**
 * A row of engine c8 · 8 MiB parts, unthrottled into the sink, run with the worker's deployed NODE_OPTIONS
 * (not the "-plain-" node-defaults row): what the memory target and the worker size are judged on.
 */
export function isDeployedEngineRow(r: Row): boolean {
  return (
    r.kind === "engine" &&
    !r.id.includes("-plain-") &&
    r.concurrency === 8 &&
    r.partSize === 8 * MiB &&
    r.source === "unthrottled" &&
    r.sink === "sink" &&
    r.ok
  );
}

/**
 * From a run's rows: the CPU s/GiB of engine c8 · 8 MiB parts (as deployed) on a 1 GiB file — measured in
 * quick and full mode; process start-up included, so a little above what a warm worker spends — and the
 * highest peak RSS of those rows at any size. Undefined when the engine was not measured.
 */
export function workerSizing(rows: Row[]): WorkerSizing | undefined {
  const engine = rows.filter((r) => isDeployedEngineRow(r) && r.cpuSecondsPerGiB !== undefined);
  if (engine.length === 0) return undefined;
  const largest =
    engine.find((r) => r.size === GiB) ?? ([...engine].sort((a, b) => b.size - a.size)[0] as Row);
  const peak = Math.max(...engine.map((r) => r.peakRssMiB ?? 0));
  return sizeWorker(
    largest.cpuSecondsPerGiB as number,
    peak,
    `engine c8 · 8 MiB parts, ${largest.size / GiB >= 1 ? `${largest.size / GiB} GiB` : `${largest.size / MiB} MiB`} unthrottled (${largest.nodeFlags?.join(" ") || "no node flags"})`,
  );
}

const f = (n: number, d = 1) => n.toFixed(d);

export function workerSizeTable(s: WorkerSizing, deployedMb: number | undefined): string {
  const head = [
    "| Memory (MB) | vCPU share | MiB/s the CPU allows | " +
      NETWORK_MBPS.map((n) => `At ${n} MB/s: MiB/s · GB-s per GiB`).join(" | ") +
      ` | Keeps up with ${Math.max(...NETWORK_MBPS)} MB/s | Peak RSS ≤ ${RSS_HEADROOM * 100} % |`,
    `|---:|---:|---:|${NETWORK_MBPS.map(() => "---:").join("|")}|---|---|`,
  ];
  const lines = s.sizes.map(
    (z) =>
      `| ${z.memoryMb}${z.memoryMb === deployedMb ? " (deployed)" : ""} | ${f(z.vcpu, 2)} | ${f(z.cpuMibps)} | ` +
      z.atNetwork.map((a) => `${f(a.mibps)} · ${f(a.gbSecondsPerGiB)}`).join(" | ") +
      ` | ${z.keepsUp ? "yes" : "no"} | ${z.rssFits ? "yes" : "no"} (${f(s.peakRssMiB, 0)} of ${z.memoryMb}) |`,
  );
  return [...head, ...lines].join("\n");
}
