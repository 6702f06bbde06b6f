/**
 * The randomized fault campaign: each run archives one generated file through the real CLI
 * (scripts/archive-cli.ts as a child process, as `npm run archive` runs it) against a DingTalk sandbox with
 * fault rules and the S3 emulator (fauxqs) behind a recording, fault-injecting proxy (chaos/s3-proxy.ts).
 * The CLI is SIGKILLed at a chosen moment and started again, until a start runs to its end.
 *
 * Every run must end in one of two ways:
 *   - completed: exit 0, one JSON line, and the object under the key is byte-exact (SHA-256 of what S3 gives
 *     back = sha256OfGenerated of the file's seed and size);
 *   - clean failure: exit 1 with "archive failed: <reason>" on stderr, and no object under the key.
 * and, either way, every multipart upload created for the file is completed or aborted at the end. A killed
 * CLI may leave its upload open (the next start resumes it from the checkpoint). A kill that lands between
 * CreateMultipartUpload's answer and the checkpoint write leaves an upload nobody knows the id of: without
 * ListMultipartUploads (which fauxqs lacks) only the bucket's lifecycle rule can abort it. The campaign counts
 * those separately ("orphaned at a kill"), accepts at most one per kill and only if no checkpoint named it,
 * and aborts it itself; any other open upload is a violation.
 *
 * The sandbox, fauxqs and the proxy live in this process, so they outlive every killed CLI. Each run gets
 * its own sandbox (its own faults and bandwidth), so `lanes` runs can go at once; fauxqs is restarted every
 * `restartEvery` runs to give back its memory.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AbortMultipartUploadCommand, DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { FauxqsServer } from "fauxqs";
import { archiveKey } from "../lib/archive/key";
import { sha256OfGenerated } from "../sandbox/content";
import { startSandbox } from "../sandbox/server";
import type { Sandbox } from "../sandbox/types";
import { startLocalEmulator } from "../scripts/local-services";
import { startScript } from "../test/support/run-process";
import { localEnv, localS3, objectDigest } from "../test/support/world";
import { type KillPlan, MiB, makePlan, type PlanOptions, type RunPlan } from "./plan";
import { type ProxyMoment, type S3Proxy, startS3Proxy } from "./s3-proxy";

export { ROOT } from "../test/support/run-process";
export const BUCKET = "chaos-archive";

export interface CampaignOptions extends Partial<PlanOptions> {
  runs: number;
  seed: string;
  /** First run number (to replay one run: `--first 137 --runs 1`). Default 0. */
  first?: number;
  /** Runs at once. Default 3 (a run mostly waits: CLI start-up, backoffs, slow bodies). */
  lanes?: number;
  /** Restart fauxqs after this many runs. Default 50. */
  restartEvery?: number;
  /** A start that takes longer than this is killed and counted as a violation. Default 240 s. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export type RunResult = "completed" | "failed" | "violation";

export interface RunOutcome {
  plan: RunPlan;
  key: string;
  result: RunResult;
  /** "archived" or "skipped" for a completed run (skipped: an earlier, killed start had completed it). */
  status?: string;
  /** A clean failure's reason (the CLI's stderr line), or the violations. */
  reason?: string;
  failureCode?: string;
  violations: string[];
  /** Outcome differs from what the faults allow (e.g. failed although every fault was within budget). */
  surprise?: string;
  starts: number;
  killsDone: number;
  /** Kills that were SIGTERMs answered by a saved checkpoint and exit 143. */
  gracefulStops: number;
  killsMissed: number;
  orphanedAtKill: number;
  /** The last start's JSON bytesResent (downloaded twice within that start). */
  bytesResent: number;
  resumedParts: number;
  /** Payload bytes sent to S3 for this file beyond its size, all starts together (from the proxy). */
  uploadOverhead: number;
  uploadsCreated: number;
  staleCheckpoint: boolean;
  faultsFired: number;
  seconds: number;
}

