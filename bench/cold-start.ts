/**
 * Cold start: each function of serverless.yml bundled as serverless-esbuild bundles it (bench/bundle.ts),
 * its size (what loads at import, everything it can load, and the zip of its files as `serverless package`
 * ships them), and the time to import its handler in a fresh Node process — against the time a fresh
 * process takes to load the official DingTalk SDK's storage client (`@alicloud/dingtalk/dist/storage_1_0/client`,
 * as test/sandbox/sdk.test.ts loads it).
 *
 * Times are measured inside the child around the import()/require() (process start-up is the same for
 * both). Runs are interleaved across functions and the SDK. Each handler is imported three ways: plain; with
 * the NODE_OPTIONS serverless.yml deploys it with (the function's own, else the provider's); and, with those
 * options, followed by every chunk it defers to first use (what its first invocation adds on top).
 */
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import JSZip from "jszip";
import { bundle, largestInputs } from "./bundle.js";
import { exec, median } from "./harness.js";
import { serverlessConfig } from "./serverless-yml.js";
import { ROOT } from "./services.js";

export interface FunctionColdStart {
  name: string;
  handler: string;
  /** It answers HTTP (an httpApi event): its cold start is added to a caller's wait. */
  http: boolean;
  /** The NODE_OPTIONS it is deployed with. */
  nodeOptions: string;
  /** The code loaded at import: the entry and the chunks it imports statically (no maps). */
  mjsBytes: number;
  /** All its code, chunks loaded on first use included (no maps). */
  totalBytes: number;
  zipBytes: number;
  /** What most of the code loaded at import is made of. */
  largest: Array<{ name: string; bytes: number }>;
  /** What most of the deferred chunks are made of. */
  largestDeferred: Array<{ name: string; bytes: number }>;
  /** Median ms to import the bundled handler: plain, and with its deployed NODE_OPTIONS. */
  importMs: number | undefined;
  importMsDeployed: number | undefined;
  /** Median ms to import it and then every deferred chunk, with its deployed NODE_OPTIONS. */
  firstUseMs: number | undefined;
  runs: number;
  error?: string;
}

export interface ColdStart {
  functions: FunctionColdStart[];
  /** Median ms to require() the official SDK's storage_1_0 client in a fresh process. */
  sdkStorageMs: number | undefined;
  sdkError?: string;
  runs: number;
  /** The provider's NODE_OPTIONS (functions may set their own). */
  nodeOptions: string;
}

/** Configuration every handler validates at import: enough for all of them (values are never used). */
export const HANDLER_ENV: Record<string, string> = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  POWERTOOLS_SERVICE_NAME: "dingtalk-file-bridge",
  POWERTOOLS_LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_NAMESPACE: "DingTalkFileBridge",
  DINGTALK_API_BASE: "https://api.dingtalk.com",
  DINGTALK_APP_KEY: "bench",
  DINGTALK_APP_SECRET: "bench",
  DINGTALK_UNION_ID: "bench",
  WEBHOOK_SECRET_SEND_LINK: "whsec_c2VjcmV0",
  WEBHOOK_SECRET_ARCHIVE: "whsec_c2VjcmV0",
  IDEMPOTENCY_TABLE: "bench",
  ARCHIVE_BUCKET: "bench-archive",
  ARCHIVE_PREFIX: "",
  ARCHIVE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/archive",
  ARCHIVE_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/archive-dlq",
  ARCHIVE_SCAN_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/archive-scan",
  ARCHIVE_SOURCES: JSON.stringify([{ spaceId: "bench" }]),
  SEND_LINK_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/send-link-dlq",
  TRANSFER_PART_SIZE: String(8 * 1024 * 1024),
  TRANSFER_CONCURRENCY: "8",
  DOWNLOAD_ALLOWED_HOSTS: "*.dingtalk.com,*.aliyuncs.com",
  DINGTALK_EVENT_TOKEN: "bench",
  DINGTALK_EVENT_AES_KEY: "a".repeat(43),
};

const IMPORT = `const t = performance.now(); await import(process.env.BENCH_TARGET); const ms = performance.now() - t; console.log(JSON.stringify({ ms }));`;
/** The handler, then each chunk it defers to first use (BENCH_DEFERRED, newline-separated file URLs). */
const IMPORT_ALL = `const t = performance.now(); await import(process.env.BENCH_TARGET); for (const c of (process.env.BENCH_DEFERRED ?? "").split("\\n").filter(Boolean)) await import(c); const ms = performance.now() - t; console.log(JSON.stringify({ ms }));`;
const REQUIRE = `const { createRequire } = require("node:module"); const t = performance.now(); createRequire(process.env.BENCH_BASE)(process.env.BENCH_TARGET); const ms = performance.now() - t; console.log(JSON.stringify({ ms }));`;

