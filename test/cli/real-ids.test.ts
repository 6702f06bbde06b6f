/**
 * The two CLIs, as child processes, with real DingTalk id shapes (test/support/real-ids.ts) against a sandbox
 * configured with them: `npm run archive` and `npm run backfill` take the ids as given, and the archive CLI
 * prints exactly its one JSON line — no log line for the normal "not archived yet" HeadObject 404.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveWorld, startArchiveWorld } from "../archive/helpers";
import { BUCKET, PREFIX, QUEUES, type ScheduleWorld, startScheduleWorld } from "../schedule/helpers";
import { REAL_SANDBOX_IDS } from "../support/real-ids";
import { onlyJsonLine, runBackfill, runCli } from "../support/run-process";

const { spaceId, unionId } = REAL_SANDBOX_IDS;
let archiveWorld: ArchiveWorld;
let scheduleWorld: ScheduleWorld;

beforeAll(async () => {
  [archiveWorld, scheduleWorld] = await Promise.all([
    startArchiveWorld({ spaceId, unionId }),
    startScheduleWorld({ spaceId, unionId }),
  ]);
});
afterAll(async () => {
  await Promise.all([archiveWorld?.stop(), scheduleWorld?.stop()]);
});

describe("npm run archive with real ids", () => {
  it("archives under {spaceId}/{dentryId}/v1/, printing one JSON line and nothing else", async () => {
    const dentryId = archiveWorld.sandbox.dentryIdByPath("README.txt") as string;
    const outcome = await runCli(
      ["--space-id", spaceId, "--dentry-id", dentryId, "--union-id", unionId],
      archiveWorld.cliEnv(),
    );
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout.trim().split("\n")).toHaveLength(1);
    expect(onlyJsonLine(outcome)).toMatchObject({
      status: "archived",
      key: `${spaceId}/${dentryId}/v1/README.txt`,
    });
    expect(outcome.stderr).toBe("");
  });
});

describe("npm run backfill with real ids", () => {
  it("lists the space and queues its jobs with the ids unchanged", async () => {
    const outcome = await runBackfill(["--space-id", spaceId, "--union-id", unionId], {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_S3: scheduleWorld.emulator.address,
      AWS_ENDPOINT_URL_SQS: scheduleWorld.emulator.address,
      DINGTALK_API_BASE: scheduleWorld.sandbox.url,
      DINGTALK_APP_KEY: "sandbox",
      DINGTALK_APP_SECRET: "sandbox-secret",
      ARCHIVE_BUCKET: BUCKET,
      ARCHIVE_PREFIX: PREFIX,
      ARCHIVE_QUEUE_URL: scheduleWorld.queueUrl(QUEUES.archive),
    });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(onlyJsonLine(outcome)).toMatchObject({ status: "complete" });
    const jobs = scheduleWorld.jobs();
    expect(jobs.length).toBeGreaterThan(100);
    for (const job of jobs) {
      expect(job).toMatchObject({ spaceId, unionId });
      expect(job.dentryId).toMatch(/^\d{10,}$/);
    }
  });
});
