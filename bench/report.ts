/** RESULTS.md: the machine, the targets, the throughput/CPU/memory table and the cold-start table. */
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import type { ColdStart } from "./cold-start.js";
import { exec, type Row, type Tools } from "./harness.js";
import { type BenchPlan, GiB, MiB, sizeLabel } from "./plan.js";
import type { Target } from "./targets.js";
import { workerOptions } from "./worker-options.js";
import { NETWORK_MBPS, RSS_HEADROOM, workerSizeTable, workerSizing } from "./worker-size.js";

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  kernel: string;
  rclone: string | undefined;
  curl: string | undefined;
}

export interface BenchResult {
  plan: BenchPlan;
  machine: Machine;
  startedAt: string;
  minutes: number;
  loadAverage: { start: number[]; end: number[] };
  rows: Row[];
  coldStart: ColdStart | undefined;
  targets: Target[];
  command: string;
}

export async function describeMachine(tools: Tools): Promise<Machine> {
  const version = async (command: string[], pattern: RegExp) => {
    const out = await exec(command, { PATH: process.env.PATH ?? "" }).catch(() => undefined);
    return out?.code === 0 ? pattern.exec(out.stdout)?.[0] : undefined;
  };
  return {
    nproc: cpus().length,
    memoryGiB: totalmem() / GiB,
    cpuModel: cpus()[0]?.model ?? "unknown",
    node: process.version,
    kernel: release(),
    rclone: tools.rclone ? await version([tools.rclone, "version"], /rclone v\S+/) : undefined,
    curl: tools.curl ? await version([tools.curl, "--version"], /curl \S+/) : undefined,
  };
}

export const currentLoad = () => loadavg().map((n) => Math.round(n * 100) / 100);
export const freeMemoryGiB = () => freemem() / GiB;

const f = (n: number | undefined, digits = 1) => (n === undefined ? "–" : n.toFixed(digits));

const SOURCE = {
  throttled: (plan: BenchPlan) => `throttled (${plan.throttleBytesPerSecond / MiB} MiB/s per connection)`,
  unthrottled: () => "unthrottled",
  none: () => "– (generated)",
};

/** The main table: one line per case, grouped in the order the plan lists them. */
export function resultsTable(result: Pick<BenchResult, "plan" | "rows">): string {
  const lines = [
    "| Source | Sink | File | Contender | MiB/s | CPU s/GiB | Peak RSS MiB | Runs | File host + S3 side CPU s/GiB | Checked (every run) |",
    "|---|---|---|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of displayOrder(result.rows)) {
    const runs = r.measurements.length;
    const good = r.measurements.filter((m) => m.ok).length;
    const failed = r.measurements.find((m) => !m.ok);
    lines.push(
      [
        "",
        SOURCE[r.source](result.plan),
        r.sink === "none" ? "/dev/null" : r.sink === "sink" ? "S3 sink" : "fauxqs",
        sizeLabel(r.size),
        r.label,
        f(r.mibps),
        f(r.cpuSecondsPerGiB, 2),
        f(r.peakRssMiB, 0),
        good === runs ? String(runs) : `${good}/${runs}`,
        `${f(r.serverCpuPerGiB.source, 2)} + ${f(r.serverCpuPerGiB.sink, 2)}`,
        failed ? `FAILED: ${failed.error}` : (r.measurements.find((m) => m.ok)?.verified ?? ""),
        "",
      ]
        .join(" | ")
        .trim(),
    );
  }
  return lines.join("\n");
}

const KIND_ORDER = ["engine", "baseline", "rclone", "upload-only", "curl", "curl-ranges"];

/**
 * Rows as the table shows them: throttled, then the unthrottled comparison (the size with a concurrency
 * sweep), then the other sizes, then fauxqs; in each, engine configurations first, then the peers and the
 * ceilings.
 */