export interface CampaignSummary {
  seed: string;
  runs: number;
  completed: number;
  archived: number;
  skipped: number;
  cleanFailures: number;
  failuresByCode: Record<string, number>;
  expectedFailures: number;
  violations: number;
  violationRuns: Array<{ run: number; violations: string[] }>;
  surprises: Array<{ run: number; surprise: string }>;
  starts: number;
  killsDone: number;
  gracefulStops: number;
  killsMissed: number;
  orphanedAtKill: number;
  staleCheckpoints: number;
  bytesArchived: number;
  bytesResentDownload: number;
  uploadOverheadBytes: number;
  /** The same, for the runs that completed only (a failed run's retries can send a part many times). */
  uploadOverheadCompletedBytes: number;
  /** Peak RSS of the campaign process (sandbox, proxy, fauxqs), MiB. */
  peakRssMiB: number;
  resumedParts: number;
  uploadsCreated: number;
  faultsFired: number;
  s3FaultsInjected: Record<string, number>;
  sizes: {
    min: number;
    max: number;
    empty: number;
    singlePart: number;
    multipart: number;
    /** Files by size: 0, ≤ 64 KiB, ≤ part size, 2 parts, 3-4 parts, 5+ parts. */
    histogram: Record<string, number>;
  };
  wallSeconds: number;
  fauxqsRestarts: number;
  outcomes: RunOutcome[];
}

interface World {
  emulator: FauxqsServer;
  proxy: S3Proxy;
  /** Straight to fauxqs: verification, cleanup. */
  direct: S3Client;
  /** Through the proxy, so its records see the campaign's own aborts of orphaned uploads. */
  viaProxy: S3Client;
  workDir: string;
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignSummary> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const planOptions: PlanOptions = {
    maxSize: options.maxSize ?? 60 * MiB,
    longStalls: options.longStalls ?? false,
  };
  const lanes = Math.max(1, options.lanes ?? 3);
  const restartEvery = Math.max(1, options.restartEvery ?? 50);
  const first = options.first ?? 0;
  const workDir = join(tmpdir(), `chaos-${process.pid}-${Date.now()}`);
  await mkdir(workDir, { recursive: true });
  let emulator = await startLocalEmulator(0, { buckets: [BUCKET] });
  const proxy = await startS3Proxy(emulator.address);
  const world: World = {
    emulator,
    proxy,
    direct: localS3(emulator.address),
    viaProxy: localS3(proxy.url),
    workDir,
  };
  const outcomes: RunOutcome[] = [];
  let restarts = 0;
  try {
    for (let batch = 0; batch < options.runs; batch += restartEvery) {
      if (batch > 0) {
        // Every run of the previous batch has ended and cleaned up: nothing in fauxqs is needed any more.
        world.direct.destroy();
        await emulator.stop();
        emulator = await startLocalEmulator(0, { buckets: [BUCKET] });
        world.emulator = emulator;
        world.direct = localS3(emulator.address);
        proxy.setTarget(emulator.address);
        restarts++;
      }
      const queue = Array.from(
        { length: Math.min(restartEvery, options.runs - batch) },
        (_, i) => first + batch + i,
      );
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          for (let run = queue.shift(); run !== undefined; run = queue.shift()) {
            const plan = makePlan(options.seed, run, planOptions);
            const outcome = await runOne(world, plan, options.startTimeoutMs ?? 240_000);
            outcomes.push(outcome);
            log(describeOutcome(outcome));
          }
        }),
      );
    }
  } finally {
    world.direct.destroy();
    world.viaProxy.destroy();
    await proxy.close();
    await emulator.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  outcomes.sort((a, b) => a.plan.run - b.plan.run);
  return summarize(options.seed, outcomes, (performance.now() - started) / 1000, restarts, proxy);
}

// --- one run ---

interface StartOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  killedByUs: boolean;
  timedOut: boolean;
}

