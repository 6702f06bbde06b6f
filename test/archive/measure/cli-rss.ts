/**
 * Measure: peak memory (max RSS) of the archive CLI archiving one large file. Run by hand, not in the suite:
 *
 *   node --import tsx test/archive/measure/cli-rss.ts [sizeMiB=1024]
 *
 * This process hosts the sandbox and fauxqs; the CLI runs as a child with the node flags of `npm run archive`,
 * under `/usr/bin/time -v` when present, so its RSS is its own. TRANSFER_PART_SIZE,
 * TRANSFER_CONCURRENCY and NODE_OPTIONS pass through to the CLI. The object is deleted afterwards: fauxqs keeps
 * objects in memory.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startSandbox } from "../../../sandbox/server";
import { startLocalEmulator } from "../../../scripts/local-services";
import { ROOT } from "../../support/run-process";

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MiB;
const bucket = "rss-measure";

const sandbox = await startSandbox({ port: 0, generatedFiles: [{ name: "measure.bin", size }] });
const emulator = await startLocalEmulator(0, { buckets: [bucket] });
const checkpointDir = await mkdtemp(join(tmpdir(), "cli-rss-"));
const dentryId = sandbox.dentryIdByPath("measure.bin") as string;

const passThrough = ["TRANSFER_PART_SIZE", "TRANSFER_CONCURRENCY", "NODE_OPTIONS"].flatMap((name) =>
  process.env[name] ? [[name, process.env[name] as string]] : [],
);
const env = {
  PATH: process.env.PATH ?? "",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  AWS_ENDPOINT_URL_S3: emulator.address,
  DINGTALK_API_BASE: sandbox.url,
  DINGTALK_APP_KEY: "sandbox",
  DINGTALK_APP_SECRET: "sandbox-secret",
  DINGTALK_UNION_ID: "sandbox-union",
  DOWNLOAD_ALLOWED_HOSTS: sandbox.fileHost,
  DOWNLOAD_ALLOW_HTTP_HOSTS: sandbox.fileHost,
  ARCHIVE_BUCKET: bucket,
  ARCHIVE_CHECKPOINT_DIR: checkpointDir,
  ARCHIVE_REPORT_RSS: "1",
  ...Object.fromEntries(passThrough),
};
// The node flags of `npm run archive` (package.json), so the figure is the one a user gets.
const archiveScript = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.archive as string;
const nodeArgs = archiveScript.split(" ").slice(1);
const cli = [process.execPath, ...nodeArgs, "--space-id", "sandbox-space"];
const command = existsSync("/usr/bin/time") ? ["/usr/bin/time", "-v", ...cli] : cli;
const child = spawn(command[0] as string, [...command.slice(1), "--dentry-id", dentryId], {
  cwd: ROOT,
  env,
  stdio: ["ignore", "pipe", "pipe"],
});
let stdout = "";
let stderr = "";
child.stdout.on("data", (chunk: Buffer) => {
  stdout += chunk;
});
child.stderr.on("data", (chunk: Buffer) => {
  stderr += chunk;
});
const code = await new Promise<number | null>((resolve) => child.on("close", resolve));

const result = stdout.trim() ? (JSON.parse(stdout) as { key?: string; seconds?: number }) : {};
const timeRss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
const selfRss = /maxRSS: ([\d.]+) MiB/.exec(stderr)?.[1];
console.log(
  JSON.stringify({
    sizeMiB: size / MiB,
    exit: code,
    seconds: result.seconds,
    maxRssMiB: timeRss ? Math.round(Number(timeRss) / 102.4) / 10 : Number(selfRss),
    measuredBy: timeRss ? "/usr/bin/time -v" : "process.resourceUsage().maxRSS",
    ...Object.fromEntries(passThrough),
  }),
);
if (code !== 0) console.error(stderr);

const s3 = new S3Client({
  endpoint: emulator.address,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
if (result.key) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: result.key }));
s3.destroy();
await sandbox.close();
await emulator.stop();
await rm(checkpointDir, { recursive: true, force: true });
