/**
 * `npm run archive` as a child process against the sandbox and fauxqs running in this process: the stdout
 * contract (one JSON line), exit codes, and the local-stack defaults when no DingTalk credentials are set.
 */

import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { budgetItemId, chinaMonth } from "../../lib/budget";
import { sha256OfGenerated } from "../../sandbox/content";
import { LOCAL_BUCKET, LOCAL_IDEMPOTENCY_TABLE } from "../../scripts/local-env";
import type { LocalDynamo } from "../../scripts/local-services";
import { BUCKET, MiB, seedOf, sha256OfObject, startArchiveWorld } from "../archive/helpers";
import { onlyJsonLine, runCli } from "../support/run-process";
import { useWorld } from "../support/use-world";

let dynamo: LocalDynamo;

const world = useWorld(() => startArchiveWorld({}, { dynamo: LOCAL_IDEMPOTENCY_TABLE }));
beforeAll(async () => {
  // With the local stack's DynamoDB (dynalite), where the monthly call budget is counted.
  world.emulator.createBucket(LOCAL_BUCKET);
  dynamo = world.dynamo as LocalDynamo;
});

const space = () => world.sandbox.options.spaceId;

describe("archive CLI", () => {
  it("archives, printing exactly one JSON line; a second run is skipped", async () => {
    const size = 12 * MiB + 5;
    const dentryId = world.sandbox.putGeneratedFile({ name: "cli 报告.pdf", size, parentPath: "cli" });
    const first = await runCli(["--space-id", space(), "--dentry-id", dentryId], world.cliEnv());
    expect(first.code, first.stderr).toBe(0);
    const result = onlyJsonLine(first);
    expect(result).toMatchObject({
      status: "archived",
      bucket: BUCKET,
      key: `${space()}/${dentryId}/v1/cli 报告.pdf`,
      size,
      version: 1,
      versionId: null,
      checksum: { algorithm: "CRC32", value: expect.stringMatching(/==$/) },
      resumedParts: 0,
      // getDentry + downloadInfo: what this run spent of the org's monthly quota.
      dingtalkCalls: { total: 2, getDentry: 1, getFileDownloadInfo: 1 },
    });
    expect(result.etag).toEqual(expect.stringMatching(/^".+"$/));
    expect(result.seconds).toEqual(expect.any(Number));
    expect(await sha256OfObject(world.s3, result.key as string)).toEqual({
      sha256: await sha256OfGenerated(seedOf(world.sandbox, "cli/cli 报告.pdf", 1), size),
      bytes: size,
    });
    expect(first.stderr).not.toMatch(/\r/); // no progress bar when stderr is not a terminal

    world.sandbox.resetCalls();
    const second = await runCli(
      ["--space-id", space(), "--dentry-id", dentryId, "--version", "1", "--union-id", "sandbox-union"],
      world.cliEnv(),
    );
    expect(second.code, second.stderr).toBe(0);
    expect(onlyJsonLine(second)).toMatchObject({
      status: "skipped",
      key: result.key,
      size,
      etag: result.etag,
    });
    expect(world.sandbox.calls().file).toBe(0);
  });

  it("uses the local stack's defaults when no DingTalk credentials are set", async () => {
    const dentryId = world.sandbox.putGeneratedFile({ name: "local.txt", size: 1234, parentPath: "cli" });
    const env = world.asLocalStack(world.cliEnv(), [
      "AWS_REGION",
      "ARCHIVE_BUCKET",
      "DOWNLOAD_ALLOWED_HOSTS",
      "DOWNLOAD_ALLOW_HTTP_HOSTS",
    ]);
    const outcome = await runCli(["--space-id", space(), "--dentry-id", dentryId], env);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(onlyJsonLine(outcome)).toMatchObject({ status: "archived", bucket: LOCAL_BUCKET, size: 1234 });
    // Counted in the local stack's budget (the default budget, in its DynamoDB table).
    const item = await dynamo.client.send(
      new GetItemCommand({
        TableName: LOCAL_IDEMPOTENCY_TABLE,
        Key: { id: { S: budgetItemId(chinaMonth(Date.now())) } },
      }),
    );
    expect(item.Item?.used?.N).toBe("2");
    expect(outcome.stderr).toContain(`using the local stack (DingTalk sandbox ${world.sandbox.url}`);
  });

  it("exits 2 with a usage line on bad usage, printing nothing on stdout", async () => {
    const cases = [
      { args: ["--space-id", space(), "--dentry-id", "1", "--bogus"], reason: /Unknown option '--bogus'/ },
      { args: ["--dentry-id", "1"], reason: /missing --space-id/ },
      { args: ["--space-id", space(), "--dentry-id", "1", "--version", "two"], reason: /--version must be/ },
      { args: ["--space-id", space(), "--dentry-id", "1", "--version", "0"], reason: /--version must be/ },
    ];
    const outcomes = await Promise.all(cases.map((c) => runCli(c.args, world.cliEnv())));
    outcomes.forEach((outcome, i) => {
      expect(outcome.code).toBe(2);
      expect(outcome.stdout).toBe("");
      expect(outcome.stderr).toMatch(cases[i]?.reason as RegExp);
      expect(outcome.stderr).toMatch(/^usage: npm run archive -- --space-id S --dentry-id D/m);
    });
  });

  it("exits 1 with the reason on stderr: DingTalk's code and request id, or a folder", async () => {
    const [missing, folder] = await Promise.all([
      runCli(["--space-id", space(), "--dentry-id", "424242"], world.cliEnv()),
      runCli(
        ["--space-id", space(), "--dentry-id", world.sandbox.dentryIdByPath("docs") as string],
        world.cliEnv(),
      ),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/archive failed: .*dentryNotExist.*DingTalk request id \S+/);
    expect(folder.code).toBe(1);
    expect(folder.stdout).toBe("");
    expect(folder.stderr).toMatch(/archive failed: .*"docs" is a folder.*code NotAFile/);
  });
});
