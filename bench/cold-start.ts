/**
 * Cold start: each function of serverless.yml bundled as serverless-esbuild bundles it (bench/bundle.ts),
 * its size (.mjs, and the zip of .mjs + .map as `serverless package` ships it), and the time to import its
 * handler in a fresh Node process — against the time a fresh process takes to load the official DingTalk
 * SDK's storage client (`@alicloud/dingtalk/dist/storage_1_0/client`, as test/sandbox/sdk.test.ts loads it).
 *
 * Times are measured inside the child around the import()/require() (process start-up is the same for
 * both). Runs are interleaved across functions and the SDK. Handlers are imported twice over: plain, and
 * with the deployed NODE_OPTIONS (`--enable-source-maps`, from serverless.yml's provider environment).
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import JSZip from "jszip";
import { bundle, largestInputs } from "./bundle.js";
import { exec, median } from "./harness.js";
import { ROOT } from "./services.js";

export interface FunctionColdStart {
  name: string;
  handler: string;
  mjsBytes: number;
  zipBytes: number;
  /** What most of the bundle is made of. */
  largest: Array<{ name: string; bytes: number }>;
  /** Median ms to import the bundled handler, without and with --enable-source-maps. */
  importMs: number | undefined;
  importMsSourceMaps: number | undefined;
  runs: number;
  error?: string;
}

export interface ColdStart {
  functions: FunctionColdStart[];
  /** Median ms to require() the official SDK's storage_1_0 client in a fresh process. */
  sdkStorageMs: number | undefined;
  sdkError?: string;
  runs: number;
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

/** The functions of serverless.yml: name and handler (`functions/x/handler.handler`). */
export async function serverlessFunctions(): Promise<Array<{ name: string; entry: string }>> {
  const text = await readFile(join(ROOT, "serverless.yml"), "utf8");
  const out: Array<{ name: string; entry: string }> = [];
  let name = "";
  for (const line of text.split("\n")) {
    const fn = /^ {2}([A-Za-z0-9-]+):\s*$/.exec(line);
    if (fn) name = fn[1] as string;
    const h = /^ {4}handler:\s*(\S+)\.[A-Za-z_$][\w$]*\s*$/.exec(line);
    if (h && name) out.push({ name, entry: `${h[1]}.ts` });
  }
  return out;
}

/** The NODE_OPTIONS serverless.yml gives every function. */
async function deployedNodeOptions(): Promise<string> {
  const text = await readFile(join(ROOT, "serverless.yml"), "utf8");
  return /^ {4}NODE_OPTIONS:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? "";
}

const IMPORT = `const t = performance.now(); await import(process.env.BENCH_TARGET); const ms = performance.now() - t; console.log(JSON.stringify({ ms }));`;
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
  const fns = await serverlessFunctions();
  const nodeOptions = await deployedNodeOptions();
  log(`cold start: bundling ${fns.map((f) => f.name).join(", ")}`);
  const { outputs: built, metafile } = await bundle(
    fns.map((f) => f.entry),
    outdir,
  );
  const results: FunctionColdStart[] = [];
  for (const f of fns) {
    const file = built[f.entry] as string;
    const zip = new JSZip();
    zip.file(f.entry.replace(/\.ts$/, ".mjs"), await readFile(file));
    zip.file(f.entry.replace(/\.ts$/, ".mjs.map"), await readFile(`${file}.map`));
    const zipped = await zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" });
    results.push({
      name: f.name,
      handler: f.entry,
      mjsBytes: (await stat(file)).size,
      zipBytes: zipped.length,
      largest: largestInputs(metafile, f.entry.replace(/\.ts$/, ".mjs")),
      importMs: undefined,
      importMsSourceMaps: undefined,
      runs,
    });
  }
  const plain = new Map<string, number[]>(fns.map((f) => [f.name, []]));
  const mapped = new Map<string, number[]>(fns.map((f) => [f.name, []]));
  const sdk: number[] = [];
  let sdkError: string | undefined;
  log(
    `cold start: ${runs} fresh-process imports of each handler (plain and ${nodeOptions || "no NODE_OPTIONS"}) and loads of the SDK client`,
  );
  for (let i = 0; i < runs; i++) {
    for (const [index, f] of fns.entries()) {
      const r = results[index] as FunctionColdStart;
      if (r.error) continue;
      const target = pathToFileURL(built[f.entry] as string).href;
      try {
        plain
          .get(f.name)
          ?.push(
            await timeOnce(["--input-type=module", "-e", IMPORT], { ...HANDLER_ENV, BENCH_TARGET: target }),
          );
        const flags = nodeOptions ? nodeOptions.split(/\s+/) : [];
        mapped.get(f.name)?.push(
          await timeOnce([...flags, "--input-type=module", "-e", IMPORT], {
            ...HANDLER_ENV,
            BENCH_TARGET: target,
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
    r.importMs = median(plain.get(r.name) ?? []);
    r.importMsSourceMaps = median(mapped.get(r.name) ?? []);
  }
  return {
    functions: results,
    sdkStorageMs: median(sdk),
    ...(sdkError ? { sdkError } : {}),
    runs,
    nodeOptions,
  };
}
