/**
 * `serverless package` (osls, the real toolchain) offline with no AWS credentials: one artifact per
 * function whose unzipped handler loads on this Node (24), and a CloudFormation template with the
 * routes, queues and scoped IAM the functions rely on.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import JSZip from "jszip";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackagedTemplate, serverlessPackage } from "./support/run-process";

const run = promisify(execFile);
let outDir: string;
let template: PackagedTemplate;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "sls-package-"));
  // Its own build folder: the local-stack test runs serverless-offline from .esbuild at the same time.
  template = await serverlessPackage(outDir, { workFolder: ".esbuild-package-test" });
}, 200_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** Every file of a function's zip under `dir` (a handler imports its chunks from beside it). */
async function unzip(zip: JSZip, dir: string): Promise<string> {
  for (const file of Object.values(zip.files)) {
    if (file.dir) continue;
    await mkdir(dirname(join(dir, file.name)), { recursive: true });
    await writeFile(join(dir, file.name), await file.async("nodebuffer"));
  }
  return dir;
}

const resourcesOfType = (type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

describe("serverless package", () => {
  it("produces one artifact per function", async () => {
    const zips = (await readdir(outDir)).filter((name) => name.endsWith(".zip")).sort();
    const functions = resourcesOfType("AWS::Lambda::Function").map(([id]) => id);
    expect(functions.length).toBeGreaterThan(0);
    expect(zips).toHaveLength(functions.length);
    expect(zips).toContain("sendLink.zip");
  });

  it("bundles a send-link handler that loads on Node 24 and validates its configuration", async () => {
    const zip = await JSZip.loadAsync(await readFile(join(outDir, "sendLink.zip")));
    expect(zip.file("functions/send-link/handler.mjs")).not.toBeNull();
    const extracted = join(await unzip(zip, join(outDir, "unzipped")), "functions/send-link/handler.mjs");

    const load = `import(${JSON.stringify(extracted)}).then((m) => console.log(typeof m.handler), (e) => { console.error(e.message); process.exit(1); })`;
    const env = {
      PATH: process.env.PATH,
      DINGTALK_APP_KEY: "k",
      DINGTALK_APP_SECRET: "s",
      WEBHOOK_SECRET_SEND_LINK: "whsec_c2VjcmV0",
      IDEMPOTENCY_TABLE: "t",
      AWS_REGION: "us-east-1",
      POWERTOOLS_LOG_LEVEL: "SILENT",
    };
    const loaded = await run(process.execPath, ["--input-type=module", "-e", load], { env, cwd: outDir });
    expect(process.version).toMatch(/^v24\./);
    expect(loaded.stdout.trim()).toBe("function");

    // Without configuration the cold start fails, naming each missing variable.
    const failed = run(process.execPath, ["--input-type=module", "-e", load], {
      env: { PATH: process.env.PATH },
      cwd: outDir,
    });
    await expect(failed).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /DINGTALK_APP_KEY is required.*WEBHOOK_SECRET_SEND_LINK \(or WEBHOOK_SECRET_SEND_LINK_PARAMETER\) is required/s,
      ),
    });
  });

  it("bundles every function's handler so that it loads on Node 24 with its configuration", async () => {
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: "us-east-1",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      DINGTALK_APP_KEY: "k",
      DINGTALK_APP_SECRET: "s",
      WEBHOOK_SECRET_SEND_LINK: "whsec_c2VjcmV0",
      WEBHOOK_SECRET_ARCHIVE: "whsec_YXJjaGl2ZQ==",
      IDEMPOTENCY_TABLE: "t",
      ARCHIVE_BUCKET: "dingtalk-archive",
      ARCHIVE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/archive",
      ARCHIVE_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/1/archive-dlq",
      ARCHIVE_SCAN_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/scan",
      DINGTALK_EVENT_TOKEN: "token",
      DINGTALK_EVENT_AES_KEY: "a".repeat(43),
    };
    const zips = (await readdir(outDir)).filter((name) => name.endsWith(".zip"));
    for (const name of zips) {
      const zip = await JSZip.loadAsync(await readFile(join(outDir, name)));
      const handlers = zip.file(/handler\.mjs$/);
      expect(handlers, name).toHaveLength(1);
      const handler = handlers[0] as JSZip.JSZipObject;
      // Its chunks (code loaded on first use) ship with it, and no other function's.
      const folder = dirname(handler.name);
      for (const file of Object.keys(zip.files).filter((f) => !zip.files[f]?.dir)) {
        expect(file.startsWith(`${folder}/`), `${name}: ${file}`).toBe(true);
      }
      const extracted = join(await unzip(zip, join(outDir, "all", name)), handler.name);
      const load = `import(${JSON.stringify(extracted)}).then((m) => console.log(typeof m.handler), (e) => { console.error(e.message); process.exit(1); })`;
      const loaded = await run(process.execPath, ["--input-type=module", "-e", load], { env, cwd: outDir });
      expect(loaded.stdout.trim(), name).toBe("function");
    }
  });

  it("routes POST /webhooks/send-link on the HTTP API", () => {
    const routes = resourcesOfType("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties.RouteKey);
    expect(routes).toContain("POST /webhooks/send-link");
  });

  it("feeds send-link from its queue with partial batch failures, and redrives failures to a dead-letter queue", () => {
    const mappings = resourcesOfType("AWS::Lambda::EventSourceMapping").map(([, r]) => r.Properties);
    expect(mappings).toContainEqual(
      expect.objectContaining({ FunctionResponseTypes: ["ReportBatchItemFailures"], BatchSize: 10 }),
    );
    const queue = template.Resources.SendLinkQueue?.Properties as {
      RedrivePolicy: { maxReceiveCount: number };
    };
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThan(0);
  });

  it("routes bus events and topic messages into each function's queue", () => {
    const targets = resourcesOfType("AWS::Events::Rule")
      .filter(([, r]) => r.Properties.EventPattern !== undefined)
      .map(([, r]) => ({
        detailType: (r.Properties.EventPattern as { "detail-type": string[] })["detail-type"][0],
        target: JSON.stringify(r.Properties.Targets),
      }));
    expect(targets).toContainEqual({
      detailType: "SendLinkRequested",
      target: expect.stringContaining("SendLinkQueue"),
    });
    expect(targets).toContainEqual({
      detailType: "ArchiveRequested",
      target: expect.stringContaining("ArchiveQueue"),
    });
    const subscriptions = resourcesOfType("AWS::SNS::Subscription").map(([, r]) =>
      JSON.stringify(r.Properties.Endpoint),
    );
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        expect.stringContaining("SendLinkQueue"),
        expect.stringContaining("ArchiveQueue"),
      ]),
    );
  });

  it("grants no action on every resource", () => {
    const statements = resourcesOfType("AWS::IAM::Role").flatMap(([, role]) => statementsOf(role));
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect([statement.Resource].flat(), JSON.stringify(statement.Action)).not.toContain("*");
      expect([statement.Action].flat().some((action) => action.endsWith(":*") || action === "*")).toBe(false);
    }
  });

  it("gives each function its own role with only what it uses", () => {
    const roleOf = (fn: string) => {
      const role = template.Resources[fn]?.Properties.Role as { "Fn::GetAtt": [string, string] };
      return actionsOf(template.Resources[role["Fn::GetAtt"][0]] as Resource);
    };
    const sendLink = roleOf("SendLinkLambdaFunction");
    const archive = roleOf("ArchiveLambdaFunction");
    expect(sendLink).toContain("dynamodb:PutItem");
    expect(sendLink).toContain("ssm:GetParameter");
    expect(sendLink.filter((a) => a.startsWith("s3:"))).toEqual([]);
    const sendLinkFunction = template.Resources.SendLinkLambdaFunction as Resource;
    const sendLinkRole = (sendLinkFunction.Properties.Role as { "Fn::GetAtt": string[] })[
      "Fn::GetAtt"
    ][0] as string;
    const sends = statementsOf(template.Resources[sendLinkRole] as Resource).filter((st) =>
      [st.Action].flat().includes("sqs:SendMessage"),
    );
    expect(JSON.stringify(sends.map((st) => st.Resource))).toBe(
      '[{"Fn::GetAtt":["SendLinkDeadLetterQueue","Arn"]}]',
    );
    expect(archive).toEqual(
      expect.arrayContaining(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "sqs:SendMessage"]),
    );
  });

  it("scopes S3 access to the archive bucket's prefix and SQS to the project's own queues", () => {
    const statements = resourcesOfType("AWS::IAM::Role").flatMap(([, role]) => statementsOf(role));
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      const resources = JSON.stringify(statement.Resource);
      if (actions.some((a) => a.startsWith("s3:"))) expect(resources).toContain("ArchiveBucket");
      // Object actions only under the prefix (the bucket ARN followed by /<prefix>*).
      if (actions.some((a) => a.startsWith("s3:") && a !== "s3:ListBucket"))
        expect(resources).toMatch(/\/.*\*/);
      if (actions.some((a) => a.startsWith("sqs:"))) expect(resources).toMatch(/Queue/);
    }
  });

  it("keeps the archive bucket private, encrypted, and free of stale multipart uploads", () => {
    const bucket = template.Resources.ArchiveBucket?.Properties as {
      PublicAccessBlockConfiguration: unknown;
      BucketEncryption: {
        ServerSideEncryptionConfiguration: Array<{ ServerSideEncryptionByDefault: { SSEAlgorithm: string } }>;
      };
      LifecycleConfiguration: { Rules: unknown[] };
    };
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault
        .SSEAlgorithm,
    ).toBe("AES256");
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({
        Status: "Enabled",
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      }),
    );
  });

  it("feeds the archive worker one job at a time, capped, with a visibility timeout above its timeout", () => {
    const timeout = template.Resources.ArchiveLambdaFunction?.Properties.Timeout as number;
    const queue = template.Resources.ArchiveQueue?.Properties as { VisibilityTimeout: number };
    expect(queue.VisibilityTimeout).toBeGreaterThan(timeout);
    const mappings = resourcesOfType("AWS::Lambda::EventSourceMapping").map(([, r]) => r.Properties);
    expect(mappings).toContainEqual(
      expect.objectContaining({ BatchSize: 1, ScalingConfig: { MaximumConcurrency: expect.any(Number) } }),
    );
  });

  it("runs the scheduled archive daily and lets it continue itself through its own queue", () => {
    const schedules = resourcesOfType("AWS::Events::Rule").filter(([, r]) => r.Properties.ScheduleExpression);
    expect(schedules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(["cron(0 18 * * ? *)"]);
    expect(JSON.stringify(schedules[0]?.[1].Properties.Targets)).toContain("ArchiveScheduleLambdaFunction");
    const mappings = resourcesOfType("AWS::Lambda::EventSourceMapping").map(([, r]) =>
      JSON.stringify(r.Properties),
    );
    expect(
      mappings.some((m) => m.includes("ArchiveScanQueue") && m.includes("ArchiveScheduleLambdaFunction")),
    ).toBe(true);
  });

  it("puts POST /webhooks/archive on its own intake function; the worker has no HTTP route", () => {
    const targets = resourcesOfType("AWS::ApiGatewayV2::Integration").map(([, r]) =>
      JSON.stringify(r.Properties.IntegrationUri),
    );
    expect(targets.some((t) => t.includes('"ArchiveIntakeLambdaFunction"'))).toBe(true);
    expect(targets.some((t) => t.includes('"ArchiveLambdaFunction"'))).toBe(false);
    const intakeRole = roleOf("ArchiveIntakeLambdaFunction");
    expect(statementsOf(intakeRole).flatMap((st) => [st.Action].flat())).not.toContainEqual(
      expect.stringMatching(/^s3:/),
    );
    const workerEnv = template.Resources.ArchiveLambdaFunction?.Properties.Environment as {
      Variables: Record<string, unknown>;
    };
    expect(Object.keys(workerEnv.Variables).filter((name) => name.startsWith("WEBHOOK_SECRET"))).toEqual([]);
  });

  it("throttles the HTTP API with the stage file's rate and burst", () => {
    const stage = template.Resources.HttpApiStage?.Properties as {
      DefaultRouteSettings: { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
    };
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 });
  });

  it("lets the worker delete object versions under the prefix only, and expires old checkpoint versions in a day", () => {
    const statements = resourcesOfType("AWS::IAM::Role").flatMap(([, role]) => statementsOf(role));
    const deleting = statements.filter((st) => [st.Action].flat().includes("s3:DeleteObjectVersion"));
    expect(deleting).toHaveLength(1);
    expect(JSON.stringify(deleting[0]?.Resource)).toBe(
      JSON.stringify({ "Fn::Sub": `\${ArchiveBucket.Arn}/dingtalk/*` }),
    );
    expect(JSON.stringify(roleOf("ArchiveLambdaFunction").Properties.Policies)).toContain(
      "s3:DeleteObjectVersion",
    );
    const bucket = template.Resources.ArchiveBucket as Resource;
    const { Rules: rules } = bucket.Properties.LifecycleConfiguration as {
      Rules: Array<Record<string, unknown>>;
    };
    expect(rules).toContainEqual(
      expect.objectContaining({
        Prefix: "dingtalk/.checkpoints/",
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      }),
    );
  });

  it("alarms on each function's errors, each work queue's oldest message and the schedule's failures", () => {
    const alarms = resourcesOfType("AWS::CloudWatch::Alarm").map(([, r]) => r.Properties);
    const watched = (namespace: string, metric: string) =>
      alarms
        .filter((a) => a.Namespace === namespace && a.MetricName === metric)
        .map((a) => JSON.stringify(a.Dimensions));
    for (const fn of resourcesOfType("AWS::Lambda::Function").map(([id]) => id)) {
      expect(
        watched("AWS/Lambda", "Errors").some((d) => d.includes(`"${fn}"`)),
        fn,
      ).toBe(true);
    }
    const ages = watched("AWS/SQS", "ApproximateAgeOfOldestMessage");
    for (const queue of ["ArchiveQueue", "SendLinkQueue", "ArchiveScanQueue"]) {
      expect(
        ages.some((d) => d.includes(`"${queue}"`)),
        queue,
      ).toBe(true);
    }
    expect(watched("AWS/Events", "FailedInvocations").join()).toContain("ArchiveScheduleEventsRuleSchedule1");
    for (const alarm of alarms) expect(JSON.stringify(alarm.AlarmActions)).toContain("AlarmTopic");
  });

  it("has one dashboard with the functions' metrics, errors and queue ages", () => {
    const dashboards = resourcesOfType("AWS::CloudWatch::Dashboard");
    expect(dashboards).toHaveLength(1);
    const [, dashboard] = dashboards[0] as [string, Resource];
    const [body, names] = (dashboard.Properties.DashboardBody as { "Fn::Sub": [string, object] })["Fn::Sub"];
    // Valid JSON once CloudFormation substitutes the names.
    const widgets = JSON.parse(body.replace(/\$\{[^}]+\}/g, "x")).widgets as unknown[];
    expect(widgets.length).toBeGreaterThanOrEqual(6);
    for (const metric of [
      "FilesArchived",
      "ArchivedBytes",
      "ArchiveSeconds",
      "ArchiveFailures",
      "LinksSent",
      "LinksFailed",
      "PushesReceived",
      "DingTalkCalls",
      "DingTalkBudgetLeft",
      "ApproximateAgeOfOldestMessage",
      "Errors",
    ]) {
      expect(body, metric).toContain(metric);
    }
    // DingTalk calls are searched by the dimensions lib/budget/meter.ts emits them with.
    expect(body).toMatch(/,api,function,service\} MetricName=\\"DingTalkCalls\\"/);
    for (const fn of resourcesOfType("AWS::Lambda::Function").map(([id]) => id)) {
      expect(JSON.stringify(names), fn).toContain(`"${fn}"`);
    }
  });

  it("offers no Secrets Manager option: no function may read it and no variable names it", () => {
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/secretsmanager/i);
  });

  it("alarms on every dead-letter queue", () => {
    const dlqs = Object.keys(template.Resources).filter((id) => id.endsWith("DeadLetterQueue"));
    const alarmed = resourcesOfType("AWS::CloudWatch::Alarm").map(([, r]) =>
      JSON.stringify((r.Properties.Dimensions as unknown[])[0]),
    );
    expect(dlqs.length).toBeGreaterThanOrEqual(2);
    for (const dlq of dlqs) expect(alarmed.some((dimension) => dimension.includes(dlq))).toBe(true);
  });
});

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
type Resource = { Type: string; Properties: Record<string, unknown> };

