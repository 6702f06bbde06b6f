/**
 * Interrupted CLI runs continue where they stopped. The sandbox's file host is slowed per connection so a
 * transfer takes seconds; fauxqs runs in this process, so the multipart upload it keeps in memory outlives
 * the killed CLI (as S3 would). Bytes fetched twice are counted through the file host's call count: one
 * call per part, and every part a run starts is either in the checkpoint or fetched again by the next run.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256OfGenerated } from "../../sandbox/content";
import { MiB, seedOf, sha256OfObject, startArchiveWorld } from "../archive/helpers";
import { onlyJsonLine, type RunningProcess, runCli, startCli } from "../support/run-process";
import { useWorld } from "../support/use-world";

const PART_SIZE = 5 * MiB;
const CONCURRENCY = 4;

const world = useWorld(() => startArchiveWorld({ bandwidthBytesPerSecond: 8 * MiB }));
beforeAll(async () => {
  // 8 MiB/s per connection: a 5 MiB part takes ~0.6 s, a 120 MiB file ~4 s at 4 parts in parallel.
});

const space = () => world.sandbox.options.spaceId;
const env = () =>
  world.cliEnv({ TRANSFER_PART_SIZE: String(PART_SIZE), TRANSFER_CONCURRENCY: String(CONCURRENCY) });

/** Parts recorded in the checkpoint files of the test's checkpoint directory. */
async function checkpointedParts(): Promise<number> {
  let parts = 0;
  for (const file of await readdir(world.checkpointDir).catch(() => [])) {
    if (!file.endsWith(".json")) continue;
    try {
      parts += (JSON.parse(await readFile(join(world.checkpointDir, file), "utf8")) as { parts: unknown[] })
        .parts.length;
    } catch {
      // replaced while being read: the next poll sees it
    }
  }
  return parts;
}

async function waitForCheckpoint(cli: RunningProcess, minParts: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await checkpointedParts()) < minParts) {
    if (cli.child.exitCode !== null) throw new Error(`the CLI ended early:\n${cli.stderr()}`);
    if (Date.now() > deadline)
      throw new Error(`no checkpoint with ${minParts} parts in time:\n${cli.stderr()}`);
    await sleep(25);
  }
}

/** Start the CLI and send it `signal` once its checkpoint holds `parts` parts; what it printed and how it ended. */
async function interruptAfter(args: string[], parts: number, signal: NodeJS.Signals) {
  const cli = startCli(args, env());
  await waitForCheckpoint(cli, parts);
  cli.child.kill(signal);
  return cli.done;
}

async function expectByteExact(key: string, path: string, size: number) {
  expect(await sha256OfObject(world.s3, key)).toEqual({
    sha256: await sha256OfGenerated(seedOf(world.sandbox, path, 1), size),
    bytes: size,
  });
}

describe("resuming an interrupted archive", () => {
  it("continues after SIGKILL without fetching completed parts again", { timeout: 120_000 }, async () => {
    const size = 120 * MiB;
    const partsTotal = size / PART_SIZE;
    const dentryId = world.sandbox.putGeneratedFile({ name: "killed.bin", size, parentPath: "resume" });
    const args = ["--space-id", space(), "--dentry-id", dentryId];
    world.sandbox.resetCalls();

    const killed = await interruptAfter(args, 6, "SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.stdout).toBe("");
    const saved = await checkpointedParts();
    const startedInFirstRun = world.sandbox.calls().file;
    expect(saved).toBeGreaterThanOrEqual(6);
    expect(saved).toBeLessThan(partsTotal);

    world.sandbox.resetCalls();
    const second = await runCli(args, env());
    expect(second.code, second.stderr).toBe(0);
    const result = onlyJsonLine(second);
    expect(result).toMatchObject({ status: "archived", size, resumedParts: saved, bytesResent: 0 });
    await expectByteExact(result.key as string, "resume/killed.bin", size);

    // The second run fetched exactly the parts missing from the checkpoint...
    expect(world.sandbox.calls().file).toBe(partsTotal - saved);
    // ...so the bytes fetched twice are those of the parts the first run had in flight when it was killed.
    const refetchedBytes = (startedInFirstRun - saved) * PART_SIZE;
    expect(refetchedBytes).toBeLessThanOrEqual(CONCURRENCY * PART_SIZE);
    expect(await checkpointedParts()).toBe(0); // deleted once the object is complete
  });

  it("stops cleanly on SIGINT (exit 130, checkpoint saved) and resumes", { timeout: 60_000 }, async () => {
    const size = 40 * MiB + 17;
    const dentryId = world.sandbox.putGeneratedFile({ name: "interrupted.bin", size, parentPath: "resume" });
    const args = ["--space-id", space(), "--dentry-id", dentryId];
    world.sandbox.resetCalls();

    const stopped = await interruptAfter(args, 2, "SIGINT");
    expect(stopped.code).toBe(130);
    const paused = onlyJsonLine(stopped);
    expect(paused).toMatchObject({ status: "paused", partsTotal: 9 });
    expect(stopped.stderr).toMatch(/run the same command again to resume/);
    // The parts in flight were finished, not abandoned: every part fetched is in the checkpoint.
    expect(await checkpointedParts()).toBe(paused.partsDone);
    expect(world.sandbox.calls().file).toBe(paused.partsDone);

    const second = await runCli(args, env());
    expect(second.code, second.stderr).toBe(0);
    const result = onlyJsonLine(second);
    expect(result).toMatchObject({ status: "archived", size, resumedParts: paused.partsDone });
    expect(world.sandbox.calls().file).toBe(9);
    await expectByteExact(result.key as string, "resume/interrupted.bin", size);
  });
});
