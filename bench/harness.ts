/**
 * Runs a BenchPlan: starts the servers (each in its own process), bundles the Node contenders as the
 * functions are bundled, then runs every case in a fresh child process — under `/usr/bin/time -v` when
 * present, so peak RSS and CPU time are the contender's own — verifies what arrived (size and CRC32 of the
 * stored object, or the byte count for curl), and returns one row per case with the median of its runs.
 *
 * Runs are interleaved (run 1 of every case, then run 2 of every case, ...), so that a machine that gets
 * busier or quieter during the benchmark shifts every contender alike.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { DeleteObjectCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { crcToBase64 } from "../lib/transfer/checksum.js";
import { generatedChunks } from "../sandbox/content.js";
import { fetchDownloadInfo } from "../sandbox/download-info.js";
import { bundle } from "./bundle.js";
import type { ContenderReport, ContenderSpec } from "./contenders/common.js";
import {
  type BenchPlan,
  type CaseSpec,
  fileName,
  fileSeed,
  fileSizes,
  GiB,
  MiB,
  type SinkName,
  type SourceName,
} from "./plan.js";
import { ROOT, type Service, type ServiceInfo, startService } from "./services.js";

export interface Measurement {
  ok: boolean;
  /** Why a run failed or did not verify. */
  error?: string;
  seconds: number;
  bytes: number;
  /** user + sys of the contender's process (time -v, else its own resourceUsage). */
  cpuSeconds: number | undefined;
  peakRssMiB: number | undefined;
  /** Node contenders: RSS with their code loaded, before the transfer; peaks of process.memoryUsage() during it. */
  startRssMiB?: number | undefined;
  peakMemoryMiB?: ContenderReport["peakMiB"] | undefined;
  /** CPU seconds the file host (sandbox) and the S3 side (sink or fauxqs) spent during the run (Linux /proc). */
  serverCpuSeconds?: { source: number | undefined; sink: number | undefined };
  /** What was checked, e.g. "size + CRC32 ✓; 128/128 parts' CRC32 ✓; full-object CRC32 ✓" (by the sink). */
  verified: string;
}

export interface Row extends CaseSpec {
  measurements: Measurement[];
  /** Medians over the successful runs (undefined when none succeeded). */
  mibps: number | undefined;
  cpuSecondsPerGiB: number | undefined;
  /** The highest peak RSS of the runs. */
  peakRssMiB: number | undefined;
  startRssMiB: number | undefined;
  /** Medians of the file host's and the S3 side's CPU seconds per GiB during the runs. */
  serverCpuPerGiB: { source: number | undefined; sink: number | undefined };
  ok: boolean;
}

export interface Tools {
  time: boolean;
  rclone: string | undefined;
  curl: string | undefined;
}

export interface RunContext {
  plan: BenchPlan;
  tools: Tools;
  log: (line: string) => void;
}

const TIME = "/usr/bin/time";

/** Which optional tools are present: /usr/bin/time, rclone, curl. */
export async function detectTools(): Promise<Tools> {
  const which = async (name: string) => {
    const out = await exec(["sh", "-c", `command -v ${name}`], { PATH: process.env.PATH ?? "" });
    return out.code === 0 ? out.stdout.trim() || undefined : undefined;
  };
  return { time: existsSync(TIME), rclone: await which("rclone"), curl: await which("curl") };
}

interface Env {
  sandboxes: Record<SourceName, ServiceInfo>;
  sinks: Partial<Record<SinkName, ServiceInfo>>;
  /** Process ids of the services, by the same names ("unthrottled", "throttled", "sink", "fauxqs"). */
  pids: Record<string, number>;
  bundles: Record<"engine" | "baseline" | "upload-only", string>;
  tmp: string;
  expectedCrc32: Map<number, string>;
}