function statementsOf(role: Resource): Statement[] {
  const policies = (role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>) ?? [];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

function roleOf(fn: string): Resource {
  const role = template.Resources[fn]?.Properties.Role as { "Fn::GetAtt": [string, string] };
  return template.Resources[role["Fn::GetAtt"][0]] as Resource;
}

function actionsOf(role: Resource): string[] {
  return statementsOf(role).flatMap((statement) => [statement.Action].flat());
}

describe("serverless package of a stage without its settings file", () => {
  it("fails before CloudFormation, naming every missing setting", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "sls-package-missing-"));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: "1" };
      for (const name of Object.keys(env)) if (name.startsWith("AWS_")) delete env[name];
      const failed = run(
        process.execPath,
        [
          "node_modules/serverless/bin/serverless.js",
          "package",
          "--stage",
          "nosuchstage",
          "--package",
          outDir,
        ],
        { env, timeout: 120_000 },
      );
      const error = (await failed.then(
        () => undefined,
        (e: unknown) => e,
      )) as { stdout: string; stderr: string } | undefined;
      expect(error, "packaging must fail").toBeDefined();
      const output = `${error?.stdout}${error?.stderr}`;
      for (const setting of ["dingtalkAppKey", "dingtalkUnionId", "archiveSources"]) {
        expect(output).toContain(`${setting} is required`);
      }
      expect(output).toContain("stages/nosuchstage.yml");
      expect(await readdir(outDir)).toEqual([]);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }, 150_000);
});
