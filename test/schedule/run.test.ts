/**
 * Scheduled archive runs (lib/schedule) against the sandbox's sample tree and fauxqs: incremental runs,
 * the DingTalk calls each run spends, continuation across invocations, and what is never queued.
 */
import { describe, expect, it } from "vitest";
import type { ScanCursor } from "../../lib/schedule/cursor";
import { continueRun, startRun } from "../../lib/schedule/run";
import { useWorld } from "../support/use-world";
import {
  countCalls,
  cursorsIn,
  drainCursors,
  drainJobs,
  fileVersions,
  jobsIn,
  markArchived,
  SAMPLE_FILES,
  SAMPLE_FOLDERS,
  SAMPLE_PAGES,
  SPACE,
  startScheduleWorld,
} from "./helpers";

const root = [{ spaceId: SPACE, parentId: "0", recursive: true }];
const world = useWorld(startScheduleWorld, (w) => {
  w.emulator.reset();
  w.rewriteListing.current = undefined;
});

describe("an incremental run over a space with nested folders", () => {
  it("queues every file once, then nothing, then only the file that changed; one list call per page", async () => {
    const first = await countCalls(world, () => startRun(root, world.deps()));
    const jobs = await drainJobs(world);
    expect(first.result).toMatchObject({
      status: "complete",
      invocation: 1,
      pages: SAMPLE_PAGES,
      folders: SAMPLE_FOLDERS,
      listed: SAMPLE_FILES + SAMPLE_FOLDERS - 1,
      queued: SAMPLE_FILES,
      skipped: 0,
      failed: 0,
      pendingFolders: 0,
    });
    expect(jobs).toHaveLength(SAMPLE_FILES);
    expect(new Set(fileVersions(jobs)).size).toBe(SAMPLE_FILES);
    const guide = world.sandbox.dentryIdByPath("docs/guide.md");
    const nested = world.sandbox.dentryIdByPath("docs/2026/q1/summary.docx");
    // The job carries what the listing said, so the worker need not call getDentry.
    expect(jobs).toContainEqual({
      spaceId: SPACE,
      dentryId: guide,
      version: 2,
      jobId: expect.any(String),
      listed: expect.objectContaining({ version: 2, name: "guide.md", size: 36 }),
    });
    expect(jobs.map((j) => j.dentryId)).toContain(nested);
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(SAMPLE_FILES);
    // Bytes: the 64 MiB file, the 300,001-byte PDF, ... all counted once.
    expect(first.result.bytes).toBeGreaterThan(64 * 1024 * 1024);
    // Frugal: one listDentries call per page, nothing per file (the token call is quota-exempt).
    expect(first.calls.listDentries).toBe(SAMPLE_PAGES);
    expect(first.calls).toMatchObject({ getDentry: 0, downloadInfo: 0, listAllDentries: 0, file: 0 });

    // The archive worker ran: every version is now in S3.
    for (const job of jobs) await markArchived(world, job);
    const second = await countCalls(world, () => startRun(root, world.deps()));
    expect(second.result).toMatchObject({ status: "complete", queued: 0, skipped: SAMPLE_FILES, bytes: 0 });
    expect(jobsIn(world)).toEqual([]);
    expect(second.calls.listDentries).toBe(SAMPLE_PAGES);
    expect(second.calls).toMatchObject({ getDentry: 0, downloadInfo: 0 });

    // One file changes in DingTalk: version + 1.
    const changed = world.sandbox.putGeneratedFile({
      name: "plan.xlsx",
      parentPath: "docs/2026",
      size: 4096,
    });
    const third = await countCalls(world, () => startRun(root, world.deps()));
    expect(third.result).toMatchObject({ queued: 1, skipped: SAMPLE_FILES - 1, bytes: 4096 });
    expect(jobsIn(world)).toEqual([
      {
        spaceId: SPACE,
        dentryId: changed,
        version: 2,
        jobId: expect.stringContaining(`-${changed}-v2`),
        listed: expect.objectContaining({ version: 2, name: "plan.xlsx", size: 4096 }),
      },
    ]);
    expect(third.calls.listDentries).toBe(SAMPLE_PAGES);
    expect(third.calls).toMatchObject({ getDentry: 0, downloadInfo: 0 });
  });

  it("lists one folder without its subfolders, and names the operator when the source does", async () => {
    const docs = world.sandbox.dentryIdByPath("docs") as string;
    const { result, calls } = await countCalls(world, () =>
      startRun(
        [{ spaceId: SPACE, parentId: docs, recursive: false, unionId: "sandbox-union" }],
        world.deps(),
      ),
    );
    expect(result).toMatchObject({ status: "complete", pages: 1, folders: 1, listed: 3, queued: 1 });
    expect(calls.listDentries).toBe(1);
    expect(jobsIn(world)).toEqual([
      expect.objectContaining({
        dentryId: world.sandbox.dentryIdByPath("docs/guide.md"),
        unionId: "sandbox-union",
      }),
    ]);
  });

  it("skips DELETED and EXPIRED files and never queues folders", async () => {
    const many = world.sandbox.dentryIdByPath("many") as string;
    const status = (name: unknown) =>
      name === "item-001.txt" ? "DELETED" : name === "item-002.txt" ? "EXPIRED" : "NORMAL";
    world.rewriteListing.current = (dentry) => ({ ...dentry, status: status(dentry.name) });
    const result = await startRun([{ spaceId: SPACE, parentId: many, recursive: true }], world.deps());
    expect(result).toMatchObject({ queued: 118, inactive: 2, listed: 120, pages: 3 });
    const queued = new Set(jobsIn(world).map((j) => j.dentryId));
    expect(queued.has(world.sandbox.dentryIdByPath("many/item-001.txt") as string)).toBe(false);
    expect(queued.has(world.sandbox.dentryIdByPath("many/item-002.txt") as string)).toBe(false);

    world.emulator.reset();
    const top = await startRun([{ spaceId: SPACE, parentId: "0", recursive: false }], world.deps());
    const folders = ["media", "docs", "many", "empty-folder"].map((p) => world.sandbox.dentryIdByPath(p));
    expect(top).toMatchObject({ listed: 8, queued: 4 });
    for (const job of jobsIn(world)) expect(folders).not.toContain(job.dentryId);
  });

  it("queues a file once when two sources overlap", async () => {
    const docs = world.sandbox.dentryIdByPath("docs") as string;
    const result = await startRun(
      [
        { spaceId: SPACE, parentId: docs, recursive: true },
        { spaceId: SPACE, parentId: world.sandbox.dentryIdByPath("docs/2026") as string, recursive: true },
      ],
      world.deps(),
    );
    expect(result).toMatchObject({ queued: 4, skipped: 3 });
    expect(jobsIn(world)).toHaveLength(4);
  });

  it("a dry run lists what it would queue and queues nothing", async () => {
    const result = await startRun(root, world.deps({ dryRun: true }));
    expect(result).toMatchObject({ status: "complete", queued: SAMPLE_FILES });
    expect(result.jobs).toHaveLength(SAMPLE_FILES);
    expect(result.jobs).toContainEqual(
      expect.objectContaining({ name: "报告 2026.pdf", path: "/报告 2026.pdf", size: 300_001, version: 1 }),
    );
    expect(jobsIn(world)).toEqual([]);
  });
});