export async function runPlan(ctx: RunContext): Promise<Row[]> {
  const { plan, tools, log } = ctx;
  const skipped = (c: CaseSpec) =>
    (c.kind === "rclone" && !tools.rclone) || (c.kind.startsWith("curl") && !tools.curl);
  const cases = plan.cases.filter((c) => !skipped(c));
  for (const c of plan.cases.filter(skipped))
    log(`skipping ${c.id}: ${c.kind.replace(/-.*/, "")} is not installed`);

  const tmp = await mkdtemp(join(tmpdir(), "dtfb-bench-"));
  const services: Service[] = [];
  try {
    const sizes = fileSizes({ ...plan, cases });
    const files = sizes.map((size) => ({ name: fileName(size), size, seed: fileSeed(size) }));
    log(`bundling the contenders (serverless.yml's esbuild options) into ${tmp}`);
    const { outputs: out } = await bundle(
      ["bench/contenders/engine.ts", "bench/contenders/baseline.ts", "bench/contenders/upload-only.ts"],
      tmp,
    );
    log(`computing the CRC32 of the generated files (${sizes.map((s) => `${s / MiB} MiB`).join(", ")})`);
    const expectedCrc32 = new Map(sizes.map((size) => [size, generatedCrc32(fileSeed(size), size)]));

    log("starting the sandbox (unthrottled and throttled), the S3 sink and fauxqs, each in its own process");
    const pids: Record<string, number> = {};
    const start = async (name: string, config: Parameters<typeof startService>[0]) => {
      const service = await startService(config);
      services.push(service);
      pids[name] = service.pid;
      return service.info;
    };
    const needs = (p: (c: CaseSpec) => boolean) => cases.some(p);
    const [unthrottled, throttled, sink, fauxqs] = await Promise.all([
      start("unthrottled", { kind: "sandbox", files }),
      needs((c) => c.source === "throttled")
        ? start("throttled", { kind: "sandbox", files, bandwidthBytesPerSecond: plan.throttleBytesPerSecond })
        : undefined,
      needs((c) => c.sink === "sink") ? start("sink", { kind: "sink" }) : undefined,
      needs((c) => c.sink === "fauxqs") ? start("fauxqs", { kind: "fauxqs", buckets: [BUCKET] }) : undefined,
    ]);
    const env: Env = {
      sandboxes: { unthrottled, throttled: throttled ?? unthrottled },
      sinks: { ...(sink ? { sink } : {}), ...(fauxqs ? { fauxqs } : {}) },
      pids,
      bundles: {
        engine: out["bench/contenders/engine.ts"] as string,
        baseline: out["bench/contenders/baseline.ts"] as string,
        "upload-only": out["bench/contenders/upload-only.ts"] as string,
      },
      tmp,
      expectedCrc32,
    };

    const results = new Map<string, Measurement[]>(cases.map((c) => [c.id, []]));
    const maxRuns = Math.max(0, ...cases.map((c) => c.runs));
    const total = cases.reduce((n, c) => n + c.runs, 0);
    let done = 0;
    for (let run = 0; run < maxRuns; run++) {
      // A-B-B-A: every other round in reverse, so that a drift in the machine's load evens out.
      const round = cases.filter((x) => x.runs > run);
      if (run % 2 === 1) round.reverse();
      for (const c of round) {
        const m = await runCase(env, c, run, tools);
        results.get(c.id)?.push(m);
        done++;
        log(
          `[${done}/${total}] ${c.id} run ${run + 1}: ${
            m.ok
              ? `${(c.size / MiB / m.seconds).toFixed(1)} MiB/s, ${fmt(m.cpuSeconds, 2)} CPU s, ${fmt(m.peakRssMiB, 0)} MiB peak RSS`
              : `FAILED: ${m.error}`
          }`,
        );
      }
    }
    return cases.map((c) => summarize(c, results.get(c.id) ?? []));
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await rm(tmp, { recursive: true, force: true });
  }
}

const BUCKET = "bench";

