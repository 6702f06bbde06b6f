/**
 * What every Node contender shares: its spec (from BENCH_SPEC), the clients built the same way for all, and
 * the one JSON line it prints at the end. Each contender is bundled by esbuild (as the Lambda functions are)
 * and runs alone in a fresh process, so its CPU time and peak RSS are its own.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { createDingTalkClient } from "../../lib/dingtalk/index.js";

export interface ContenderSpec {
  /** The sandbox's OpenAPI base URL and its file host (host:port), or none for upload-only. */
  api?: string;
  fileHost?: string;
  spaceId?: string;
  dentryId?: string;
  /** S3 endpoint (the sink or fauxqs), bucket, and the key (or key prefix, for the engine) to write. */
  endpoint: string;
  bucket: string;
  key: string;
  size: number;
  partSize?: number;
  concurrency?: number;
  queueSize?: number;
  /** upload-only: the seed of the generated content to send. */
  seed?: string;
}

export interface ContenderReport {
  /** The key written (the engine derives its own under the given prefix). */
  key: string;
  bytes: number;
  /** Wall time of the transfer itself: from the first DingTalk call to the stored object. */
  seconds: number;
  /** CPU time and peak RSS of this whole process (startup included), from process.resourceUsage(). */
  cpuSeconds: number;
  maxRssKiB: number;
  /** CPU time spent during the transfer only. */
  transferCpuSeconds: number;
  /** Peaks of process.memoryUsage() sampled every 100 ms during the transfer, MiB: where the RSS goes. */
  peakMiB: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** RSS just before the transfer (code loaded), MiB. */
  startRssMiB: number;
}

export const spec = JSON.parse(process.env.BENCH_SPEC ?? "{}") as ContenderSpec;

export const SANDBOX = { appKey: "sandbox", appSecret: "sandbox-secret", unionId: "sandbox-union" };

/** An S3 client as production builds one for a custom endpoint: path-style, the SDK's default checksums. */
export function s3Client(): S3Client {
  return new S3Client({
    endpoint: spec.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
}

export function dingTalkClient() {
  return createDingTalkClient({
    baseUrl: spec.api as string,
    appKey: SANDBOX.appKey,
    appSecret: SANDBOX.appSecret,
  });
}

/** Time `work`, then print the report line and exit (so that no idle keep-alive socket delays the exit). */
export async function measure(work: () => Promise<{ key: string; bytes: number }>): Promise<void> {
  const MiB = 1024 * 1024;
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const name of Object.keys(peak) as (keyof typeof peak)[])
      peak[name] = Math.max(peak[name], m[name] / MiB);
  };
  const startRssMiB = process.memoryUsage().rss / MiB;
  // Every 100 ms: process.memoryUsage() walks V8's heap spaces; at 50 Hz it cost 1-2 % of a contender's CPU
  // (node --cpu-prof), billed to the slower contender most. Peak RSS itself comes from time -v, not from here.
  const sampler = setInterval(sample, 100);
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { key, bytes } = await work();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    sample();
    const usage = process.resourceUsage();
    const report: ContenderReport = {
      key,
      bytes,
      seconds,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      maxRssKiB: usage.maxRSS,
      transferCpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakMiB: peak,
      startRssMiB,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
  } catch (err) {
    process.stderr.write(`contender failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  }
}