async function timeOnce(args: string[], env: Record<string, string>): Promise<number> {
  const out = await exec(
    [process.execPath, ...args],
    { PATH: process.env.PATH ?? "", ...env },
    { timeoutMs: 60_000 },
  );
  if (out.code !== 0) throw new Error(out.stderr.trim().split("\n").slice(-2).join(" ").slice(0, 300));
  return (JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}") as { ms: number }).ms;
}

export async function measureColdStart(
  runs: number,
  outdir: string,
  log: (line: string) => void,
): Promise<ColdStart> {
  const { functions: fns, provider } = serverlessConfig();
  log(`cold start: bundling ${fns.map((f) => f.name).join(", ")}`);
  const { builds } = await bundle(
    fns.map((f) => f.entry),
    outdir,
  );
  const results: FunctionColdStart[] = [];
  for (const f of fns) {
    const built = builds[f.entry];
    if (!built) throw new Error(`no build for ${f.entry}`);
    // The zip serverless-esbuild makes: every file of the function's build, paths relative to the build root.
    const zip = new JSZip();
    for (const file of built.files) zip.file(relative(outdir, file), await readFile(file));
    const zipped = await zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" });
    results.push({
      name: f.name,
      handler: f.entry,
      http: f.http,
      nodeOptions: f.nodeOptions,
      mjsBytes: built.initialBytes,
      totalBytes: built.totalBytes,
      zipBytes: zipped.length,
      largest: largestInputs(built, built.initialFiles),
      largestDeferred: largestInputs(built, built.deferredFiles),
      importMs: undefined,
      importMsDeployed: undefined,
      firstUseMs: undefined,
      runs,
    });
  }
  const plain = new Map<string, number[]>(fns.map((f) => [f.name, []]));
  const deployed = new Map<string, number[]>(fns.map((f) => [f.name, []]));
  const firstUse = new Map<string, number[]>(fns.map((f) => [f.name, []]));
  const sdk: number[] = [];
  let sdkError: string | undefined;
  log(
    `cold start: ${runs} fresh-process imports of each handler (plain, with its deployed NODE_OPTIONS, and with its deferred chunks) and loads of the SDK client`,
  );
  for (let i = 0; i < runs; i++) {
    for (const [index, f] of fns.entries()) {
      const r = results[index] as FunctionColdStart;
      const built = builds[f.entry];
      if (r.error || !built) continue;
      const env = { ...HANDLER_ENV, BENCH_TARGET: pathToFileURL(built.file).href };
      // As Lambda passes them: in the environment.
      const withOptions = f.nodeOptions ? { ...env, NODE_OPTIONS: f.nodeOptions } : env;
      try {
        plain.get(f.name)?.push(await timeOnce(["--input-type=module", "-e", IMPORT], env));
        deployed.get(f.name)?.push(await timeOnce(["--input-type=module", "-e", IMPORT], withOptions));
        firstUse.get(f.name)?.push(
          await timeOnce(["--input-type=module", "-e", IMPORT_ALL], {
            ...withOptions,
            BENCH_DEFERRED: built.deferredFiles.map((file) => pathToFileURL(file).href).join("\n"),
          }),
        );
      } catch (err) {
        r.error = (err as Error).message;
      }
    }
    if (!sdkError) {
      try {
        sdk.push(
          await timeOnce(["-e", REQUIRE], {
            BENCH_BASE: join(ROOT, "package.json"),
            BENCH_TARGET: "@alicloud/dingtalk/dist/storage_1_0/client",
          }),
        );
      } catch (err) {
        sdkError = (err as Error).message;
      }
    }
  }
  for (const r of results) {
    // Without NODE_OPTIONS the two imports are the same run twice: both medians take all the samples.
    const same = r.nodeOptions === "";
    const both = [...(plain.get(r.name) ?? []), ...(deployed.get(r.name) ?? [])];
    r.importMs = median(same ? both : (plain.get(r.name) ?? []));
    r.importMsDeployed = median(same ? both : (deployed.get(r.name) ?? []));
    r.firstUseMs = median(firstUse.get(r.name) ?? []);
  }
  return {
    functions: results,
    sdkStorageMs: median(sdk),
    ...(sdkError ? { sdkError } : {}),
    runs,
    nodeOptions: provider.nodeOptions,
  };
}