describe("a run too big for one invocation", () => {
  it("stops after N pages, continues from its cursor, and the union of the invocations queues each file once", async () => {
    const stopAfter = (pages: number) => {
      let left = pages;
      // Asked before every page but the first: stop once `pages` pages are listed.
      return () => --left <= 0;
    };
    const { result: first, calls } = await countCalls(world, () =>
      startRun(root, world.deps({ shouldStop: stopAfter(4) })),
    );
    expect(first).toMatchObject({
      status: "continued",
      pages: 4,
      continuation: { messages: 1, delaySeconds: 0 },
    });
    expect(calls.listDentries).toBe(4);
    const [cursor] = await drainCursors(world);
    expect(cursor).toMatchObject({ kind: "archive-scan", runId: first.runId, invocation: 2 });
    expect(cursor?.totals).toMatchObject({ pages: 4, queued: first.queued });
    expect(cursor?.pending.length).toBeGreaterThan(0);

    // The second invocation resumes where the first stopped: the remaining pages only, none listed again.
    const rest = await countCalls(world, () =>
      continueRun(cursor as ScanCursor, world.deps({ shouldStop: stopAfter(3) })),
    );
    expect(rest.calls.listDentries).toBe(3);
    let next = (await drainCursors(world))[0] as ScanCursor;
    let last = rest.result;
    let listCalls = calls.listDentries + rest.calls.listDentries;
    while (last.status === "continued") {
      const more = await countCalls(world, () => continueRun(next, world.deps({ shouldStop: stopAfter(2) })));
      listCalls += more.calls.listDentries;
      last = more.result;
      if (last.status === "continued") next = (await drainCursors(world))[0] as ScanCursor;
    }
    expect(last).toMatchObject({ status: "complete", runId: first.runId, pendingFolders: 0 });
    expect(last.totals).toMatchObject({ pages: SAMPLE_PAGES, queued: SAMPLE_FILES, folders: SAMPLE_FOLDERS });
    expect(listCalls).toBe(SAMPLE_PAGES);
    const jobs = jobsIn(world);
    expect(jobs).toHaveLength(SAMPLE_FILES);
    expect(new Set(fileVersions(jobs)).size).toBe(SAMPLE_FILES);
  });

  it("resumes mid-folder from the page token: many/ paged 50 + 50 + 20 across three invocations", async () => {
    const many = world.sandbox.dentryIdByPath("many") as string;
    const once = () => {
      let asked = 0;
      return () => ++asked >= 1;
    };
    const source = [{ spaceId: SPACE, parentId: many, recursive: true }];
    let summary = await startRun(source, world.deps({ shouldStop: once() }));
    const perInvocation = [summary.queued];
    while (summary.status === "continued") {
      const [cursor] = await drainCursors(world);
      expect(cursor?.pending).toEqual([{ spaceId: SPACE, parentId: many, nextToken: expect.any(String) }]);
      summary = await continueRun(cursor as ScanCursor, world.deps({ shouldStop: once() }));
      perInvocation.push(summary.queued);
    }
    expect(perInvocation).toEqual([50, 50, 20]);
    expect(new Set(fileVersions(jobsIn(world))).size).toBe(120);
  });

  it("without a scan queue (the CLI) reports the cursor instead", async () => {
    const summary = await startRun(root, world.deps({ scanQueueUrl: undefined, shouldStop: () => true }));
    expect(summary).toMatchObject({ status: "stopped", pages: 1 });
    expect(summary.cursor).toMatchObject({ kind: "archive-scan", invocation: 2 });
    expect(cursorsIn(world)).toEqual([]);
  });
});
