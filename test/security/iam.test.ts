import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverlessPackage } from "../support/run-process";

const PREFIX = "dingtalk/";
const SECRETS = "/dingtalk-file-bridge/dev";

interface Statement {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}
type Resource = { Type: string; Properties: Record<string, unknown> };

let outDir: string;
let resources: Record<string, Resource>;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "sls-iam-"));
  const template = await serverlessPackage(outDir, { workFolder: ".esbuild-iam-test" });
  resources = template.Resources;
}, 200_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const text = (value: unknown) => JSON.stringify(value);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** Each function with its role's statements and its own names. */
function functions() {
  return ofType("AWS::Lambda::Function").map(([id, fn]) => {
    const roleId = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const role = resources[roleId] as Resource;
    const policies =
      (role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>) ?? [];
    const name = id.replace(/LambdaFunction$/, ""); // SendLink, Archive, DingtalkEvents...
    const sources = ofType("AWS::Lambda::EventSourceMapping")
      .filter(([, m]) => text(m.Properties.FunctionName).includes(`"${id}"`))
      .map(([, m]) => text(m.Properties.EventSourceArn));
    return {
      id,
      name,
      functionName: fn.Properties.FunctionName as string,
      roleId,
      role,
      statements: policies.flatMap((p) => p.PolicyDocument.Statement),
      sources,
    };
  });
}

const statementsWith = (statements: Statement[], test: (action: string) => boolean) =>
  statements.filter((s) => list(s.Action).some(test));

/** What each function of this issue may send to, read and hold (other functions get the generic checks). */
const EXPECTED: Record<string, { send: string[]; secrets: string[]; s3: boolean; table: boolean }> = {
  SendLink: {
    send: ["SendLinkDeadLetterQueue"],
    secrets: [
      `${SECRETS}/dingtalk-app-secret`,
      `${SECRETS}/webhook-secret-send-link`,
      `${SECRETS}/webhook-secret-send-link-previous`,
    ],
    s3: false,
    table: true,
  },
  ArchiveIntake: {
    send: ["ArchiveQueue"],
    secrets: [`${SECRETS}/webhook-secret-archive`, `${SECRETS}/webhook-secret-archive-previous`],
    s3: false,
    table: true,
  },
  // Queue-only: no webhook secret; the table only for the monthly call budget (UpdateItem).
  Archive: {
    send: ["ArchiveQueue", "ArchiveDeadLetterQueue"],
    secrets: [`${SECRETS}/dingtalk-app-secret`],
    s3: true,
    table: true,
  },
  DingtalkEvents: {
    send: ["ArchiveQueue"],
    secrets: [`${SECRETS}/dingtalk-event-token`, `${SECRETS}/dingtalk-event-aes-key`],
    s3: false,
    table: true,
  },
};

