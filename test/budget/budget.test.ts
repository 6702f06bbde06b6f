/**
 * The monthly call budget against dynalite (DynamoDB) and the sandbox: China-time months, the send-link
 * reserve, a month turning (injected clock), and archive workers racing for the last calls of a budget —
 * exactly N metered calls are made (the sandbox's own counters), the other jobs wait on the queue, none is
 * dead-lettered, and all complete once the month has turned.
 */

import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { SQSBatchResponse } from "aws-lambda";
import type { FauxqsServer } from "fauxqs";
import { beforeAll, describe, expect, it } from "vitest";
import { archiveFile } from "../../lib/archive";
import type { ArchiveJob } from "../../lib/archive-worker/archive-job";
import { type ArchiveEventDeps, handleArchiveEvent } from "../../lib/archive-worker/handle";
import { DEFAULT_REQUEUE_LIMITS } from "../../lib/archive-worker/requeue";
import {
  budgetItemId,
  chinaMonth,
  createCallBudget,
  createCallMeter,
  loadBudgetConfig,
  nextChinaMonthStart,
  QuotaExhausted,
  quotaExhaustedIn,
} from "../../lib/budget";
import type { ConfigError } from "../../lib/config";
import { createDingTalkClient, DingTalkError } from "../../lib/dingtalk";
import { toAppError } from "../../lib/http/errors";
import type { LocalDynamo } from "../../scripts/local-services";
import { startArchiveWorld } from "../archive/helpers";
import { sqsEvent } from "../support/handler-stack";
import { lambdaContext } from "../support/lambda";
import { useWorld } from "../support/use-world";

const TABLE = "budget-test";
let dynamo: LocalDynamo;
let emulator: FauxqsServer;

const world = useWorld(() => startArchiveWorld({}, { dynamo: TABLE, queues: ["jobs", "dead"] }));
beforeAll(async () => {
  dynamo = world.dynamo as LocalDynamo;
  emulator = world.emulator;
});

/** 2026-11-30 15:59:59 UTC is 23:59:59 on the 30th in Beijing; one second later is December there. */
const LAST_SECOND_OF_NOVEMBER_CN = Date.UTC(2026, 10, 30, 15, 59, 59);

describe("China-time months", () => {
  it("turn at 16:00 UTC on the last day of the month", () => {
    expect(chinaMonth(LAST_SECOND_OF_NOVEMBER_CN)).toBe("2026-11");
    expect(chinaMonth(LAST_SECOND_OF_NOVEMBER_CN + 1000)).toBe("2026-12");
    expect(chinaMonth(Date.UTC(2026, 11, 31, 16, 0))).toBe("2027-01");
    expect(nextChinaMonthStart(LAST_SECOND_OF_NOVEMBER_CN)).toBe(LAST_SECOND_OF_NOVEMBER_CN + 1000);
    expect(nextChinaMonthStart(Date.UTC(2026, 10, 1, 0, 0))).toBe(Date.UTC(2026, 10, 30, 16, 0));
  });
});

