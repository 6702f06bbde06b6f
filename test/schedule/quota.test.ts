/**
 * The "Done when" of DingTalk's monthly quota, end to end on the local stack (sandbox, fauxqs, dynalite) and
 * counted by the sandbox's own per-API call counters:
 * - a backfill over a space of new small files, then the worker archiving all of them: listing calls + at most
 *   one metered call per archived file;
 * - the next scheduled run over the unchanged space: at most 2 listing calls; after a few changes:
 *   1 + changed/50 calls, queuing exactly the changed versions;
 * - renamed files: archived under their new names with 0 file-host downloads;
 * - a full listing again once the reconciliation period has passed.
 * Size: QUOTA_TEST_FILES (default 150, CI-friendly). The ≥ 1,000-file measurement:
 *   QUOTA_TEST_FILES=1000 npx vitest run test/schedule/quota.test.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ArchiveDeps, archiveFile } from "../../lib/archive";
import type { ArchiveJob } from "../../lib/archive-worker/archive-job";
import { type RunDeps, startRun } from "../../lib/schedule/run";
import { dynamoScheduleState } from "../../lib/schedule/state";
import { fileCheckpointStore } from "../../lib/transfer";
import type { LocalDynamo } from "../../scripts/local-services";
import { useWorld } from "../support/use-world";
import { BUCKET, PREFIX, SPACE, startScheduleWorld } from "./helpers";

const FILES = Number(process.env.QUOTA_TEST_FILES ?? 150);
const PER_FOLDER = 40;
const HOUR = 3600_000;

let checkpointDir: string;
let emptyDir: string;
let clock = Date.UTC(2026, 5, 1, 2, 0);

const fileName = (i: number) => `file-${String(i).padStart(5, "0")}.txt`;
const folderOf = (i: number) => `quota/batch-${String(Math.floor(i / PER_FOLDER)).padStart(3, "0")}`;

// An empty SANDBOX_DIR: the space holds only the generated files below (no sample tree); removed after the world.
const world = useWorld(
  async () => {
    emptyDir = await mkdtemp(join(tmpdir(), "quota-space-"));
    const started = await startScheduleWorld(
      {
        dir: emptyDir,
        now: () => clock,
        // The test moves the sandbox's clock by hours and days: a token expiring on it would cost a refused call.
        tokenTtlSeconds: 365 * 24 * 3600,
        generatedFiles: Array.from({ length: FILES }, (_, i) => ({
          name: fileName(i),
          size: 64 + (i % 50),
          parentPath: folderOf(i),
        })),
      },
      { dynamo: "quota-state" },
    );
    checkpointDir = await mkdtemp(join(tmpdir(), "quota-test-"));
    return {
      ...started,
      async stop() {
        await started.stop();
        await rm(checkpointDir, { recursive: true, force: true });
        await rm(emptyDir, { recursive: true, force: true });
      },
    };
  },
  undefined,
  120_000,
);
const dynamo = () => world.dynamo as LocalDynamo;

const root = [{ spaceId: SPACE, parentId: "0", recursive: true }];

function runDeps(overrides: Partial<RunDeps> = {}): RunDeps {
  return world.deps({
    state: dynamoScheduleState(dynamo().client, "quota-state"),
    now: () => clock,
    ...overrides,
  });
}

function archiveDeps(): ArchiveDeps {
  const host = world.sandbox.fileHost;
  return {
    dingtalk: world.dingtalk,
    s3: world.s3,
    archive: { bucket: BUCKET, prefix: PREFIX },
    transfer: {
      partSize: 5 * 1024 * 1024,
      concurrency: 2,
      downloadAllowedHosts: [host],
      allowHttpHosts: [host],
    },
    checkpoints: fileCheckpointStore(checkpointDir),
    defaultUnionId: world.sandbox.options.unionId,
  };
}

/** The archive worker over the queued jobs, 8 at a time: what the Lambda does per SQS record. */
async function archiveAll(jobs: readonly ArchiveJob[]) {
  const results = [];
  for (let i = 0; i < jobs.length; i += 8) {
    results.push(
      ...(await Promise.all(
        jobs.slice(i, i + 8).map(({ jobId: _id, ...task }) => archiveFile(task, archiveDeps())),
      )),
    );
  }
  return results;
}

const metered = (calls: Record<string, number>) =>
  Object.entries(calls)
    .filter(([api]) => api !== "token" && api !== "file")
    .reduce((sum, [, n]) => sum + n, 0);

