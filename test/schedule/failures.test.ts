/**
 * What goes wrong: SQS accepting part of a batch, DingTalk refusing a folder, being unavailable, or out of
 * monthly quota; S3 holding more than one listing page. Real servers; faults through the sandbox's rules
 * and, for SQS, a middleware on the real client that makes SQS answer as it does under partial failure.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { listArchivedVersions } from "../../lib/schedule/archived";
import { continueRun, retryDelaySeconds, startRun } from "../../lib/schedule/run";
import { sendMessageBatches } from "../../lib/schedule/send-batch";
import { resetWorld, useWorld } from "../support/use-world";
import { BUCKET, fileVersions, PREFIX, QUEUES, SAMPLE, SPACE, startScheduleWorld } from "./helpers";

const root = [{ spaceId: SPACE, parentId: "0", recursive: true }];
const world = useWorld(startScheduleWorld, resetWorld);

/**
 * Make SQS fail the entries whose index `failing` picks on their first `times` sends: the entries are taken
 * out of the request (so fauxqs never stores them) and reported in `Failed`, as SQS does.
 */
function failEntries(failing: (body: string) => boolean, code: string, senderFault: boolean, times = 1) {
  const seen = new Map<string, number>();
  const calls: number[] = [];
  const name = `fail-${Math.random()}`;
  world.sqs.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as SendMessageBatchCommandInput;
      if (!input.Entries) return next(args);
      calls.push(input.Entries.length);
      const failed = input.Entries.filter((e) => {
        const body = e.MessageBody as string;
        const n = seen.get(body) ?? 0;
        seen.set(body, n + 1);
        return failing(body) && n < times;
      });
      const kept = input.Entries.filter((e) => !failed.includes(e));
      // SQS refuses an empty batch: when every entry fails, answer without asking it.
      const output =
        kept.length > 0
          ? await next({ ...args, input: { ...input, Entries: kept } })
          : { output: { $metadata: {} } as SendMessageBatchCommandOutput, response: {} };
      const answer = output.output as SendMessageBatchCommandOutput;
      answer.Successful ??= [];
      answer.Failed = failed.map((e) => ({
        Id: e.Id,
        Code: code,
        Message: "injected",
        SenderFault: senderFault,
      }));
      return output;
    },
    { step: "initialize", name },
  );
  return { calls, remove: () => world.sqs.middlewareStack.remove(name) };
}

describe("SendMessageBatch partial failures", () => {
  it("sends 10 per call and resends only the entries SQS failed on its side", async () => {
    const fault = failEntries(
      (body) => ["3", "7", "12"].includes(JSON.parse(body).n),
      "InternalError",
      false,
    );
    try {
      const messages = Array.from({ length: 23 }, (_, i) => ({ n: String(i) }));
      const result = await sendMessageBatches(world.sqs, world.queueUrl(QUEUES.archive), messages, {
        baseDelayMs: 1,
      });
      expect(result).toEqual({ sent: 23, failed: [] });
      // 10 + 10 + 3 entries, and a resend of the failed ones of each of the first two batches.
      expect(fault.calls).toEqual([10, 2, 10, 1, 3]);
      const bodies = world.jobs() as unknown as Array<{ n: string }>;
      expect(bodies.map((b) => Number(b.n)).sort((a, b) => a - b)).toEqual(messages.map((_, i) => i));
    } finally {
      fault.remove();
    }
  });

  it("gives up after the attempts, and never resends a sender fault; a run counts them failed", async () => {
    const dentry = world.sandbox.dentryIdByPath("many/item-010.txt") as string;
    const persistent = failEntries(
      (body) => body.includes(`"dentryId":"${dentry}"`),
      "ServiceUnavailable",
      false,
      99,
    );
    const docs = world.sandbox.dentryIdByPath("many") as string;
    try {
      const summary = await startRun([{ spaceId: SPACE, parentId: docs, recursive: true }], world.deps());
      expect(summary).toMatchObject({ status: "complete", queued: 119, failed: 1 });
      expect(world.jobs().map((j) => j.dentryId)).not.toContain(dentry);
    } finally {
      persistent.remove();
    }
    world.emulator.reset();
    const refused = failEntries((body) => JSON.parse(body).n === "1", "InvalidMessageContents", true, 99);
    try {
      const result = await sendMessageBatches(world.sqs, world.queueUrl(QUEUES.archive), [
        { n: "0" },
        { n: "1" },
      ]);
      expect(result).toEqual({
        sent: 1,
        failed: [
          { message: { n: "1" }, code: "InvalidMessageContents", reason: "injected", senderFault: true },
        ],
      });
      expect(refused.calls).toEqual([2]);
    } finally {
      refused.remove();
    }
  });
});