describe("the budget", () => {
  it("stops other calls at the send-link reserve, send-link at the budget, and starts again next month", async () => {
    let now = LAST_SECOND_OF_NOVEMBER_CN - 60_000;
    const budget = createCallBudget({
      dynamo: dynamo.client,
      tableName: TABLE,
      monthlyLimit: 5,
      sendLinkReserve: 2,
      now: () => now,
    });
    for (let i = 1; i <= 3; i++)
      expect(await budget.spend("getFileDownloadInfo")).toMatchObject({ used: i, limit: 3 });
    const refused = await budget.spend("listDentries").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QuotaExhausted);
    expect(refused).toMatchObject({
      status: 429,
      code: "budgetExhausted",
      source: "budget",
      retryAfterMs: 60_000 + 1000,
    });
    expect(await budget.spend("sendFileLink")).toMatchObject({ used: 4, limit: 5 });
    expect(await budget.spend("sendFileLink")).toMatchObject({ used: 5 });
    await expect(budget.spend("sendFileLink")).rejects.toBeInstanceOf(QuotaExhausted);
    // Refused calls were not counted; the item says who spent what.
    const item = await dynamo.client.send(
      new GetItemCommand({ TableName: TABLE, Key: { id: { S: budgetItemId("2026-11") } } }),
    );
    expect(item.Item).toMatchObject({
      used: { N: "5" },
      calls_getFileDownloadInfo: { N: "3" },
      calls_sendFileLink: { N: "2" },
    });
    expect(Number(item.Item?.expiration?.N)).toBeGreaterThan(now / 1000);
    now = LAST_SECOND_OF_NOVEMBER_CN + 1000;
    expect(await budget.spend("getFileDownloadInfo")).toMatchObject({ month: "2026-12", used: 1 });
  });

  it("is read from the environment with errors naming the variable", () => {
    expect(loadBudgetConfig({ IDEMPOTENCY_TABLE: "t" })).toEqual({
      monthlyLimit: 5000,
      sendLinkReserve: 500,
      tableName: "t",
    });
    expect(loadBudgetConfig({})).toMatchObject({ monthlyLimit: 0, offBecause: expect.any(String) });
    expect(loadBudgetConfig({ DINGTALK_MONTHLY_CALL_BUDGET: "0" })).toMatchObject({ monthlyLimit: 0 });
    const problems = (env: Record<string, string>) => {
      try {
        loadBudgetConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ DINGTALK_MONTHLY_CALL_BUDGET: "100" })[0]).toMatch(
      /DINGTALK_MONTHLY_CALL_BUDGET needs a DynamoDB table/,
    );
    expect(problems({ DINGTALK_MONTHLY_CALL_BUDGET: "-1", IDEMPOTENCY_TABLE: "t" })[0]).toMatch(
      /^DINGTALK_MONTHLY_CALL_BUDGET must be a whole number/,
    );
    expect(
      problems({
        DINGTALK_MONTHLY_CALL_BUDGET: "10",
        DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE: "10",
        IDEMPOTENCY_TABLE: "t",
      })[0],
    ).toMatch(/SEND_LINK_RESERVE \(10\) must be less than/);
  });

  it("recognises DingTalk's own spent quota however it is wrapped", () => {
    const dingtalk = new DingTalkError({
      api: "getFileDownloadInfo",
      status: 403,
      code: "Forbidden.AccessDenied.ApiCountLimitForOrg",
      detail: "over quota",
      requestId: "r-1",
    });
    const wrapped = new Error("archiving failed", { cause: new Error("transfer", { cause: dingtalk }) });
    expect(quotaExhaustedIn(wrapped, LAST_SECOND_OF_NOVEMBER_CN)).toMatchObject({
      source: "dingtalk",
      requestId: "r-1",
      retryAfterMs: 1000,
    });
    expect(quotaExhaustedIn(new Error("other"))).toBeUndefined();
  });

  it("send-link answers 429 budgetExhausted for our budget and for DingTalk's quota alike", () => {
    const ours = new QuotaExhausted({ source: "budget", now: 0, message: "spent" });
    expect(toAppError(new Error("idempotency wrapper", { cause: ours }))).toMatchObject({
      status: 429,
      code: "budgetExhausted",
    });
    const theirs = new DingTalkError({
      api: "sendFileLink",
      status: 403,
      code: "Forbidden.AccessDenied.ApiCountLimitForOrg",
      detail: "over quota",
      requestId: "r-2",
    });
    expect(toAppError(theirs)).toMatchObject({ status: 429, code: "budgetExhausted", requestId: "r-2" });
  });
});

