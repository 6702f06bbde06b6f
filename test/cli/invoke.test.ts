/**
 * `npm run invoke`: every sample in events/ runs through its function's real handler against a local stack
 * (the sandbox, fauxqs, dynalite on free ports, as `npm start` runs them) and is answered with success:
 * the samples hold real sandbox ids, and the script signs the signed ones afresh.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { FauxqsServer } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server";
import type { FunctionName } from "../../scripts/invoke";
import { type LocalDynamo, startLocalDynamo, startLocalEmulator } from "../../scripts/local-services";
import { freePort } from "../support/world";

const EVENTS = new URL("../../events/", import.meta.url);
const saved = { ...process.env };
let sandbox: Sandbox;
let emulator: FauxqsServer;
let dynamo: LocalDynamo;
let invokeLocal: (name: FunctionName, event: unknown) => Promise<unknown>;

/** The function a sample belongs to, from its file name (`<function>.<trigger>.json`). */
const FUNCTION_OF: Array<[string, FunctionName]> = [
  ["archive-intake.", "archiveIntake"],
  ["archive-schedule.", "archiveSchedule"],
  ["archive.", "archive"],
  ["send-link.", "sendLink"],
  ["dingtalk-events.", "dingtalkEvents"],
];
const functionOf = (file: string) => FUNCTION_OF.find(([prefix]) => file.startsWith(prefix))?.[1];
const samples = readdirSync(EVENTS).filter((file) => file.endsWith(".json"));

beforeAll(async () => {
  // The ports `npm start` would use: scripts/local-env.ts reads them when it loads, so set them first.
  const ports = { sandbox: await freePort(), emulator: await freePort(), dynamodb: await freePort() };
  Object.assign(process.env, {
    SANDBOX_PORT: String(ports.sandbox),
    EMULATOR_PORT: String(ports.emulator),
    DYNAMODB_PORT: String(ports.dynamodb),
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  for (const name of ["DINGTALK_APP_KEY", "DINGTALK_APP_SECRET", "DINGTALK_API_BASE", "WEBHOOK_SECRET"]) {
    delete process.env[name];
  }
  const { LOCAL_BUCKET, LOCAL_IDEMPOTENCY_TABLE, LOCAL_QUEUES } = await import("../../scripts/local-env");
  sandbox = await startSandbox({ port: ports.sandbox });
  emulator = await startLocalEmulator(ports.emulator, {
    buckets: [LOCAL_BUCKET],
    queues: Object.values(LOCAL_QUEUES).map((name) => ({ name })),
  });
  dynamo = await startLocalDynamo(ports.dynamodb, LOCAL_IDEMPOTENCY_TABLE);
  ({ invokeLocal } = await import("../../scripts/invoke"));
});

afterAll(async () => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
  await sandbox?.close();
  await emulator?.stop();
  await dynamo?.stop();
});

describe("npm run invoke with every events/ sample", () => {
  it("has a function for every sample, and a sample for every function", () => {
    expect(samples.filter((file) => functionOf(file) === undefined)).toEqual([]);
    const covered = new Set(samples.map(functionOf));
    for (const [, fn] of FUNCTION_OF) expect(covered.has(fn), fn).toBe(true);
  });

  it.each(samples)("%s: answered with success", async (file) => {
    const event = JSON.parse(readFileSync(new URL(file, EVENTS), "utf8"));
    const answer = (await invokeLocal(functionOf(file) as FunctionName, event)) as Record<string, unknown>;
    if ("statusCode" in answer) expect(answer.statusCode, String(answer.body)).toBeLessThan(300);
    if ("batchItemFailures" in answer) expect(answer.batchItemFailures).toEqual([]);
    expect(JSON.stringify(answer)).not.toMatch(/"status":"(dead-lettered|failed|aborted)"/);
  });
});