export function displayOrder(rows: Row[]): Row[] {
  const swept = rows.filter((r) => r.kind === "engine" && r.source === "unthrottled" && r.concurrency !== 8);
  const sweepSize = swept[0]?.size;
  const section = (r: Row) =>
    r.sink === "fauxqs"
      ? 3
      : r.source === "throttled"
        ? 0
        : r.size === sweepSize || sweepSize === undefined
          ? 1
          : 2;
  return rows
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        section(a.r) - section(b.r) ||
        a.r.size - b.r.size ||
        KIND_ORDER.indexOf(a.r.kind) - KIND_ORDER.indexOf(b.r.kind) ||
        Number(a.r.id.includes("-plain-")) - Number(b.r.id.includes("-plain-")) ||
        (a.r.partSize ?? 0) - (b.r.partSize ?? 0) ||
        (a.r.concurrency ?? 0) - (b.r.concurrency ?? 0) ||
        a.i - b.i,
    )
    .map(({ r }) => r);
}

export function coldStartTable(cold: ColdStart): string {
  const kib = (n: number | undefined) => (n === undefined ? "–" : f(n / 1024, 0));
  const parts = (list: Array<{ name: string; bytes: number }> | undefined) =>
    (list ?? []).map((l) => `${l.name} ${Math.round(l.bytes / 1024)}`).join(", ") || "–";
  const lines = [
    `| Function | NODE_OPTIONS deployed | KiB loaded at import (all chunks) | Zip KiB | Import ms (median of ${cold.runs}) | Import ms as deployed | + deferred chunks ms | Largest parts at import (KiB) | Largest deferred parts (KiB) |`,
    "|---|---|---:|---:|---:|---:|---:|---|---|",
  ];
  for (const fn of cold.functions) {
    // Results written before the per-function NODE_OPTIONS had one flag for all (importMsSourceMaps).
    const old = fn as typeof fn & { importMsSourceMaps?: number };
    lines.push(
      `| ${fn.name}${fn.http ? " (HTTP)" : ""} (\`${fn.handler}\`) | ${(fn.nodeOptions ?? cold.nodeOptions) || "none"} | ${kib(fn.mjsBytes)} (${kib(fn.totalBytes)}) | ${kib(fn.zipBytes)} | ${fn.error ? `failed: ${fn.error}` : f(fn.importMs)} | ${f(fn.importMsDeployed ?? old.importMsSourceMaps)} | ${f(fn.firstUseMs)} | ${parts(fn.largest)} | ${parts(fn.largestDeferred)} |`,
    );
  }
  lines.push(
    `| official SDK: \`require("@alicloud/dingtalk/dist/storage_1_0/client")\` | – | – | – | ${cold.sdkError ? `failed: ${cold.sdkError}` : f(cold.sdkStorageMs)} | – | – | – | – |`,
  );
  return lines.join("\n");
}

export function targetsList(targets: Target[]): string {
  return targets
    .map(
      (t) =>
        `- **${t.met === undefined ? "not measured" : t.met ? "met" : "missed"}** — ${t.name}: ${t.detail}`,
    )
    .join("\n");
}

/** The sizes the queueSize 8 baseline ran at, unthrottled. */
function sizes(result: BenchResult): string {
  const at = [
    ...new Set(result.rows.filter((r) => r.id.startsWith("baseline-q8-unthrottled-")).map((r) => r.size)),
  ].sort((a, b) => a - b);
  return at.map(sizeLabel).join(" and ") || "no size";
}

/** The archive worker's memory size from this run's figures (bench/worker-size.ts), or "" without them. */
export function workerSizeSection(result: Pick<BenchResult, "rows">): string {
  const sizing = workerSizing(result.rows);
  if (!sizing) return "";
  const deployed = workerOptions().memorySize;
  const [low, high] = [Math.min(...NETWORK_MBPS), Math.max(...NETWORK_MBPS)];
  return `## Archive worker size

Lambda gives a function CPU in proportion to its memory (one vCPU at 1,769 MB). From ${sizing.source}: ${sizing.cpuSecondsPerGiB.toFixed(2)} CPU s/GiB
(process start-up included) and a peak RSS of ${sizing.peakRssMiB.toFixed(0)} MiB. "MiB/s the CPU allows" = vCPU share × 1,024 / CPU s/GiB; at a
network of ${low}–${high} MB/s from the file host the transfer runs at the lower of the two, and GB-seconds per archived GiB =
memory (GB) × seconds per GiB. A size keeps up when its CPU allows ${high} MB/s (${((high * 1e6) / MiB).toFixed(1)} MiB/s) and fits when the peak RSS is at most
${RSS_HEADROOM * 100} % of it. This machine's cores are not Lambda's (arm64): the margin at the chosen size is what covers the difference.

${workerSizeTable(sizing, deployed)}

Cheapest size that keeps up and fits: ${sizing.cheapest === undefined ? "none of these" : `${sizing.cheapest} MB`}; serverless.yml deploys the archive worker with ${deployed ?? "the provider's default"} MB.
`;
}