function summarize(c: CaseSpec, measurements: Measurement[]): Row {
  const good = measurements.filter((m) => m.ok);
  const num = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
  return {
    ...c,
    measurements,
    ok: good.length > 0 && good.length === measurements.length,
    mibps: median(good.map((m) => c.size / MiB / m.seconds)),
    cpuSecondsPerGiB: median(
      num(good.map((m) => (m.cpuSeconds === undefined ? undefined : m.cpuSeconds / (c.size / GiB)))),
    ),
    peakRssMiB: num(good.map((m) => m.peakRssMiB)).reduce<number | undefined>(
      (a, b) => Math.max(a ?? 0, b),
      undefined,
    ),
    startRssMiB: median(num(good.map((m) => m.startRssMiB))),
    serverCpuPerGiB: {
      source: median(num(good.map((m) => perGiB(m.serverCpuSeconds?.source, c.size)))),
      sink: median(num(good.map((m) => perGiB(m.serverCpuSeconds?.sink, c.size)))),
    },
  };
}

const perGiB = (seconds: number | undefined, size: number) =>
  seconds === undefined ? undefined : seconds / (size / GiB);

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const fmt = (n: number | undefined, digits: number) => (n === undefined ? "–" : n.toFixed(digits));

/** CRC32 (base64, as S3 shows it) of a generated file. */
function generatedCrc32(seed: string, size: number): string {
  let crc = 0;
  for (const chunk of generatedChunks(seed, size)) crc = zlibCrc32(chunk, crc);
  return crcToBase64("CRC32", BigInt(crc >>> 0));
}

// --- one run of one case ---