async function runOne(world: World, plan: RunPlan, startTimeoutMs: number): Promise<RunOutcome> {
  const t0 = performance.now();
  const { proxy } = world;
  const sandbox = await startSandbox({
    port: 0,
    urlTtlSeconds: plan.urlTtlSeconds,
    ...(plan.bandwidth ? { bandwidthBytesPerSecond: plan.bandwidth } : {}),
  });
  const name = `chaos-${plan.run}.bin`;
  const fileSeed = `chaos/${plan.seed}/${plan.run}`;
  const dentryId = sandbox.putGeneratedFile({ name, size: plan.size, parentPath: "chaos", seed: fileSeed });
  const key = archiveKey({ prefix: "", spaceId: sandbox.options.spaceId, dentryId, version: 1, name });
  const checkpointDir = join(world.workDir, `run-${plan.run}`);
  const outcome: RunOutcome = {
    plan,
    key,
    result: "completed",
    violations: [],
    starts: 0,
    killsDone: 0,
    gracefulStops: 0,
    killsMissed: 0,
    orphanedAtKill: 0,
    bytesResent: 0,
    resumedParts: 0,
    uploadOverhead: 0,
    uploadsCreated: 0,
    staleCheckpoint: false,
    faultsFired: 0,
    seconds: 0,
  };
  sandbox.addFaults(...plan.sandboxFaults);
  proxy.setFaults(key, plan.s3Faults);
  const env = cliEnv(sandbox, proxy.url, plan, checkpointDir);
  const args = ["--space-id", sandbox.options.spaceId, "--dentry-id", dentryId];

  try {
    let last: StartOutcome | undefined;
    for (let k = 0; ; k++) {
      const kill = plan.kills[k];
      outcome.starts++;
      const start = await startCli(args, env, kill, proxy, key, startTimeoutMs);
      if (start.timedOut) {
        outcome.violations.push(`start ${k + 1} did not end within ${startTimeoutMs / 1000} s (killed)`);
        last = start;
        break;
      }
      if (start.killedByUs && kill?.signal === "SIGTERM") {
        // A graceful stop: exit 143 with one "paused" line and everything done in the checkpoint. Before the
        // CLI set its handler, SIGTERM ends it outright; a start past its last part just finishes (0 or 1).
        if (start.code === 143) {
          outcome.killsDone++;
          outcome.gracefulStops++;
          await checkPaused(world, outcome, start, checkpointDir);
          continue;
        }
        if (start.signal === "SIGTERM") {
          outcome.killsDone++;
          await checkAfterKill(world, outcome, checkpointDir);
          continue;
        }
      } else if (start.killedByUs) {
        outcome.killsDone++;
        await checkAfterKill(world, outcome, checkpointDir);
        continue;
      }
      if (kill) outcome.killsMissed++; // it ended before the kill moment came
      last = start;
      break;
    }
    await judge(world, outcome, last, fileSeed, checkpointDir);
    outcome.faultsFired = await faultsFired(sandbox, plan);
  } catch (err) {
    outcome.violations.push(`campaign error: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    proxy.setHook(key, undefined);
    outcome.uploadOverhead = Math.max(0, proxy.bytesFor(key) - plan.size);
    outcome.uploadsCreated = proxy.uploads(key).length;
    if (outcome.violations.length > 0) {
      outcome.result = "violation";
      outcome.reason = outcome.violations.join("; ");
    }
    // Free fauxqs's memory: the object (verified), and any upload still open (reported above).
    for (const upload of proxy.openUploads(key)) {
      await world.viaProxy
        .send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: upload.uploadId }))
        .catch(() => {});
    }
    await world.direct.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })).catch(() => {});
    proxy.forget(key);
    await sandbox.close();
    await rm(checkpointDir, { recursive: true, force: true });
    outcome.seconds = (performance.now() - t0) / 1000;
  }
  return outcome;
}

function cliEnv(
  sandbox: Sandbox,
  s3Url: string,
  plan: RunPlan,
  checkpointDir: string,
): Record<string, string> {
  return localEnv(
    { sandbox, s3: s3Url, bucket: BUCKET, checkpointDir },
    {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      TRANSFER_PART_SIZE: String(plan.partSize),
      TRANSFER_CONCURRENCY: String(plan.concurrency),
      ARCHIVE_LOG_LEVEL: "WARN",
    },
  );
}

/** One start of the CLI, as `npm run archive` runs it, sent `kill`'s signal at its moment if it comes. */
function startCli(
  args: string[],
  env: Record<string, string>,
  kill: KillPlan | undefined,
  proxy: S3Proxy,
  key: string,
  timeoutMs: number,
): Promise<StartOutcome> {
  const cli = startScript("scripts/archive-cli.ts", args, { env, nodeFlags: ["--max-semi-space-size=2"] });
  const { child } = cli;
  let killedByUs = false;
  let timedOut = false;
  const exited = cli.done.then(
    () => undefined,
    () => undefined,
  );
  const killNow = async () => {
    if (child.exitCode !== null || child.signalCode !== null || killedByUs || !kill) return;
    killedByUs = true;
    child.kill(kill.signal);
    // A killed CLI is gone before the proxy relays anything more; a stopping one needs its answers to finish.
    if (kill.signal === "SIGKILL") await exited;
  };
  let timer: NodeJS.Timeout | undefined;
  if (kill?.at === "time") timer = setTimeout(() => void killNow(), kill.ms);
  if (kill?.at === "s3") {
    let seen = 0;
    proxy.setHook(key, async (m: ProxyMoment) => {
      if (m.op !== kill.op || m.phase !== kill.phase) return;
      if (++seen === kill.nth) await killNow();
    });
  } else {
    proxy.setHook(key, undefined);
  }
  const watchdog = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  return cli.done
    .finally(() => {
      clearTimeout(timer);
      clearTimeout(watchdog);
      proxy.setHook(key, undefined);
    })
    .then((ended) => ({ ...ended, killedByUs: killedByUs && !timedOut, timedOut }));
}

/**
 * After a graceful stop (exit 143): one JSON line saying "paused", a checkpoint holding as many parts, and no
 * upload open but the checkpoint's.
 */
async function checkPaused(
  world: World,
  outcome: RunOutcome,
  start: StartOutcome,
  checkpointDir: string,
): Promise<void> {
  const lines = start.stdout.split("\n").filter((l) => l !== "");
  let paused: { status?: string; partsDone?: number } = {};
  try {
    paused = JSON.parse(lines[0] ?? "{}") as typeof paused;
  } catch {
    // reported below
  }
  if (lines.length !== 1 || paused.status !== "paused") {
    outcome.violations.push(`exit 143 without one "paused" line: ${start.stdout.slice(0, 200)}`);
  }
  const { uploadIds, parts } = await checkpointState(checkpointDir);
  if (paused.partsDone !== parts) {
    outcome.violations.push(`paused with ${paused.partsDone} parts done, the checkpoint holds ${parts}`);
  }
  for (const upload of world.proxy.openUploads(outcome.key)) {
    if (uploadIds.has(upload.uploadId)) continue;
    outcome.violations.push(
      `after a graceful stop: upload ${upload.uploadId} is open and named by no checkpoint`,
    );
  }
}

/** Upload ids named by the checkpoint files of this run (and leftover temp files). */
async function checkpointState(
  dir: string,
): Promise<{ uploadIds: Set<string>; files: number; parts: number }> {
  const uploadIds = new Set<string>();
  let files = 0;
  let parts = 0;
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    if (!file.endsWith(".json")) continue;
    files++;
    try {
      const cp = JSON.parse(await readFile(join(dir, file), "utf8")) as {
        uploadId?: string;
        parts?: unknown[];
      };
      if (cp.uploadId) uploadIds.add(cp.uploadId);
      parts += cp.parts?.length ?? 0;
    } catch {
      // unreadable: names no upload
    }
  }
  return { uploadIds, files, parts };
}

/**
 * Right after a SIGKILL: open uploads are fine when the checkpoint names them (the next start resumes them).
 * At most one other, the newest, may be open: the kill landed before its id reached the checkpoint (or inside
 * the streaming fallback, whose own upload has no checkpoint). It is aborted here, as the bucket's
 * lifecycle rule would, and counted. More than one, or an older one, is a leak.
 */
async function checkAfterKill(world: World, outcome: RunOutcome, checkpointDir: string): Promise<void> {
  const { uploadIds } = await checkpointState(checkpointDir);
  const open = world.proxy.openUploads(outcome.key);
  const unknown = open.filter((u) => !uploadIds.has(u.uploadId));
  const all = world.proxy.uploads(outcome.key);
  const newest = all.reduce<(typeof all)[number] | undefined>(
    (best, u) => (best === undefined || u.createdAt >= best.createdAt ? u : best),
    undefined,
  )?.uploadId;
  for (const upload of unknown) {
    if (unknown.length === 1 && upload.uploadId === newest) {
      outcome.orphanedAtKill++;
    } else {
      outcome.violations.push(
        `after kill ${outcome.killsDone}: upload ${upload.uploadId} is open and named by no checkpoint`,
      );
    }
    await world.viaProxy
      .send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: outcome.key, UploadId: upload.uploadId }))
      .catch(() => {});
  }
}

/** The last start's outcome against the rules at the top of this file. */
async function judge(
  world: World,
  outcome: RunOutcome,
  last: StartOutcome | undefined,
  fileSeed: string,
  checkpointDir: string,
): Promise<void> {
  const { plan, key } = outcome;
  const v = outcome.violations;
  if (!last) {
    v.push("no start ran to its end");
    return;
  }
  const expected = await sha256OfGenerated(fileSeed, plan.size);
  const stored = await objectDigest(world.direct, BUCKET, key);
  const stdoutLines = last.stdout.split("\n").filter((l) => l !== "");
  if (last.timedOut) {
    // reported by the caller
  } else if (last.code === 0) {
    if (stdoutLines.length !== 1) v.push(`exit 0 with ${stdoutLines.length} lines on stdout`);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(stdoutLines[0] ?? "{}") as Record<string, unknown>;
    } catch {
      v.push(`exit 0 but stdout is not JSON: ${last.stdout.slice(0, 200)}`);
    }
    outcome.status = String(json.status);
    if (json.status !== "archived" && json.status !== "skipped") v.push(`exit 0 with status ${json.status}`);
    if (json.key !== key) v.push(`exit 0 names key ${String(json.key)}, expected ${key}`);
    if (json.size !== plan.size) v.push(`exit 0 says size ${String(json.size)}, the file has ${plan.size}`);
    outcome.bytesResent = Number(json.bytesResent ?? 0);
    outcome.resumedParts = Number(json.resumedParts ?? 0);
    if (!stored) v.push("exit 0 but no object under the key");
    else if (stored.sha256 !== expected || stored.bytes !== plan.size) {
      v.push(`object is not byte-exact: ${stored.bytes} bytes, sha256 ${stored.sha256.slice(0, 12)}…`);
    }
  } else if (last.code === 1) {
    const line = last.stderr.split("\n").find((l) => l.startsWith("archive failed: "));
    if (!line) v.push(`crashed (exit 1 without "archive failed: <reason>"): ${crashCause(last.stderr)}`);
    outcome.result = "failed";
    outcome.reason = line?.slice("archive failed: ".length) ?? crashCause(last.stderr);
    outcome.failureCode = /\(code ([^;)]+)/.exec(outcome.reason)?.[1] ?? "unknown";
    if (stored) {
      if (stored.sha256 !== expected || stored.bytes !== plan.size) {
        v.push(`failed run left a partial or wrong object under the key (${stored.bytes} bytes)`);
      } else {
        // Whole and exact, but the CLI said it failed: not a partial object, but a wrong answer.
        outcome.surprise = `exit 1 although the complete object is under the key: ${outcome.reason}`;
      }
    }
  } else {
    v.push(`unclean end: exit ${last.code ?? "-"} signal ${last.signal ?? "-"}: ${crashCause(last.stderr)}`);
  }

  const open = world.proxy.openUploads(key);
  for (const upload of open) v.push(`upload ${upload.uploadId} left open after the last start`);
  const cps = await checkpointState(checkpointDir);
  // A start that completed the object and was killed before deleting its checkpoint leaves it behind; the next
  // start answers "skipped" without looking at it. Harmless (the Lambda's are expired by a lifecycle rule).
  outcome.staleCheckpoint = cps.files > 0;

  if (outcome.result === "failed" && plan.expect === "complete") {
    outcome.surprise ??= `failed although every fault was within the retry budgets: ${outcome.reason}`;
  }
  if (outcome.result === "completed" && plan.expect === "fail" && last.code === 0) {
    outcome.surprise = `completed although ${plan.expectWhy.join(", ")}`;
  }
}

/** The gist of a crash's stderr: the exception line and its first frame, with a known cause named. */
export function crashCause(stderr: string): string {
  if (/assert\(!this\.paused\)|Parser\.finish .*client-h1\.js/.test(stderr)) {
    return "undici AssertionError in Parser.finish (a FIN while the parser was paused: nodejs/undici#5360, fixed in undici 8)";
  }
  const lines = stderr.split("\n");
  const at = lines.findIndex((l) => /^\w*Error\b|^\s+at /.test(l));
  return at < 0 ? stderr.slice(-600) : lines.slice(Math.max(0, at - 1), at + 3).join(" | ");
}

/** Sandbox fault applications: each rule's `times` minus what is left of it. */
async function faultsFired(sandbox: Sandbox, plan: RunPlan): Promise<number> {
  const state = (await (await fetch(`${sandbox.url}/__sandbox/state`)).json()) as {
    faults: Array<{ remaining: number | null }>;
  };
  const planned = plan.sandboxFaults.reduce((n, f) => n + (f.times ?? 0), 0);
  const left = state.faults.reduce((n, f) => n + (f.remaining ?? 0), 0);
  return Math.max(0, planned - left);
}

// --- reporting ---

export function formatBytes(n: number): string {
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function describeKill(k: KillPlan): string {
  const name = k.signal === "SIGKILL" ? "kill" : "term";
  return k.at === "time" ? `${name}@${k.ms}ms` : `${name}@${k.op}#${k.nth}/${k.phase}`;
}

export function describeOutcome(o: RunOutcome): string {
  const p = o.plan;
  const what =
    o.result === "completed"
      ? `${o.status}${o.resumedParts ? ` resumed ${o.resumedParts}` : ""}${o.bytesResent ? ` resent ${formatBytes(o.bytesResent)}` : ""}`
      : o.result === "failed"
        ? `clean failure (${o.failureCode})`
        : `VIOLATION: ${o.reason}`;
  const extras = [
    o.orphanedAtKill ? `orphaned-at-kill ${o.orphanedAtKill}` : "",
    o.killsMissed ? `kills missed ${o.killsMissed}` : "",
    o.surprise ? `SURPRISE: ${o.surprise}` : "",
  ].filter(Boolean);
  return (
    `run ${String(p.run).padStart(4)} ${formatBytes(p.size).padStart(10)} part ${p.partSize / MiB}M ×${p.concurrency}` +
    ` [${[...p.labels, ...p.kills.map(describeKill)].join(", ")}] → ${what}` +
    ` (${o.starts} start${o.starts === 1 ? "" : "s"}, ${o.seconds.toFixed(1)} s)` +
    (extras.length ? ` ${extras.join("; ")}` : "")
  );
}

function summarize(
  seed: string,
  outcomes: RunOutcome[],
  wallSeconds: number,
  restarts: number,
  proxy: S3Proxy,
): CampaignSummary {
  const sum = (f: (o: RunOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
  const failuresByCode: Record<string, number> = {};
  for (const o of outcomes) {
    if (o.result === "failed")
      failuresByCode[o.failureCode ?? "unknown"] = (failuresByCode[o.failureCode ?? "unknown"] ?? 0) + 1;
  }
  const sizes = outcomes.map((o) => o.plan.size);
  return {
    seed,
    runs: outcomes.length,
    completed: outcomes.filter((o) => o.result === "completed").length,
    archived: outcomes.filter((o) => o.result === "completed" && o.status === "archived").length,
    skipped: outcomes.filter((o) => o.result === "completed" && o.status === "skipped").length,
    cleanFailures: outcomes.filter((o) => o.result === "failed").length,
    failuresByCode,
    expectedFailures: outcomes.filter((o) => o.result === "failed" && o.plan.expect !== "complete").length,
    violations: outcomes.filter((o) => o.result === "violation").length,
    violationRuns: outcomes
      .filter((o) => o.result === "violation")
      .map((o) => ({ run: o.plan.run, violations: o.violations })),
    surprises: outcomes
      .filter((o) => o.surprise)
      .map((o) => ({ run: o.plan.run, surprise: o.surprise as string })),
    starts: sum((o) => o.starts),
    killsDone: sum((o) => o.killsDone),
    gracefulStops: sum((o) => o.gracefulStops),
    killsMissed: sum((o) => o.killsMissed),
    orphanedAtKill: sum((o) => o.orphanedAtKill),
    staleCheckpoints: outcomes.filter((o) => o.staleCheckpoint).length,
    bytesArchived: sum((o) => (o.result === "completed" ? o.plan.size : 0)),
    bytesResentDownload: sum((o) => o.bytesResent),
    uploadOverheadBytes: sum((o) => o.uploadOverhead),
    uploadOverheadCompletedBytes: sum((o) => (o.result === "completed" ? o.uploadOverhead : 0)),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    resumedParts: sum((o) => o.resumedParts),
    uploadsCreated: sum((o) => o.uploadsCreated),
    faultsFired: sum((o) => o.faultsFired),
    s3FaultsInjected: { ...proxy.stats.injected } as Record<string, number>,
    sizes: {
      min: Math.min(...sizes),
      max: Math.max(...sizes),
      empty: sizes.filter((s) => s === 0).length,
      singlePart: outcomes.filter((o) => o.plan.size > 0 && o.plan.size <= o.plan.partSize).length,
      multipart: outcomes.filter((o) => o.plan.size > o.plan.partSize).length,
      histogram: histogram(outcomes),
    },
    wallSeconds,
    fauxqsRestarts: restarts,
    outcomes,
  };
}

function histogram(outcomes: RunOutcome[]): Record<string, number> {
  const buckets: Record<string, number> = {
    "0 B": 0,
    "≤64 KiB": 0,
    "≤1 part": 0,
    "2 parts": 0,
    "3-4 parts": 0,
    "5+ parts": 0,
  };
  for (const { plan } of outcomes) {
    const parts = Math.ceil(plan.size / plan.partSize);
    const bucket =
      plan.size === 0
        ? "0 B"
        : plan.size <= 64 * 1024
          ? "≤64 KiB"
          : parts <= 1
            ? "≤1 part"
            : parts === 2
              ? "2 parts"
              : parts <= 4
                ? "3-4 parts"
                : "5+ parts";
    buckets[bucket] = (buckets[bucket] ?? 0) + 1;
  }
  return buckets;
}

export function formatSummary(s: CampaignSummary): string {
  const lines = [
    `chaos campaign, seed ${s.seed}: ${s.runs} runs in ${s.wallSeconds.toFixed(0)} s`,
    `  completed        ${s.completed} (archived ${s.archived}, skipped ${s.skipped}: completed by a start that was then killed)`,
    `  clean failures   ${s.cleanFailures} (${s.expectedFailures} expected from their faults) ${JSON.stringify(s.failuresByCode)}`,
    `  violations       ${s.violations}`,
    `  surprises        ${s.surprises.length}`,
    `  CLI starts       ${s.starts}; stopped ${s.killsDone} (SIGKILL ${s.killsDone - s.gracefulStops}, SIGTERM → paused ${s.gracefulStops}); ${s.killsMissed} planned stops came after the end`,
    `  orphaned at kill ${s.orphanedAtKill} (upload created, killed before the checkpoint named it: lifecycle rule's job)`,
    `  bytes archived   ${formatBytes(s.bytesArchived)}; files ${s.sizes.empty} empty, ${s.sizes.singlePart} single-part, ${s.sizes.multipart} multipart, ${formatBytes(s.sizes.min)}–${formatBytes(s.sizes.max)}`,
    `  sizes            ${Object.entries(s.sizes.histogram)
      .map(([bucket, n]) => `${bucket}: ${n}`)
      .join(", ")}`,
    `  bytes re-sent    download ${formatBytes(s.bytesResentDownload)} (bytesResent of the final starts); upload ${formatBytes(s.uploadOverheadBytes)} beyond the file sizes (proxy, all starts; ${formatBytes(s.uploadOverheadCompletedBytes)} of it in completed runs)`,
    `  resumed parts    ${s.resumedParts}; multipart uploads created ${s.uploadsCreated}; stale checkpoints ${s.staleCheckpoints}`,
    `  faults           sandbox rules fired ${s.faultsFired}; S3 injected ${JSON.stringify(s.s3FaultsInjected)}`,
    `  fauxqs restarts  ${s.fauxqsRestarts}; campaign process peak RSS ${s.peakRssMiB.toFixed(0)} MiB`,
  ];
  for (const r of s.violationRuns) lines.push(`  VIOLATION run ${r.run}: ${r.violations.join("; ")}`);
  for (const r of s.surprises) lines.push(`  surprise run ${r.run}: ${r.surprise}`);
  return lines.join("\n");
}