export function renderMarkdown(result: BenchResult): string {
  const { machine: m, plan } = result;
  const runs = Math.max(...plan.cases.map((c) => c.runs));
  return `# Benchmark results

Generated by \`${result.command}\` (${plan.name} mode) on ${result.startedAt}, in ${result.minutes.toFixed(1)} minutes.

Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB.toFixed(1)} GiB memory, Node ${m.node}, Linux ${m.kernel};
${m.rclone ?? "rclone not installed"}, ${m.curl ?? "curl not installed"}. Load average (1/5/15 min) at the start
${result.loadAverage.start.join(" / ")}, at the end ${result.loadAverage.end.join(" / ")} — the machine is shared, so
compare contenders within this run (runs are interleaved), not with other runs.

Everything runs on this machine over loopback, each in its own process: the DingTalk sandbox (generated
content; once unthrottled, once limited to ${plan.throttleBytesPerSecond / MiB} MiB/s per connection), the S3 sink
(\`bench/s3-sink.ts\`: checks every part's length and checksum like S3, keeps only sizes and CRC32s), fauxqs, and
each contender. MiB/s is the median of up to ${runs} runs (the file size over the contender's own transfer time);
CPU s/GiB is user + system time of the contender's whole process (start-up included) per GiB; peak RSS is
\`/usr/bin/time -v\`'s maximum resident set size, the highest of the runs. "File host + S3 side CPU s/GiB" is
the CPU the sandbox and the sink (or fauxqs) spent per GiB during the runs (from /proc): contender + servers
share the ${m.nproc} CPUs, so on a CPU-bound run their sum bounds the throughput.

## Targets

${targetsList(result.targets)}

## Throughput, CPU and memory

${resultsTable(result)}

![Throughput vs concurrency, and peak RSS vs file size](chart.svg)

${workerSizeSection(result)}
${result.coldStart ? `## Cold start\n\nEach function bundled with serverless.yml's esbuild options (built on its own, as serverless-esbuild builds it); the\nimport is timed inside a fresh Node process (median of ${result.coldStart.runs}): plain, with the NODE_OPTIONS the function is\ndeployed with, and with those followed by the chunks it loads only on first use; as is the official SDK's storage client load.\n\n${coldStartTable(result.coldStart)}\n` : ""}
## Contenders

- **engine**: \`archiveFile\` as the archive Lambda runs it (getDentry, HeadObject, download info, \`transferToS3\`
  with an S3 checkpoint store), bundled like the functions; concurrency and part size passed as
  \`TRANSFER_CONCURRENCY\` / \`TRANSFER_PART_SIZE\` would pass them.
- **lib-storage Upload**: download info from the same DingTalk client, one \`fetch\` GET, its body piped into
  \`@aws-sdk/lib-storage\`'s \`Upload\` (defaults, or queueSize 8 / partSize 16 MiB).
- **engine rows run as deployed**: every engine row (and the upload-only ceiling, the same S3 path) runs with the
  archive worker's NODE_OPTIONS read from serverless.yml (the flags are named in the targets); **engine, node
  without NODE_OPTIONS** is the same code with node's defaults — what the runtime flags change.
- **rclone copyurl**: the signed URL into an S3 remote configured by environment variables, pointed at the sink
  (when rclone is installed). It streams one GET; the URL's signature headers go with \`--header\`, which
  rclone also adds to its S3 requests (the sink checks no signature; \`--header-download\` does not apply to copyurl).
- **ceilings**: curl downloading to /dev/null (one GET, and 8 ranged GETs in parallel), and an upload-only
  run (bytes generated in the contender → the same streamed multipart upload the engine makes).

4 GiB runs only the engine c8 (as deployed and without NODE_OPTIONS) and the lib-storage defaults; the queueSize 8 baseline runs at
${sizes(result)}. On the throttled source, single-connection contenders run 1–2 times (their speed is the limit
of one connection). fauxqs takes one small file only: it keeps uploads in memory.
`;
}