describe("IAM in the packaged template (prefix and secret names set at deploy time)", () => {
  it("gives every function a role of its own that only Lambda can assume, with no managed policies", () => {
    const fns = functions();
    expect(fns.map((f) => f.name)).toEqual(expect.arrayContaining(Object.keys(EXPECTED)));
    expect(new Set(fns.map((f) => f.roleId)).size).toBe(fns.length);
    for (const fn of fns) {
      expect(fn.roleId.startsWith(fn.name), `${fn.id} uses ${fn.roleId}`).toBe(true);
      expect(text(fn.role.Properties.AssumeRolePolicyDocument)).toBe(
        text({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com"] }, Action: ["sts:AssumeRole"] },
          ],
        }),
      );
      expect(list(fn.role.Properties.ManagedPolicyArns)).toEqual([]);
    }
  });

  it("allows only named actions of the services the code uses, never NotAction/NotResource or IAM/KMS/STS/Lambda", () => {
    for (const [id, resource] of ofType("AWS::IAM::Role")) {
      const policies =
        (resource.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>) ?? [];
      for (const statement of policies.flatMap((p) => p.PolicyDocument.Statement)) {
        expect(statement.Effect, id).toBe("Allow");
        expect(statement.NotAction, id).toBeUndefined();
        expect(statement.NotResource, id).toBeUndefined();
        for (const action of list(statement.Action)) {
          expect(action, id).toMatch(/^(logs|sqs|dynamodb|ssm|s3):[A-Za-z]+$/);
        }
      }
    }
    expect(ofType("AWS::IAM::Policy")).toEqual([]);
    expect(ofType("AWS::IAM::ManagedPolicy")).toEqual([]);
    expect(ofType("AWS::IAM::User")).toEqual([]);
  });

  it("lets each function write only its own log group", () => {
    for (const fn of functions()) {
      for (const statement of statementsWith(fn.statements, (a) => a.startsWith("logs:"))) {
        for (const resource of list(statement.Resource)) {
          const arn = (resource as { "Fn::Sub": string })["Fn::Sub"];
          expect(arn, fn.id).toMatch(
            new RegExp(`:log-group:/aws/lambda/${fn.functionName.replace(/[-]/g, "\\-")}(:\\*){1,2}$`),
          );
        }
      }
    }
  });

  it("scopes object access to the archive prefix, and listing to the prefix (but for the worker's HeadObject)", () => {
    for (const fn of functions()) {
      for (const statement of statementsWith(fn.statements, (a) => a.startsWith("s3:"))) {
        const actions = list(statement.Action);
        if (actions.includes("s3:ListBucket")) {
          expect(actions, fn.id).toEqual(["s3:ListBucket"]);
          expect(text(statement.Resource)).toBe(text({ "Fn::GetAtt": ["ArchiveBucket", "Arn"] }));
          const prefix = statement.Condition?.StringLike?.["s3:prefix"];
          if (prefix === undefined) {
            // Documented in serverless.yml: HeadObject answers 404 for a missing key only with ListBucket, and
            // S3 evaluates no s3:prefix for it. Only the archive worker has it; it reveals key names, not content.
            expect(fn.name).toBe("Archive");
            expect(statement.Condition).toBeUndefined();
          } else {
            expect(prefix).toEqual([`${PREFIX}*`]);
          }
        } else {
          expect(text(statement.Resource), fn.id).toBe(
            text({ "Fn::Sub": `\${ArchiveBucket.Arn}/${PREFIX}*` }),
          );
          for (const action of actions) {
            expect([
              "s3:GetObject",
              "s3:PutObject",
              "s3:DeleteObject",
              "s3:DeleteObjectVersion",
              "s3:AbortMultipartUpload",
            ]).toContain(action);
          }
        }
      }
      const expected = EXPECTED[fn.name];
      if (expected && !expected.s3)
        expect(
          statementsWith(fn.statements, (a) => a.startsWith("s3:")),
          fn.id,
        ).toEqual([]);
    }
  });

  it("lets each function receive only from its own queue and send only to the queues it uses", () => {
    for (const fn of functions()) {
      const receive = statementsWith(fn.statements, (a) =>
        ["sqs:ReceiveMessage", "sqs:DeleteMessage"].includes(a),
      );
      for (const statement of receive) {
        for (const resource of list(statement.Resource)) expect(fn.sources, fn.id).toContain(text(resource));
      }
      const send = statementsWith(fn.statements, (a) => a === "sqs:SendMessage");
      const targets = send
        .flatMap((s) => list(s.Resource))
        .map((r) => (r as { "Fn::GetAtt": string[] })["Fn::GetAtt"]);
      for (const target of targets) {
        expect(target?.[1], fn.id).toBe("Arn");
        expect(resources[target?.[0] as string]?.Type, fn.id).toBe("AWS::SQS::Queue");
      }
      const expected = EXPECTED[fn.name];
      if (expected) expect(targets.map((t) => t[0]).sort(), fn.id).toEqual([...expected.send].sort());
    }
  });

  it("lets each function read only its own secrets, by exact parameter name", () => {
    for (const fn of functions()) {
      const ssm = statementsWith(fn.statements, (a) => a.startsWith("ssm:"));
      const names = ssm.flatMap((s) => {
        expect(list(s.Action)).toEqual(["ssm:GetParameter"]);
        return list(s.Resource).map((r) => {
          const arn = (r as { "Fn::Sub": string })["Fn::Sub"];
          expect(arn).toMatch(
            /^arn:\$\{AWS::Partition\}:ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter\//,
          );
          expect(arn).not.toMatch(/\*/);
          return arn.replace(/^.*:parameter/, "");
        });
      });
      const expected = EXPECTED[fn.name];
      if (expected) expect(names.sort(), fn.id).toEqual([...expected.secrets].sort());
    }
  });

  it("gives the idempotency table's items only, not its indexes or other tables", () => {
    for (const fn of functions()) {
      const dynamo = statementsWith(fn.statements, (a) => a.startsWith("dynamodb:"));
      for (const statement of dynamo) {
        expect(text(statement.Resource)).toBe(text({ "Fn::GetAtt": ["IdempotencyTable", "Arn"] }));
        // Item actions only (the worker has just UpdateItem, for the call budget): no Scan, Query, table admin.
        const itemActions = [
          "dynamodb:DeleteItem",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
        ];
        expect(list(statement.Action).length).toBeGreaterThan(0);
        for (const action of list(statement.Action)) expect(itemActions, fn.id).toContain(action);
      }
      const expected = EXPECTED[fn.name];
      if (expected) expect(dynamo, fn.id).toHaveLength(expected.table ? 1 : 0);
    }
  });

  it("lets only the project's rules and topics write to its queues, and only its API and rules invoke it", () => {
    for (const [id, policy] of ofType("AWS::SQS::QueuePolicy")) {
      const { Statement } = (policy.Properties.PolicyDocument as { Statement: Statement[] }) ?? {
        Statement: [],
      };
      for (const statement of Statement) {
        expect(text(statement.Principal), id).not.toMatch(/"\*"|"AWS"/);
        expect(list(statement.Action), id).toEqual(["sqs:SendMessage"]);
        expect(Object.keys(statement.Condition?.ArnEquals ?? {}), id).toEqual(["aws:SourceArn"]);
      }
    }
    for (const [id, permission] of ofType("AWS::Lambda::Permission")) {
      expect(permission.Properties.Principal, id).not.toBe("*");
      expect(permission.Properties.SourceArn, id).toBeDefined();
    }
  });
});