describe("spending DingTalk's monthly quota like money", () => {
  it("backfill + worker: listing calls + at most 1.0 metered call per archived file", async () => {
    clock += HOUR; // the files exist a while before the backfill, as they would
    const backfill = await world.countCalls(() => startRun(root, runDeps()));
    const jobs = await world.drainJobs();
    const files = backfill.result.queued;
    expect(files).toBe(FILES);
    expect(jobs).toHaveLength(files);
    const listingCalls = metered(backfill.calls);
    expect(backfill.calls.getDentry + backfill.calls.downloadInfo).toBe(0);

    const worker = await world.countCalls(() => archiveAll(jobs));
    expect(worker.result.every((r) => r.status === "archived")).toBe(true);
    expect(worker.calls.getDentry).toBe(0);
    expect(worker.calls.downloadInfo).toBe(files);
    const perFile = metered(worker.calls) / files;
    expect(perFile).toBeLessThanOrEqual(1.0);
    console.info(
      `quota: ${files} files: backfill ${listingCalls} listing calls, worker ${metered(worker.calls)} metered calls (${perFile} per file), total ${listingCalls + metered(worker.calls)}`,
    );
  }, 600_000);

  it("the next run over the unchanged space: at most 2 listing calls, nothing queued", async () => {
    clock += HOUR;
    const next = await world.countCalls(() => startRun(root, runDeps()));
    expect(next.result).toMatchObject({ status: "complete", queued: 0 });
    expect(metered(next.calls)).toBeLessThanOrEqual(2);
    expect(next.calls.listDentries).toBe(0);
    console.info(`quota: unchanged space: ${metered(next.calls)} listing call(s)`);
  });

  it("after a few changes: 1 + changed/50 listing calls, exactly the changed versions queued", async () => {
    clock += HOUR;
    const changed = [3, 17, FILES - 1].map((i) =>
      world.sandbox.putGeneratedFile({ name: fileName(i), size: 999, parentPath: folderOf(i) }),
    );
    const added = world.sandbox.putGeneratedFile({ name: "new.txt", size: 5, parentPath: "quota/fresh" });
    clock += 60_000;
    const run = await world.countCalls(() => startRun(root, runDeps()));
    const jobs = await world.drainJobs();
    expect(jobs.map((j) => `${j.dentryId}@${j.version}`).sort()).toEqual(
      [...changed.map((id) => `${id}@2`), `${added}@1`].sort(),
    );
    expect(metered(run.calls)).toBe(1 + Math.floor(4 / 50));
    const worker = await world.countCalls(() => archiveAll(jobs));
    expect(worker.calls.downloadInfo).toBe(4);
    expect(worker.calls.getDentry).toBe(0);
    console.info(
      `quota: 3 changed + 1 new: ${metered(run.calls)} listing call(s), ${jobs.length} jobs, worker ${metered(worker.calls)} calls`,
    );
  });

  it("renamed files are archived under their new names by S3 copies: 0 downloads, 0 metered calls", async () => {
    clock += HOUR;
    const renamed = [5, 6].map((i) => {
      const from = `${folderOf(i)}/${fileName(i)}`;
      return world.sandbox.moveDentry(from, `${folderOf(i)}/renamed-${i}.txt`);
    });
    clock += 60_000;
    const run = await world.countCalls(() => startRun(root, runDeps()));
    const jobs = await world.drainJobs();
    expect(jobs.map((j) => j.dentryId).sort()).toEqual([...renamed].sort());
    expect(metered(run.calls)).toBe(1);
    const worker = await world.countCalls(() => archiveAll(jobs));
    expect(worker.result.map((r) => r.key.split("/").at(-1)).sort()).toEqual([
      "renamed-5.txt",
      "renamed-6.txt",
    ]);
    expect(worker.result.every((r) => r.status === "archived" && r.copiedFrom)).toBe(true);
    expect(worker.calls.file).toBe(0);
    expect(metered(worker.calls)).toBe(0);
    console.info(
      `quota: 2 renames: ${metered(run.calls)} listing call(s), worker ${metered(worker.calls)} calls, ${worker.calls.file} file-host requests`,
    );
  });

  it("a dry run estimates the calls a real run would spend, queuing nothing", async () => {
    clock += HOUR;
    world.sandbox.putGeneratedFile({ name: fileName(8), size: 1234, parentPath: folderOf(8) });
    world.sandbox.moveDentry(`${folderOf(9)}/${fileName(9)}`, `${folderOf(9)}/moved-9.txt`);
    clock += 60_000;
    const dry = await world.countCalls(() => startRun(root, runDeps({ dryRun: true })));
    expect(dry.result.estimate).toEqual({ listingCalls: 1, archiveCalls: 1, renames: 1, totalCalls: 2 });
    expect(await world.drainJobs()).toEqual([]);
  });

  it("lists in full again once the reconciliation period has passed", async () => {
    clock += 8 * 24 * HOUR;
    const full = await world.countCalls(() => startRun(root, runDeps()));
    expect(full.calls.listAllDentries).toBe(0);
    expect(full.calls.listDentries).toBeGreaterThan(FILES / PER_FOLDER);
    // What the dry run only estimated: the changed file and the renamed one.
    expect(full.result.queued).toBe(2);
    await world.drainJobs();
    console.info(`quota: reconciliation (full) run: ${metered(full.calls)} listing calls`);
  });
});