describe("DingTalk refusing a listing", () => {
  it("a folder that is gone or forbidden is counted failed; the rest of the run goes on", async () => {
    world.sandbox.addFaults({
      api: "listDentries",
      kind: "error",
      status: 403,
      code: "permissionDenied",
      times: 1,
    });
    const summary = await startRun(root, world.deps());
    // The root's first page was refused: nothing under it could be found.
    expect(summary).toMatchObject({ status: "complete", failed: 1, queued: 0, pages: 1 });

    const media = world.sandbox.dentryIdByPath("media") as string;
    const docs = world.sandbox.dentryIdByPath("docs") as string;
    world.sandbox.addFaults({
      api: "listDentries",
      kind: "error",
      status: 404,
      code: "dentryNotExist",
      times: 1,
    });
    const two = await startRun(
      [
        { spaceId: SPACE, parentId: media, recursive: true },
        { spaceId: SPACE, parentId: docs, recursive: true },
      ],
      world.deps(),
    );
    expect(two).toMatchObject({ status: "complete", failed: 1, queued: 4 });
  });

  it("a space that does not exist drops all its folders at once", async () => {
    const { result, calls } = await world.countCalls(() =>
      startRun(
        [
          { spaceId: "no-such-space", parentId: "0", recursive: true },
          { spaceId: "no-such-space", parentId: "7", recursive: true },
        ],
        world.deps(),
      ),
    );
    expect(result).toMatchObject({ status: "complete", failed: 1, pendingFolders: 0 });
    expect(calls.listDentries).toBe(1);
  });

  it("DingTalk unavailable after the client's retries: the run continues from the same page after a delay", async () => {
    world.sandbox.addFaults({ api: "listDentries", kind: "systemBusy" });
    const summary = await startRun(root, world.deps());
    expect(summary).toMatchObject({
      status: "retrying",
      continuation: { messages: 1, delaySeconds: 60 },
      error: { code: "system.busy" },
    });
    const state = world.emulator.inspectQueue(QUEUES.scan);
    expect(state?.messages.delayed).toHaveLength(1);
    const [cursor] = await world.drainCursors();
    expect(cursor).toMatchObject({
      attempts: 1,
      invocation: 2,
      pending: [{ spaceId: SPACE, parentId: "0" }],
    });

    world.sandbox.clearFaults();
    const resumed = await continueRun(cursor as NonNullable<typeof cursor>, world.deps());
    expect(resumed).toMatchObject({ status: "complete", queued: SAMPLE.files, pages: SAMPLE.pages });
    expect(new Set(fileVersions(world.jobs())).size).toBe(SAMPLE.files);
  });

  it("gives up after five attempts in a row", async () => {
    world.sandbox.addFaults({ api: "listDentries", kind: "systemBusy" });
    let summary = await startRun(root, world.deps());
    const delays: number[] = [];
    while (summary.status === "retrying") {
      delays.push(summary.continuation?.delaySeconds ?? -1);
      const [cursor] = await world.drainCursors();
      summary = await continueRun(cursor as NonNullable<typeof cursor>, world.deps());
    }
    expect(delays).toEqual([60, 120, 240, 480]);
    expect(summary).toMatchObject({ status: "aborted", invocation: 5, error: { code: "system.busy" } });
    expect(world.cursors()).toEqual([]);
    expect(
      retryDelaySeconds({ scope: "retry", code: "IpBanned", message: "", retryAfterMs: 300_000 }, 1),
    ).toBe(300);
    expect(retryDelaySeconds({ scope: "retry", code: "x", message: "" }, 9)).toBe(900);
  });

  it("the org's monthly API quota spent before anything was listed: the run waits, leaving nothing to pile up", async () => {
    world.sandbox.addFaults({
      api: "listDentries",
      kind: "error",
      status: 403,
      code: "Forbidden.AccessDenied.ApiCountLimitForOrg",
    });
    const { result, calls } = await world.countCalls(() => startRun(root, world.deps()));
    expect(result).toMatchObject({
      status: "waiting",
      error: { code: "budgetExhausted", requestId: expect.any(String) },
    });
    expect(result.error?.message).toContain("ApiCountLimitForOrg");
    expect(calls.listDentries).toBe(1);
    expect(world.cursors()).toEqual([]);
  });

  it("the quota spent mid-run: the run keeps its cursor on the scan queue, delayed, not as a failed attempt", async () => {
    const delays: number[] = [];
    world.sqs.middlewareStack.add(
      (next) => async (args) => {
        const entries = (args.input as { Entries?: Array<{ DelaySeconds?: number }> }).Entries ?? [];
        for (const entry of entries) delays.push(entry.DelaySeconds ?? 0);
        return next(args);
      },
      { step: "initialize", name: "quota-delays" },
    );
    try {
      // Two pages listed, then the quota is spent (the fault answers the third call).
      let pages = 0;
      const deps = world.deps({
        dingtalk: {
          ...world.dingtalk,
          listDentriesPage: async (input) => {
            pages++;
            if (pages === 3)
              world.sandbox.addFaults({
                api: "listDentries",
                kind: "error",
                status: 403,
                code: "Forbidden.AccessDenied.ApiCountLimitForOrg",
                times: 1,
              });
            return world.dingtalk.listDentriesPage(input);
          },
        },
      });
      const result = await startRun(root, deps);
      expect(result).toMatchObject({
        status: "waiting",
        totals: { pages: 2 },
        error: { code: "budgetExhausted" },
      });
      const [cursor] = await world.drainCursors();
      expect(cursor?.pending.length).toBeGreaterThan(0);
      expect(cursor?.attempts).toBeUndefined();
      // Until the month turns, at most SQS's 15 minutes at a time.
      expect(delays.at(-1)).toBeGreaterThan(0);
      expect(delays.at(-1)).toBeLessThanOrEqual(900);
      // The month turned: the run goes on from where it was and completes.
      const done = await continueRun(cursor as NonNullable<typeof cursor>, world.deps());
      expect(done).toMatchObject({ status: "complete" });
      expect(done.totals.pages).toBe(SAMPLE.pages);
    } finally {
      world.sqs.middlewareStack.remove("quota-delays");
    }
  });

  it("a refused page token: the folder is listed again from its first page", async () => {
    const many = world.sandbox.dentryIdByPath("many") as string;
    const source = [{ spaceId: SPACE, parentId: many, recursive: true }];
    await startRun(source, world.deps({ shouldStop: () => true }));
    const [cursor] = await world.drainCursors();
    const stale = { ...(cursor as NonNullable<typeof cursor>) };
    stale.pending = stale.pending.map((t) => ({ ...t, nextToken: "c3RhbGU" }));
    const { result, calls } = await world.countCalls(() => continueRun(stale, world.deps()));
    expect(result).toMatchObject({ status: "complete", failed: 0 });
    // The refused call, then the folder's three pages.
    expect(calls.listDentries).toBe(4);
    expect(new Set(fileVersions(world.jobs())).size).toBe(120);
  });
});

describe("what S3 holds", () => {
  it("is read by listing, page after page", async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `${PREFIX}big-space/${i}/v${(i % 3) + 1}/f.txt`);
    keys.push(`${PREFIX}big-space/stray.txt`, `${PREFIX}big-space-2/1/v1/f.txt`);
    for (const Key of keys) await world.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "x" }));
    const requests: number[] = [];
    const name = "count-lists";
    world.s3.middlewareStack.add(
      (next) => async (args) => {
        requests.push(1);
        return next(args);
      },
      { step: "initialize", name },
    );
    try {
      const archived = await listArchivedVersions(world.s3, {
        bucket: BUCKET,
        prefix: PREFIX,
        spaceId: "big-space",
        pageSize: 10,
      });
      expect(archived.size).toBe(25);
      expect(archived.has("24/v1")).toBe(true);
      expect(archived.has("1/v1")).toBe(false);
      // 26 keys under big-space/ (the stray one included), 10 a page.
      expect(requests).toHaveLength(3);
    } finally {
      world.s3.middlewareStack.remove(name);
    }
  });
});