async function runCase(env: Env, c: CaseSpec, run: number, tools: Tools): Promise<Measurement> {
  const sandbox = c.source === "none" ? env.sandboxes.unthrottled : env.sandboxes[c.source];
  const file = fileName(c.size);
  const dentryId = sandbox.dentries?.[file] as string;
  const sinkInfo = c.sink === "none" ? undefined : env.sinks[c.sink];
  const key = `${c.id}/run${run + 1}`;
  const base = { seconds: 0, bytes: 0, cpuSeconds: undefined, peakRssMiB: undefined, verified: "" };
  try {
    let command: string[];
    let childEnv: Record<string, string>;
    // Only PATH and HOME: no NODE_OPTIONS, no CA bundles (an AWS_CA_BUNDLE breaks rclone on plain http).
    const cleanEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir() };
    let parse: (
      stdout: string,
      wallSeconds: number,
    ) => { seconds: number; bytes: number; report?: ContenderReport };
    if (c.kind === "engine" || c.kind === "baseline" || c.kind === "upload-only") {
      const spec: ContenderSpec = {
        api: sandbox.url,
        fileHost: sandbox.fileHost as string,
        spaceId: "sandbox-space",
        dentryId,
        endpoint: sinkInfo?.url as string,
        bucket: BUCKET,
        key,
        size: c.size,
        ...(c.partSize ? { partSize: c.partSize } : {}),
        ...(c.concurrency ? { concurrency: c.concurrency } : {}),
        ...(c.queueSize ? { queueSize: c.queueSize } : {}),
        ...(c.kind === "upload-only" ? { seed: fileSeed(c.size) } : {}),
      };
      command = [process.execPath, ...(c.nodeFlags ?? []), env.bundles[c.kind]];
      childEnv = { ...cleanEnv, BENCH_SPEC: JSON.stringify(spec) };
      parse = (stdout) => {
        const report = JSON.parse(lastLine(stdout)) as ContenderReport;
        return { seconds: report.seconds, bytes: report.bytes, report };
      };
    } else {
      const info = await downloadInfo(sandbox, dentryId);
      const url = info.resourceUrls[0] as string;
      const headerArgs = (flag: string) =>
        Object.entries(info.headers).flatMap(([k, v]) => [flag, `${k}: ${v}`]);
      childEnv = cleanEnv;
      if (c.kind === "rclone") {
        // The signed URL's headers go with --header, which rclone also adds to its S3 requests (the sink does
        // not check signatures); --header-download does not apply to copyurl.
        command = [
          tools.rclone as string,
          "copyurl",
          url,
          `bench:${BUCKET}/${key}`,
          ...headerArgs("--header"),
          "--s3-no-check-bucket",
          "-q",
          ...(c.concurrency ? ["--s3-upload-concurrency", String(c.concurrency)] : []),
          ...(c.partSize ? ["--s3-chunk-size", `${c.partSize / MiB}M`] : []),
        ];
        childEnv = {
          ...cleanEnv,
          RCLONE_CONFIG: join(env.tmp, "rclone.conf"),
          RCLONE_CONFIG_BENCH_TYPE: "s3",
          RCLONE_CONFIG_BENCH_PROVIDER: "Other",
          RCLONE_CONFIG_BENCH_ENDPOINT: sinkInfo?.url as string,
          RCLONE_CONFIG_BENCH_REGION: "us-east-1",
          RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: "bench",
          RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: "bench",
          RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: "true",
        };
        await writeFile(join(env.tmp, "rclone.conf"), "");
        parse = (_stdout, wall) => ({ seconds: wall, bytes: c.size });
      } else if (c.kind === "curl") {
        command = [
          tools.curl as string,
          "-sS",
          "-o",
          "/dev/null",
          ...headerArgs("-H"),
          "-w",
          "%{http_code} %{size_download} %{time_total}\\n",
          url,
        ];
        parse = (stdout) => {
          const [status, bytes, seconds] = lastLine(stdout).split(" ").map(Number);
          if (status !== 200) throw new Error(`curl: HTTP ${status}`);
          return { seconds: seconds as number, bytes: bytes as number };
        };
      } else {
        const part = c.partSize ?? 8 * MiB;
        const lines: string[] = [];
        for (let start = 0; start < c.size; start += part) {
          const end = Math.min(c.size, start + part) - 1;
          lines.push(`url = "${url}"`, `range = "${start}-${end}"`, 'output = "/dev/null"');
        }
        const config = join(env.tmp, `curl-${c.id}.conf`);
        await writeFile(config, `${lines.join("\n")}\n`);
        command = [
          tools.curl as string,
          "-sS",
          "-Z",
          "--parallel-immediate",
          "--parallel-max",
          String(c.concurrency ?? 8),
          ...headerArgs("-H"),
          "-w",
          "%{http_code} %{size_download}\\n",
          "-K",
          config,
        ];
        parse = (stdout, wall) => {
          let bytes = 0;
          for (const line of stdout.trim().split("\n")) {
            const [status, n] = line.split(" ").map(Number);
            if (status !== 206) throw new Error(`curl: HTTP ${status} to a range`);
            bytes += n as number;
          }
          return { seconds: wall, bytes };
        };
      }
    }

    const timed = tools.time ? [TIME, "-v", ...command] : command;
    const sourcePid = c.source === "none" ? undefined : env.pids[c.source];
    const sinkPid = c.sink === "none" ? undefined : env.pids[c.sink];
    const cpu0 = [processCpuSeconds(sourcePid), processCpuSeconds(sinkPid)];
    const t0 = performance.now();
    const out = await exec(timed, childEnv);
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = [processCpuSeconds(sourcePid), processCpuSeconds(sinkPid)];
    const delta = (i: number) =>
      cpu0[i] === undefined || cpu1[i] === undefined ? undefined : (cpu1[i] as number) - (cpu0[i] as number);
    if (out.code !== 0) {
      const tail = out.stderr
        .split("\n")
        .filter((l) => l && !/^\s+\S.*: /.test(l) && !l.startsWith("\tCommand"));
      throw new Error(`exit ${out.code}: ${tail.slice(-3).join(" | ").slice(0, 400)}`);
    }
    const usage = tools.time ? parseTimeV(out.stderr) : undefined;
    const { seconds, bytes, report } = parse(out.stdout, wall);
    const m: Measurement = {
      ...base,
      ok: true,
      seconds,
      bytes,
      cpuSeconds: usage?.cpuSeconds ?? report?.cpuSeconds,
      peakRssMiB: usage ? usage.maxRssKiB / 1024 : report ? report.maxRssKiB / 1024 : undefined,
      startRssMiB: report?.startRssMiB,
      peakMemoryMiB: report?.peakMiB,
      serverCpuSeconds: { source: delta(0), sink: delta(1) },
    };
    m.verified = await verify(env, c, report?.key ?? key, bytes);
    return m;
  } catch (err) {
    return { ...base, ok: false, error: (err as Error).message };
  }
}

