import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearCaches } from "@aws-lambda-powertools/parameters";
import type { Handler } from "aws-lambda";
import type { FauxqsServer } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signWebhook } from "../../lib/signatures/verify";
import { buildPush, type PushOptions, storageEvent } from "../../sandbox/push";
import type { Sandbox } from "../../sandbox/server";
import type { LocalDynamo } from "../../scripts/local-services";
import { pushHttpEvent } from "../dingtalk-events/helpers";
import { ACCOUNT, iamRequestsOf, REGION, type RecordedCall, recordAwsCalls } from "../support/aws-calls";
import { evaluate, type PolicyStatement, type Request } from "../support/iam-policy";
import { lambdaContext, sampleEvent } from "../support/lambda";
import { serverlessPackage } from "../support/run-process";
import { type SsmServer, startSsmServer } from "../support/ssm-server";
import { startWorld, type World } from "../support/world";

const MiB = 1024 * 1024;
const STAGE = "dev";
const SECRETS = `/dingtalk-file-bridge/${STAGE}`;
const BUCKET = "recorded-archive";
const TABLE = "recorded-idempotency";
/** The template's queues by logical id → the local queue names. */
const QUEUE_NAMES: Record<string, string> = {
  ArchiveQueue: "rec-archive",
  ArchiveDeadLetterQueue: "rec-archive-dlq",
  ArchiveScanQueue: "rec-archive-scan",
  ArchiveScanDeadLetterQueue: "rec-archive-scan-dlq",
  SendLinkQueue: "rec-send-link",
  SendLinkDeadLetterQueue: "rec-send-link-dlq",
};
const SEND_LINK_SECRET = `whsec_${Buffer.from("recorded-send-link-secret-1").toString("base64")}`;
const ARCHIVE_SECRET = `whsec_${Buffer.from("recorded-archive-secret-22").toString("base64")}`;
const EVENT_KEYS = { token: "recorded-event-token", aesKey: "rec0Encoding0AES0Key0abcdefghijklmnopqrstuv" };

type Resource = { Type: string; Properties: Record<string, unknown> };
let resources: Record<string, Resource>;
let world: World;
let sandbox: Sandbox;
let emulator: FauxqsServer;
let dynamo: LocalDynamo;
let ssm: SsmServer;
let recorder: ReturnType<typeof recordAwsCalls>;
const savedEnv = { ...process.env };

/** What CloudFormation's Ref and GetAtt give for each logical id, mapped onto the local servers. */
function references() {
  const refs: Record<string, string> = { ArchiveBucket: BUCKET, IdempotencyTable: TABLE };
  const arns: Record<string, string> = {
    ArchiveBucket: `arn:aws:s3:::${BUCKET}`,
    IdempotencyTable: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`,
  };
  const names: Record<string, string> = {};
  for (const [id, name] of Object.entries(QUEUE_NAMES)) {
    refs[id] = `${emulator.address}/${ACCOUNT}/${name}`;
    arns[id] = `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
    names[id] = name;
  }
  return { refs, arns, names };
}

const PSEUDO: Record<string, string> = {
  "AWS::Partition": "aws",
  "AWS::Region": REGION,
  "AWS::AccountId": ACCOUNT,
};

