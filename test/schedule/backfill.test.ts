/**
 * `npm run backfill` as a child process against the sandbox and fauxqs running in this process: one JSON line
 * on stdout, --dry-run, sources from flags or ARCHIVE_SOURCES, Ctrl-C and --resume, exit codes, and the
 * local-stack defaults when no DingTalk credentials are set.
 */
import { describe, expect, it } from "vitest";
import { LOCAL_IDEMPOTENCY_TABLE, LOCAL_QUEUES } from "../../scripts/local-env";
import type { LocalDynamo } from "../../scripts/local-services";
import { onlyJsonLine, runBackfill, startBackfill } from "../support/run-process";
import { resetWorld, useWorld } from "../support/use-world";
import { fileVersions, PREFIX, QUEUES, SAMPLE, SPACE, startScheduleWorld } from "./helpers";

// With the local stack's DynamoDB (dynalite): the monthly call budget and the runs' state.
const world = useWorld(async () => {
  const started = await startScheduleWorld({}, { dynamo: LOCAL_IDEMPOTENCY_TABLE });
  started.emulator.createQueue(LOCAL_QUEUES.archive);
  return started;
}, resetWorld);
const dynamo = () => world.dynamo as LocalDynamo;

/** The backfill's environment: this world, as the schedule function gets it. */
const env = (extra: Record<string, string> = {}) =>
  world.env({
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    ARCHIVE_PREFIX: PREFIX,
    ARCHIVE_QUEUE_URL: world.queueUrl(QUEUES.archive),
    ...extra,
  });