/** Check what arrived; throws when it is not the generated file. Returns what was checked. */
async function verify(env: Env, c: CaseSpec, key: string, bytes: number): Promise<string> {
  const expected = env.expectedCrc32.get(c.size) as string;
  if (c.sink === "none") {
    if (bytes !== c.size) throw new Error(`downloaded ${bytes} bytes of ${c.size}`);
    return `${bytes} bytes ✓`;
  }
  const sink = env.sinks[c.sink] as ServiceInfo;
  if (c.sink === "sink") {
    const res = await fetch(`${sink.url}/__sink/objects?bucket=${BUCKET}&key=${encodeURIComponent(key)}`);
    if (!res.ok) throw new Error(`the sink has no object ${key}`);
    const o = (await res.json()) as {
      size: number;
      crc32: string;
      parts: number;
      verifiedParts: number;
      checksums: string[];
      fullObjectChecksum?: string;
    };
    if (o.size !== c.size) throw new Error(`stored ${o.size} bytes of ${c.size}`);
    if (o.crc32 !== expected) throw new Error(`stored CRC32 ${o.crc32}, the file's is ${expected}`);
    const parts = Math.max(1, o.parts);
    return [
      "size + CRC32 ✓",
      `${o.verifiedParts}/${parts} parts' ${o.checksums.join(" + ") || "checksum"} ✓`,
      ...(o.fullObjectChecksum ? [`full-object ${o.fullObjectChecksum} ✓`] : []),
    ].join("; ");
  }
  // fauxqs keeps the bytes: read them back, then delete the object (it holds them in memory).
  const s3 = new S3Client({
    endpoint: sink.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    let crc = 0;
    let n = 0;
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) {
      crc = zlibCrc32(chunk, crc);
      n += chunk.length;
    }
    const crc32 = crcToBase64("CRC32", BigInt(crc >>> 0));
    if (n !== c.size) throw new Error(`fauxqs holds ${n} bytes of ${c.size}`);
    if (crc32 !== expected) throw new Error(`fauxqs holds CRC32 ${crc32}, the file's is ${expected}`);
    return "read back: size + CRC32 ✓";
  } finally {
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })).catch(() => {});
    s3.destroy();
  }
}

/** The sandbox's signed download info for a dentry, as DingTalk answers it (for curl and rclone). */
const downloadInfo = (sandbox: ServiceInfo, dentryId: string) => fetchDownloadInfo(sandbox.url, dentryId);

/** user + system CPU seconds of a process so far, from /proc (Linux); undefined elsewhere. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 14th and 15th fields.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux that matters. */
const CLOCK_TICKS = 100;

/** `/usr/bin/time -v`'s figures. */
export function parseTimeV(stderr: string): { cpuSeconds: number; maxRssKiB: number } | undefined {
  const num = (label: string) => {
    const m = new RegExp(`${label}:\\s*([0-9.]+)`).exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const user = num("User time \\(seconds\\)");
  const sys = num("System time \\(seconds\\)");
  const rss = num("Maximum resident set size \\(kbytes\\)");
  if (user === undefined || sys === undefined || rss === undefined) return undefined;
  return { cpuSeconds: user + sys, maxRssKiB: rss };
}

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";

export function exec(
  command: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command[0] as string, command.slice(1), {
        cwd: options.cwd ?? ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (err) {
      reject(err);
      return;
    }
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 1_000_000) stderr = stderr.slice(-100_000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20 * 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
