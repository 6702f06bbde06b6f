/**
 * Measure: stream each range straight into UploadPart, or buffer the part first?
 * `npx tsx test/transfer/measure/body-mode.ts [sizeMiB] [partMiB] [concurrency]`
 *
 * The sandbox (file host) and a discarding S3 sink run as child processes, so this process's time and memory
 * are the engine's. Scenarios: unlimited local bandwidth (CPU-bound: what each mode costs), and a per-connection
 * bandwidth limit with S3 latency (closer to DingTalk → Lambda → S3).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { S3Client } from "@aws-sdk/client-s3";
import { Agent } from "undici";
import { type BodyMode, type ChecksumAlgorithm, transferToS3 } from "../../../lib/transfer/index.js";
import { fetchDownloadInfo } from "../../../sandbox/download-info.js";

const MiB = 1024 * 1024;
const [sizeMiB = 256, partMiB = 8, concurrency = 8] = process.argv.slice(2).map(Number);
const size = sizeMiB * MiB;

async function child(
  script: string,
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(proc.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const url = /https?:\/\/[^\s)]+/.exec(line.toString())?.[0];
  if (!url) throw new Error(`no URL from ${script}: ${line}`);
  return { proc, url };
}

interface CaseResult {
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  baseRssMiB: number;
  peakArrayBuffersMiB: number;
}

/** One transfer in this (fresh) process; prints its numbers as one JSON line. */
async function runCase(
  sandboxUrl: string,
  dentryId: string,
  sinkUrl: string,
  mode: BodyMode,
  algorithm: ChecksumAlgorithm,
) {
  const host = new URL(sandboxUrl).host;
  const s3 = new S3Client({
    endpoint: sinkUrl,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const dispatcher = new Agent();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakAb = base.arrayBuffers;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakAb = Math.max(peakAb, m.arrayBuffers);
  }, 10);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await transferToS3({
    s3,
    bucket: "b",
    key: `k-${mode}-${algorithm}`,
    size,
    source: { getDownloadInfo: () => fetchDownloadInfo(sandboxUrl, dentryId) },
    allowedHosts: [host],
    allowHttpHosts: [host],
    partSize: partMiB * MiB,
    concurrency,
    bodyMode: mode,
    checksumAlgorithm: algorithm,
    dispatcher,
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  if (result.status !== "completed") throw new Error("not completed");
  const out: CaseResult = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: (peakRss - base.rss) / MiB,
    baseRssMiB: base.rss / MiB,
    peakArrayBuffersMiB: (peakAb - base.arrayBuffers) / MiB,
  };
  console.log(JSON.stringify(out));
  await dispatcher.close();
  s3.destroy();
}

async function scenario(name: string, bandwidth: number | undefined, latencyMs: number) {
  const sb = await child("sandbox/main.ts", {
    SANDBOX_PORT: "0",
    ...(bandwidth ? { SANDBOX_BANDWIDTH: String(bandwidth) } : {}),
  });
  const sink = await child("bench/s3-sink.ts", { SINK_LATENCY_MS: String(latencyMs) });
  try {
    const added = await fetch(`${sb.url}/__sandbox/files`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "measure.bin", size, seed: "measure" }),
    });
    const { dentryId } = (await added.json()) as { dentryId: string };
    console.log(`\n## ${name}: ${sizeMiB} MiB, ${partMiB} MiB parts, concurrency ${concurrency}`);
    console.log("mode    algorithm  seconds  MiB/s  cpu-s  peak-rss-MiB  peak-arrayBuffers-MiB");
    for (const algorithm of ["CRC32", "CRC64NVME"] as ChecksumAlgorithm[]) {
      for (const mode of ["buffer", "stream"] as BodyMode[]) {
        const proc = spawn(
          process.execPath,
          ["--import", "tsx", SELF, String(sizeMiB), String(partMiB), String(concurrency)],
          {
            env: {
              ...process.env,
              MEASURE_CASE: JSON.stringify([sb.url, dentryId, sink.url, mode, algorithm]),
            },
            stdio: ["ignore", "pipe", "inherit"],
          },
        );
        let text = "";
        proc.stdout.on("data", (d: Buffer) => {
          text += d.toString();
        });
        await once(proc, "exit");
        const r = JSON.parse(text.trim().split("\n").at(-1) ?? "{}") as CaseResult;
        console.log(
          [
            mode.padEnd(7),
            algorithm.padEnd(10),
            r.seconds.toFixed(2).padStart(7),
            (sizeMiB / r.seconds).toFixed(0).padStart(5),
            r.cpuSeconds.toFixed(2).padStart(6),
            r.peakRssMiB.toFixed(0).padStart(12),
            r.peakArrayBuffersMiB.toFixed(0).padStart(22),
          ].join("  "),
        );
      }
    }
  } finally {
    sb.proc.kill();
    sink.proc.kill();
  }
}

const SELF = new URL(import.meta.url).pathname;
const caseArgs = process.env.MEASURE_CASE;
if (caseArgs) {
  const [sandboxUrl, dentryId, sinkUrl, mode, algorithm] = JSON.parse(caseArgs) as [
    string,
    string,
    string,
    BodyMode,
    ChecksumAlgorithm,
  ];
  await runCase(sandboxUrl, dentryId, sinkUrl, mode, algorithm);
} else {
  await scenario("local, unlimited bandwidth, no S3 latency", undefined, 0);
  await scenario("20 MiB/s per download connection, 20 ms S3 latency", 20 * MiB, 20);
}