describe("backfill CLI", () => {
  it("--dry-run lists what it would queue and queues nothing", async () => {
    world.sandbox.resetCalls();
    const outcome = await runBackfill(["--space-id", SPACE, "--dry-run"], env());
    expect(outcome.code, outcome.stderr).toBe(0);
    const summary = onlyJsonLine(outcome);
    expect(summary).toMatchObject({ status: "complete", queued: SAMPLE.files, pages: SAMPLE.pages });
    expect(summary.jobs).toHaveLength(SAMPLE.files);
    expect(summary.jobs).toContainEqual(
      expect.objectContaining({ path: "/docs/2026/q1/summary.docx", size: 1_048_577, spaceId: SPACE }),
    );
    expect(world.jobs()).toEqual([]);
    expect(world.sandbox.calls()).toMatchObject({ listDentries: SAMPLE.pages, getDentry: 0 });
    // What a real run would spend: this listing + one download-info call per file; and what this one spent.
    expect(summary.estimate).toEqual({
      listingCalls: SAMPLE.pages,
      archiveCalls: SAMPLE.files,
      renames: 0,
      totalCalls: SAMPLE.pages + SAMPLE.files,
    });
    expect(summary.dingtalkCalls).toEqual({ total: SAMPLE.pages, listDentries: SAMPLE.pages });
    expect(outcome.stderr).toContain(
      `a real run would spend about ${SAMPLE.pages + SAMPLE.files} DingTalk call(s)`,
    );
  });

  it("queues the jobs of one folder, without its subfolders with --no-recursive", async () => {
    const docs = world.sandbox.dentryIdByPath("docs") as string;
    const outcome = await runBackfill(["--space-id", SPACE, "--parent-id", docs, "--no-recursive"], env());
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(onlyJsonLine(outcome)).toMatchObject({ status: "complete", queued: 1, pages: 1 });
    expect(world.jobs()).toEqual([
      expect.objectContaining({ dentryId: world.sandbox.dentryIdByPath("docs/guide.md"), version: 2 }),
    ]);
  });

  it("takes ARCHIVE_SOURCES when no --space-id is given, and names it when it is bad", async () => {
    const many = world.sandbox.dentryIdByPath("many") as string;
    const good = await runBackfill(
      [],
      env({ ARCHIVE_SOURCES: JSON.stringify([{ spaceId: SPACE, parentId: many }]) }),
    );
    expect(good.code, good.stderr).toBe(0);
    expect(onlyJsonLine(good)).toMatchObject({ queued: 120 });

    const bad = await runBackfill([], env({ ARCHIVE_SOURCES: '[{"spaceId": 7}]' }));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/ARCHIVE_SOURCES\[0\]\.spaceId must be a string/);
  });

  it("stops after the current page on SIGINT, printing its cursor; --resume finishes the run", async () => {
    // Slow pages, so the signal arrives mid-run.
    world.sandbox.addFaults({ api: "listDentries", kind: "latency", latencyMs: 300 });
    const running = startBackfill(["--space-id", SPACE], env({ BACKFILL_LOG_LEVEL: "INFO" }));
    while (!running.stderr().includes("archive run invocation started"))
      await new Promise((r) => setTimeout(r, 20));
    running.child.kill("SIGINT");
    const stopped = await running.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    const first = onlyJsonLine(stopped);
    expect(first).toMatchObject({ status: "stopped", cursor: { kind: "archive-scan", invocation: 2 } });
    expect(first.pages).toBeLessThan(SAMPLE.pages);
    expect(stopped.stderr).toMatch(/--resume/);

    world.sandbox.clearFaults();
    const resumed = await runBackfill(["--resume", JSON.stringify(first.cursor)], env());
    expect(resumed.code, resumed.stderr).toBe(0);
    const rest = onlyJsonLine(resumed);
    expect(rest).toMatchObject({ status: "complete", runId: first.runId, totals: { pages: SAMPLE.pages } });
    const jobs = await world.drainJobs();
    expect(jobs).toHaveLength(SAMPLE.files);
    expect(new Set(fileVersions(jobs)).size).toBe(SAMPLE.files);
  });

  it("uses the local stack's defaults when no DingTalk credentials are set", async () => {
    const local = world.asLocalStack(env(), [
      "AWS_ENDPOINT_URL_SQS",
      "AWS_ENDPOINT_URL_DYNAMODB",
      "ARCHIVE_QUEUE_URL",
    ]);
    const outcome = await runBackfill(
      ["--space-id", SPACE, "--parent-id", world.sandbox.dentryIdByPath("media") as string],
      local,
    );
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(onlyJsonLine(outcome)).toMatchObject({ queued: 1 });
    expect(world.emulator.inspectQueue(LOCAL_QUEUES.archive)?.messages.ready).toHaveLength(1);
  });

  // Four CLI processes one after the other: on a busy shared machine each start takes seconds.
  it("remembers a complete run in the local stack: the next one lists only what changed (--full: all)", {
    timeout: 120_000,
  }, async () => {
    const local = env({
      IDEMPOTENCY_TABLE: LOCAL_IDEMPOTENCY_TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo().endpoint,
      DINGTALK_MONTHLY_CALL_BUDGET: "1000",
    });
    const first = await runBackfill(["--space-id", SPACE, "--dry-run"], local);
    expect(onlyJsonLine(first)).toMatchObject({ status: "complete", pages: SAMPLE.pages });
    // A dry run queues nothing, so it is no run to continue from.
    const real = await runBackfill(["--space-id", SPACE], local);
    expect(onlyJsonLine(real)).toMatchObject({ status: "complete", pages: SAMPLE.pages });
    world.sandbox.resetCalls();
    const next = await runBackfill(["--space-id", SPACE, "--dry-run"], local);
    expect(onlyJsonLine(next)).toMatchObject({
      status: "complete",
      pages: 1,
      dingtalkCalls: { listAllDentries: 1 },
    });
    expect(world.sandbox.calls()).toMatchObject({ listAllDentries: 1, listDentries: 0 });
    const full = await runBackfill(["--space-id", SPACE, "--dry-run", "--full"], local);
    expect(onlyJsonLine(full)).toMatchObject({
      pages: SAMPLE.pages,
      dingtalkCalls: { listDentries: SAMPLE.pages },
    });
  });

  it("exits 2 with a usage line on bad usage, printing nothing on stdout", async () => {
    const cases = [
      { args: ["--bogus"], reason: /Unknown option '--bogus'/ },
      { args: ["--parent-id", "5"], reason: /--parent-id needs --space-id/ },
      { args: [], reason: /give --space-id, or set ARCHIVE_SOURCES/ },
      { args: ["--space-id", "a\u0001b"], reason: /--space-id must not contain control characters/ },
      { args: ["--resume", "{}"], reason: /--resume is not a run's cursor: kind/ },
      { args: ["--resume", "{}", "--space-id", SPACE], reason: /--resume continues a run/ },
    ];
    const outcomes = await Promise.all(cases.map((c) => runBackfill(c.args, env())));
    outcomes.forEach((outcome, i) => {
      expect(outcome.code, outcome.stderr).toBe(2);
      expect(outcome.stdout).toBe("");
      expect(outcome.stderr).toMatch(cases[i]?.reason as RegExp);
      expect(outcome.stderr).toMatch(/^usage: npm run backfill -- /m);
    });
  });
});