/** CloudFormation's intrinsic functions, as far as the template's roles and environments use them. */
function resolve(value: unknown): unknown {
  const { refs, arns, names } = references();
  const lookup = (id: string, attribute?: string): string => {
    const found =
      attribute === undefined
        ? (PSEUDO[id] ?? refs[id])
        : attribute === "Arn"
          ? arns[id]
          : attribute === "QueueName"
            ? names[id]
            : undefined;
    if (found === undefined) throw new Error(`cannot resolve ${id}${attribute ? `.${attribute}` : ""}`);
    return found;
  };
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map(resolve);
  const object = value as Record<string, unknown>;
  if ("Ref" in object) return lookup(object.Ref as string);
  if ("Fn::GetAtt" in object) {
    const [id, attribute] = object["Fn::GetAtt"] as [string, string];
    return lookup(id, attribute);
  }
  if ("Fn::Sub" in object) {
    const sub = object["Fn::Sub"];
    const [text, vars] = (Array.isArray(sub) ? sub : [sub, {}]) as [string, Record<string, unknown>];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in vars) return String(resolve(vars[name]));
      const [id, attribute] = name.split(".") as [string, string | undefined];
      return lookup(id, attribute);
    });
  }
  if ("Fn::Join" in object) {
    const [separator, parts] = object["Fn::Join"] as [string, unknown[]];
    return parts.map((part) => String(resolve(part))).join(separator);
  }
  const intrinsic = Object.keys(object).find((key) => key.startsWith("Fn::"));
  if (intrinsic) throw new Error(`cannot resolve ${intrinsic} in ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, resolve(inner)]));
}

interface PackagedFunction {
  id: string;
  /** Every statement of its role, resolved (the runtime's log statements included). */
  statements: PolicyStatement[];
  environment: Record<string, string>;
}

function packagedFunction(name: string): PackagedFunction {
  const id = `${name}LambdaFunction`;
  const fn = resources[id];
  if (!fn) throw new Error(`no ${id} in the template`);
  const roleId = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
  const policies =
    ((resources[roleId] as Resource).Properties.Policies as Array<{
      PolicyDocument: { Statement: unknown[] };
    }>) ?? [];
  const statements = policies.flatMap((p) => p.PolicyDocument.Statement).map(resolve) as PolicyStatement[];
  const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const environment = Object.fromEntries(
    Object.entries(variables).map(([key, value]) => [key, String(resolve(value))]),
  );
  return { id, statements, environment };
}

/**
 * Load a function's handler as Lambda would: its environment from the template (values that name DingTalk
 * or tune the transfer pointed at the sandbox), then a fresh import, so it validates at "cold start".
 */
async function coldStart(name: string, handlerPath: string): Promise<Handler> {
  const host = new URL(sandbox.url).host;
  const env = packagedFunction(name).environment;
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv, env, {
    NODE_OPTIONS: savedEnv.NODE_OPTIONS ?? "",
    DINGTALK_API_BASE: sandbox.url,
    DINGTALK_APP_KEY: sandbox.options.appKey,
    DINGTALK_UNION_ID: sandbox.options.unionId,
    ALLOWED_UNION_IDS: sandbox.options.unionId,
    DOWNLOAD_ALLOWED_HOSTS: host,
    DOWNLOAD_ALLOW_HTTP_HOSTS: host,
    TRANSFER_PART_SIZE: String(5 * MiB),
    TRANSFER_CONCURRENCY: "2",
    ARCHIVE_STOP_MARGIN_SECONDS: "10",
    ARCHIVE_SOURCES: JSON.stringify([{ spaceId: "sandbox-space", parentId: "0" }]),
    AWS_ENDPOINT_URL_S3: emulator.address,
    AWS_ENDPOINT_URL_SQS: emulator.address,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  clearCaches(); // Powertools' parameter cache is per process: each function reads its secrets itself.
  vi.resetModules();
  recorder.as(name);
  return (await import(handlerPath)).handler as Handler;
}

const invoke = (handler: Handler, name: string, event: unknown, remainingMs = 25_000) =>
  handler(event, lambdaContext(`dingtalk-file-bridge-${STAGE}-${name}`, remainingMs), () => undefined);

const signedEvent = (sample: string, secret: string, body: unknown) => {
  const text = JSON.stringify(body);
  return {
    ...sampleEvent<Record<string, unknown>>(sample),
    headers: signWebhook(secret, `msg_${Math.random()}`, text),
    body: text,
    isBase64Encoded: false,
  };
};

const sqsEvent = (body: unknown) => {
  const template = sampleEvent<{ Records: Array<Record<string, unknown>> }>("archive.sqs.json").Records[0];
  return { Records: [{ ...template, messageId: `rec-${Math.random()}`, body: JSON.stringify(body) }] };
};

beforeAll(async () => {
  const outDir = await mkdtemp(join(tmpdir(), "sls-recorded-"));
  try {
    resources = (
      await serverlessPackage(outDir, { workFolder: ".esbuild-recorded-calls-test", stage: STAGE })
    ).Resources;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  world = await startWorld({
    sandbox: { generatedFiles: [{ name: "big.bin", size: 11 * MiB, seed: "recorded-big" }] },
    bucket: BUCKET,
    queues: Object.values(QUEUE_NAMES),
    dynamo: TABLE,
  });
  ({ sandbox, emulator } = world);
  dynamo = world.dynamo as LocalDynamo;
  ssm = await startSsmServer({
    [`${SECRETS}/dingtalk-app-secret`]: sandbox.options.appSecret,
    [`${SECRETS}/webhook-secret-send-link`]: SEND_LINK_SECRET,
    [`${SECRETS}/webhook-secret-archive`]: ARCHIVE_SECRET,
    [`${SECRETS}/dingtalk-event-token`]: EVENT_KEYS.token,
    [`${SECRETS}/dingtalk-event-aes-key`]: EVENT_KEYS.aesKey,
  });
  await exerciseFunctions();
}, 240_000);

afterAll(async () => {
  recorder?.stop();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await world?.stop();
  await ssm?.close();
});

/** Each function through its paths, success and failure, as the other test files drive them. */
async function exerciseFunctions() {
  recorder = recordAwsCalls();
  const readme = sandbox.dentryIdByPath("README.txt") as string;
  const big = sandbox.dentryIdByPath("big.bin") as string;
  const conversation = sandbox.options.conversationId;

  const sendLink = await coldStart("SendLink", "../../functions/send-link/handler");
  const linkRequest = { spaceId: "sandbox-space", dentryId: readme, openConversationId: conversation };
  const sent = (await invoke(
    sendLink,
    "sendLink",
    signedEvent("send-link.http.json", SEND_LINK_SECRET, linkRequest),
  )) as { statusCode: number };
  expect(sent.statusCode).toBe(200);
  // A request that can never succeed goes to the dead-letter queue.
  await invoke(sendLink, "sendLink", sqsEvent({ ...linkRequest, dentryId: "999999999999" }));

  const intake = await coldStart("ArchiveIntake", "../../functions/archive-intake/handler");
  const queued = (await invoke(
    intake,
    "archiveIntake",
    signedEvent("archive-intake.http.json", ARCHIVE_SECRET, { spaceId: "sandbox-space", dentryId: readme }),
  )) as { statusCode: number };
  expect(queued.statusCode).toBe(202);

  const worker = await coldStart("Archive", "../../functions/archive/handler");
  expect(await invoke(worker, "archive", sqsEvent({ spaceId: "sandbox-space", dentryId: readme }))).toEqual({
    batchItemFailures: [],
  });
  // Short of time: checkpoint and requeue; the next invocation resumes and completes.
  await invoke(
    worker,
    "archive",
    sqsEvent({ spaceId: "sandbox-space", dentryId: big, jobId: "rec-big" }),
    5_000,
  );
  expect(
    await invoke(worker, "archive", sqsEvent({ spaceId: "sandbox-space", dentryId: big, jobId: "rec-big" })),
  ).toEqual({ batchItemFailures: [] });
  // Already archived: skipped after a HeadObject. A file that does not exist: dead-lettered.
  await invoke(worker, "archive", sqsEvent({ spaceId: "sandbox-space", dentryId: readme }));
  await invoke(worker, "archive", sqsEvent({ spaceId: "sandbox-space", dentryId: "999999999999" }));

  const events = await coldStart("DingtalkEvents", "../../functions/dingtalk-events/handler");
  const push = buildPush(
    storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId: readme }),
    {
      ...EVENT_KEYS,
      appKey: sandbox.options.appKey,
    } as PushOptions,
  );
  const pushed = (await invoke(events, "dingtalkEvents", pushHttpEvent(push))) as { statusCode: number };
  expect(pushed.statusCode).toBe(200);

  const schedule = await coldStart("ArchiveSchedule", "../../functions/archive-schedule/handler");
  // Short of time at once: the run continues itself through the scan queue. First, while no run has
  // completed (afterwards runs list incrementally: one listAll page, nothing left to continue).
  await invoke(schedule, "archiveSchedule", sampleEvent("archive-schedule.eventbridge.json"), 1_000);
  await invoke(schedule, "archiveSchedule", sampleEvent("archive-schedule.eventbridge.json"), 600_000);
  recorder.as("(none)");
}

const FUNCTIONS = ["SendLink", "ArchiveIntake", "Archive", "DingtalkEvents", "ArchiveSchedule"];
const callsOf = (fn: string): RecordedCall[] => recorder.calls.filter((call) => call.fn === fn);
const describeRequest = (r: Request) =>
  `${r.action} ${r.resource}${r.context ? ` ${JSON.stringify(r.context)}` : ""}`;
/**
 * Statements Lambda itself uses with the function's role, not the code: writing its logs, and polling its
 * event source queues (test/security/iam.test.ts checks those are exactly its own). No recorded call needs them.
 */
const LAMBDA_SERVICE_ACTIONS =
  /^(logs:|sqs:(ReceiveMessage|DeleteMessage|GetQueueAttributes|ChangeMessageVisibility)$)/;
const isRuntimeStatement = (s: PolicyStatement) =>
  [s.Action].flat().every((a) => LAMBDA_SERVICE_ACTIONS.test(a));

describe("the AWS calls each function makes, against its role in the packaged template", () => {
  it("recorded the calls of every function, of every service it uses", () => {
    const services = (fn: string) => [...new Set(callsOf(fn).map((c) => c.client))].sort();
    expect(services("SendLink")).toEqual(["DynamoDBClient", "SQSClient", "SSMClient"]);
    expect(services("ArchiveIntake")).toEqual(["DynamoDBClient", "SQSClient", "SSMClient"]);
    // The worker and the schedule charge the monthly call budget in the table (DynamoDB UpdateItem).
    expect(services("Archive")).toEqual(["DynamoDBClient", "S3Client", "SQSClient", "SSMClient"]);
    expect(services("DingtalkEvents")).toEqual(["DynamoDBClient", "SQSClient", "SSMClient"]);
    expect(services("ArchiveSchedule")).toEqual(["DynamoDBClient", "S3Client", "SQSClient", "SSMClient"]);
    expect(callsOf("(none)")).toEqual([]);
    // The paths that matter for the grants: the schedule continued itself, the worker dead-lettered.
    const queuesOf = (fn: string) =>
      new Set(
        callsOf(fn).flatMap((c) =>
          c.command.startsWith("SendMessage") ? [String(c.input.QueueUrl).split("/").pop()] : [],
        ),
      );
    expect([...queuesOf("ArchiveSchedule")].sort()).toEqual(
      [QUEUE_NAMES.ArchiveQueue, QUEUE_NAMES.ArchiveScanQueue].sort(),
    );
    expect([...queuesOf("Archive")].sort()).toEqual(
      [QUEUE_NAMES.ArchiveQueue, QUEUE_NAMES.ArchiveDeadLetterQueue].sort(),
    );
  });

  it.each(FUNCTIONS)("%s: every recorded call is allowed", (fn) => {
    const { statements } = packagedFunction(fn);
    const denied = callsOf(fn)
      .flatMap(iamRequestsOf)
      .filter((request) => evaluate(statements, request) !== "allowed")
      .map(describeRequest);
    expect(denied).toEqual([]);
  });

  it.each(FUNCTIONS)("%s: every statement of its role is needed by some recorded call", (fn) => {
    const { statements } = packagedFunction(fn);
    const requests = callsOf(fn).flatMap(iamRequestsOf);
    const unneeded = statements
      .filter((statement) => !isRuntimeStatement(statement))
      .filter((statement) => {
        const without = statements.filter((s) => s !== statement);
        return requests.every((request) => evaluate(without, request) === "allowed");
      })
      .map((statement) => JSON.stringify(statement));
    expect(unneeded).toEqual([]);
  });

  it.each(FUNCTIONS)("%s: what it must never do is denied", (fn) => {
    const { statements } = packagedFunction(fn);
    const bucket = `arn:aws:s3:::${BUCKET}`;
    const mustDeny: Request[] = [
      { action: "s3:GetObject", resource: `arn:aws:s3:::another-bucket/dingtalk/a.txt` },
      { action: "s3:PutObject", resource: `arn:aws:s3:::another-bucket/dingtalk/a.txt` },
      { action: "s3:PutObject", resource: `${bucket}/elsewhere/a.txt` },
      { action: "s3:GetObject", resource: `${bucket}/elsewhere/a.txt` },
      { action: "s3:DeleteObject", resource: `${bucket}/elsewhere/a.txt` },
      { action: "s3:DeleteObjectVersion", resource: `${bucket}/elsewhere/a.txt` },
      { action: "s3:DeleteBucket", resource: bucket },
      { action: "s3:PutBucketPolicy", resource: bucket },
      { action: "s3:PutLifecycleConfiguration", resource: bucket },
      { action: "s3:PutBucketVersioning", resource: bucket },
      {
        action: "ssm:GetParameter",
        resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/dingtalk-file-bridge/prod/dingtalk-app-secret`,
      },
      {
        action: "ssm:GetParameter",
        resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/other-service/secret`,
      },
      {
        action: "ssm:PutParameter",
        resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${SECRETS}/dingtalk-app-secret`,
      },
      { action: "sqs:SendMessage", resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:another-queue` },
      {
        action: "sqs:SendMessage",
        resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:${QUEUE_NAMES.SendLinkQueue}`,
      },
      { action: "sqs:PurgeQueue", resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:${QUEUE_NAMES.ArchiveQueue}` },
      { action: "sqs:DeleteQueue", resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:${QUEUE_NAMES.ArchiveQueue}` },
      { action: "dynamodb:Scan", resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}` },
      { action: "dynamodb:PutItem", resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/another-table` },
      { action: "dynamodb:DeleteTable", resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}` },
      { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT}:role/admin` },
      {
        action: "secretsmanager:GetSecretValue",
        resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:x`,
      },
    ];
    // Listing is limited to the prefix, but for the worker's HeadObject (serverless.yml says why).
    if (fn !== "Archive")
      mustDeny.push({ action: "s3:ListBucket", resource: bucket, context: { "s3:prefix": "elsewhere/" } });
    // Each webhook endpoint reads only its own secret.
    if (fn !== "ArchiveIntake")
      mustDeny.push({
        action: "ssm:GetParameter",
        resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${SECRETS}/webhook-secret-archive`,
      });
    if (fn !== "SendLink")
      mustDeny.push({
        action: "ssm:GetParameter",
        resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${SECRETS}/webhook-secret-send-link`,
      });
    // Only the worker writes objects; only the intake, the events function and the schedule queue jobs.
    if (fn !== "Archive") mustDeny.push({ action: "s3:PutObject", resource: `${bucket}/dingtalk/a.txt` });
    const allowed = mustDeny
      .filter((request) => evaluate(statements, request) === "allowed")
      .map(describeRequest);
    expect(allowed).toEqual([]);
  });
});