describe("archive workers racing for the last calls of a budget", () => {
  it("make exactly N calls; the other jobs wait, none is dead-lettered, all complete after the month turns", async () => {
    const BUDGET = 7;
    const FILES = 12; // fewer than two months of budget: all done after one turn
    let now = Date.UTC(2027, 2, 31, 12, 0); // 20:00 on 31 March in Beijing
    const queueUrl = `${emulator.address}/000000000000/jobs`;
    const deadUrl = `${emulator.address}/000000000000/dead`;
    const space = world.sandbox.options.spaceId;
    const jobs: ArchiveJob[] = [];
    for (let i = 0; i < FILES; i++) {
      const name = `race-${i}.txt`;
      const dentryId = world.sandbox.putGeneratedFile({ name, size: 100 + i, parentPath: "race" });
      jobs.push({
        spaceId: space,
        dentryId,
        version: 1,
        jobId: `job-${i}`,
        listed: { version: 1, name, size: 100 + i },
      });
    }
    const { SQSClient } = await import("@aws-sdk/client-sqs");
    const sqs = new SQSClient({
      endpoint: emulator.address,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    /** One worker = its own DingTalk client and meter (another Lambda container), the shared table. */
    const worker = (): ArchiveEventDeps => {
      const meter = createCallMeter({
        functionName: "archive",
        budget: createCallBudget({
          dynamo: dynamo.client,
          tableName: TABLE,
          monthlyLimit: BUDGET + 1,
          sendLinkReserve: 1,
          now: () => now,
        }),
      });
      const dingtalk = createDingTalkClient({
        baseUrl: world.sandbox.url,
        appKey: world.sandbox.options.appKey,
        appSecret: world.sandbox.options.appSecret,
        beforeMeteredCall: meter.beforeMeteredCall,
      });
      return {
        runJob: ({ jobId: _jobId, ...task }) => archiveFile(task, world.deps({ dingtalk })),
        sqs,
        queueUrl,
        deadLetterQueueUrl: deadUrl,
        allowedUnionIds: [world.sandbox.options.unionId],
        stopMarginMs: 1000,
        requeueLimits: DEFAULT_REQUEUE_LIMITS,
      };
    };
    const run = async (deps: ArchiveEventDeps, batch: ArchiveJob[], prefix: string) =>
      (await handleArchiveEvent(
        sqsEvent(
          batch.map((job) => JSON.stringify(job)),
          prefix,
        ),
        lambdaContext("archive", 600_000),
        async () => deps,
      )) as SQSBatchResponse;

    world.sandbox.resetCalls();
    const [a, b] = [worker(), worker()];
    const answers = await Promise.all([run(a, jobs.slice(0, 6), "a"), run(b, jobs.slice(6), "b")]);
    // No batch item failed: every job either archived or went back to wait.
    expect(answers.flatMap((answer) => answer.batchItemFailures)).toEqual([]);
    expect(world.sandbox.calls()).toMatchObject({ downloadInfo: BUDGET, getDentry: 0 });
    const waiting = emulator.inspectQueue("jobs");
    const requeued = [...(waiting?.messages.ready ?? []), ...(waiting?.messages.delayed ?? [])].map(
      (m) => JSON.parse(m.body) as ArchiveJob,
    );
    expect(requeued).toHaveLength(FILES - BUDGET);
    // They went back unchanged (no attempt counted), with their listed facts.
    for (const job of requeued) expect(jobs).toContainEqual(job);
    expect(emulator.inspectQueue("dead")?.messages.ready ?? []).toEqual([]);

    // The month turns in Beijing: the waiting jobs run again and all complete.
    now = nextChinaMonthStart(now);
    const { PurgeQueueCommand } = await import("@aws-sdk/client-sqs");
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    const later = await run(worker(), requeued, "c");
    expect(later.batchItemFailures).toEqual([]);
    expect(world.sandbox.calls()).toMatchObject({ downloadInfo: FILES, getDentry: 0 });
    const left = emulator.inspectQueue("jobs");
    expect([...(left?.messages.ready ?? []), ...(left?.messages.delayed ?? [])]).toEqual([]);
    expect(emulator.inspectQueue("dead")?.messages.ready ?? []).toEqual([]);
    sqs.destroy();
  });
});
