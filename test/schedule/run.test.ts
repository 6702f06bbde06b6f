/**
 * Scheduled archive runs (lib/schedule) against the sandbox's sample tree and fauxqs: incremental runs,
 * the DingTalk calls each run spends, continuation across invocations, and what is never queued.
 */
import { describe, expect, it } from "vitest";
import type { ScanCursor } from "../../lib/schedule/cursor";
import { continueRun, startRun } from "../../lib/schedule/run";
import { useWorld } from "../support/use-world";
import { fileVersions, SAMPLE, SPACE, startScheduleWorld } from "./helpers";

const root = [{ spaceId: SPACE, parentId: "0", recursive: true }];
const world = useWorld(startScheduleWorld, (w) => {
  w.emulator.reset();
  w.rewriteListing.current = undefined;
});

describe("an incremental run over a space with nested folders", () => {
  it("queues every file once, then nothing, then only the file that changed; one list call per page", async () => {
    const first = await world.countCalls(() => startRun(root, world.deps()));
    const jobs = await world.drainJobs();
    expect(first.result).toMatchObject({
      status: "complete",
      invocation: 1,
      pages: SAMPLE.pages,
      folders: SAMPLE.folders,
      listed: SAMPLE.files + SAMPLE.folders - 1,
      queued: SAMPLE.files,
      skipped: 0,
      failed: 0,
      pendingFolders: 0,
    });
    expect(jobs).toHaveLength(SAMPLE.files);
    expect(new Set(fileVersions(jobs)).size).toBe(SAMPLE.files);
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
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(SAMPLE.files);
    // Bytes: the 64 MiB file, the 300,001-byte PDF, ... all counted once.
    expect(first.result.bytes).toBeGreaterThan(64 * 1024 * 1024);
    // Frugal: one listDentries call per page, nothing per file (the token call is quota-exempt).
    expect(first.calls.listDentries).toBe(SAMPLE.pages);
    expect(first.calls).toMatchObject({ getDentry: 0, downloadInfo: 0, listAllDentries: 0, file: 0 });

    // The archive worker ran: every version is now in S3.
    for (const job of jobs) await world.markArchived(job);
    const second = await world.countCalls(() => startRun(root, world.deps()));
    expect(second.result).toMatchObject({ status: "complete", queued: 0, skipped: SAMPLE.files, bytes: 0 });
    expect(world.jobs()).toEqual([]);
    expect(second.calls.listDentries).toBe(SAMPLE.pages);
    expect(second.calls).toMatchObject({ getDentry: 0, downloadInfo: 0 });

    // One file changes in DingTalk: version + 1.
    const changed = world.sandbox.putGeneratedFile({
      name: "plan.xlsx",
      parentPath: "docs/2026",
      size: 4096,
    });
    const third = await world.countCalls(() => startRun(root, world.deps()));
    expect(third.result).toMatchObject({ queued: 1, skipped: SAMPLE.files - 1, bytes: 4096 });
    expect(world.jobs()).toEqual([
      {
        spaceId: SPACE,
        dentryId: changed,
        version: 2,
        jobId: expect.stringContaining(`-${changed}-v2`),
        listed: expect.objectContaining({ version: 2, name: "plan.xlsx", size: 4096 }),
      },
    ]);
    expect(third.calls.listDentries).toBe(SAMPLE.pages);
    expect(third.calls).toMatchObject({ getDentry: 0, downloadInfo: 0 });
  });

  it("lists one folder without its subfolders, and names the operator when the source does", async () => {
    const docs = world.sandbox.dentryIdByPath("docs") as string;
    const { result, calls } = await world.countCalls(() =>
      startRun(
        [{ spaceId: SPACE, parentId: docs, recursive: false, unionId: "sandbox-union" }],
        world.deps(),
      ),
    );
    expect(result).toMatchObject({ status: "complete", pages: 1, folders: 1, listed: 3, queued: 1 });
    expect(calls.listDentries).toBe(1);
    expect(world.jobs()).toEqual([
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
    const queued = new Set(world.jobs().map((j) => j.dentryId));
    expect(queued.has(world.sandbox.dentryIdByPath("many/item-001.txt") as string)).toBe(false);
    expect(queued.has(world.sandbox.dentryIdByPath("many/item-002.txt") as string)).toBe(false);

    world.emulator.reset();
    const top = await startRun([{ spaceId: SPACE, parentId: "0", recursive: false }], world.deps());
    const folders = ["media", "docs", "many", "empty-folder"].map((p) => world.sandbox.dentryIdByPath(p));
    expect(top).toMatchObject({ listed: 8, queued: 4 });
    for (const job of world.jobs()) expect(folders).not.toContain(job.dentryId);
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
    expect(world.jobs()).toHaveLength(4);
  });

  it("a dry run lists what it would queue and queues nothing", async () => {
    const result = await startRun(root, world.deps({ dryRun: true }));
    expect(result).toMatchObject({ status: "complete", queued: SAMPLE.files });
    expect(result.jobs).toHaveLength(SAMPLE.files);
    expect(result.jobs).toContainEqual(
      expect.objectContaining({ name: "报告 2026.pdf", path: "/报告 2026.pdf", size: 300_001, version: 1 }),
    );
    expect(world.jobs()).toEqual([]);
  });
});

describe("a run too big for one invocation", () => {
  it("stops after N pages, continues from its cursor, and the union of the invocations queues each file once", async () => {
    const stopAfter = (pages: number) => {
      let left = pages;
      // Asked before every page but the first: stop once `pages` pages are listed.
      return () => --left <= 0;
    };
    const { result: first, calls } = await world.countCalls(() =>
      startRun(root, world.deps({ shouldStop: stopAfter(4) })),
    );
    expect(first).toMatchObject({
      status: "continued",
      pages: 4,
      continuation: { messages: 1, delaySeconds: 0 },
    });
    expect(calls.listDentries).toBe(4);
    const [cursor] = await world.drainCursors();
    expect(cursor).toMatchObject({ kind: "archive-scan", runId: first.runId, invocation: 2 });
    expect(cursor?.totals).toMatchObject({ pages: 4, queued: first.queued });
    expect(cursor?.pending.length).toBeGreaterThan(0);

    // The second invocation resumes where the first stopped: the remaining pages only, none listed again.
    const rest = await world.countCalls(() =>
      continueRun(cursor as ScanCursor, world.deps({ shouldStop: stopAfter(3) })),
    );
    expect(rest.calls.listDentries).toBe(3);
    let next = (await world.drainCursors())[0] as ScanCursor;
    let last = rest.result;
    let listCalls = calls.listDentries + rest.calls.listDentries;
    while (last.status === "continued") {
      const more = await world.countCalls(() => continueRun(next, world.deps({ shouldStop: stopAfter(2) })));
      listCalls += more.calls.listDentries;
      last = more.result;
      if (last.status === "continued") next = (await world.drainCursors())[0] as ScanCursor;
    }
    expect(last).toMatchObject({ status: "complete", runId: first.runId, pendingFolders: 0 });
    expect(last.totals).toMatchObject({ pages: SAMPLE.pages, queued: SAMPLE.files, folders: SAMPLE.folders });
    expect(listCalls).toBe(SAMPLE.pages);
    const jobs = world.jobs();
    expect(jobs).toHaveLength(SAMPLE.files);
    expect(new Set(fileVersions(jobs)).size).toBe(SAMPLE.files);
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
      const [cursor] = await world.drainCursors();
      expect(cursor?.pending).toEqual([{ spaceId: SPACE, parentId: many, nextToken: expect.any(String) }]);
      summary = await continueRun(cursor as ScanCursor, world.deps({ shouldStop: once() }));
      perInvocation.push(summary.queued);
    }
    expect(perInvocation).toEqual([50, 50, 20]);
    expect(new Set(fileVersions(world.jobs())).size).toBe(120);
  });

  it("without a scan queue (the CLI) reports the cursor instead", async () => {
    const summary = await startRun(root, world.deps({ scanQueueUrl: undefined, shouldStop: () => true }));
    expect(summary).toMatchObject({ status: "stopped", pages: 1 });
    expect(summary.cursor).toMatchObject({ kind: "archive-scan", invocation: 2 });
    expect(world.cursors()).toEqual([]);
  });
});
