import type * as Lambda from "aws-lambda";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256OfGenerated } from "../../sandbox/content";
import { buildPush, openReply, storageEvent } from "../../sandbox/push";
import type { Sandbox } from "../../sandbox/server";
import { pushHttpEvent } from "../dingtalk-events/helpers";
import {
  BUCKET,
  EVENT_KEYS,
  invoke,
  PREFIX,
  QUEUES,
  sqsEvent,
  useHandler,
  useStack,
  WEBHOOK_SECRETS,
} from "../support/handler-stack";
import { sampleEvent, signedHttpEvent } from "../support/lambda";
import { REAL_IDS, REAL_SANDBOX_IDS } from "../support/real-ids";
import { sha256OfObject } from "../support/world";

const FILE = { name: "real-ids.bin", size: 70_001, seed: "real-ids" };

let sandbox: Sandbox;
let dentryId: string;

const stack = useStack({ sandbox: { ...REAL_SANDBOX_IDS, generatedFiles: [FILE] } });
const archive = useHandler("archive");
const archiveIntake = useHandler("archive-intake");
const events = useHandler("dingtalk-events");
beforeAll(async () => {
  sandbox = stack.sandbox;
  dentryId = sandbox.dentryIdByPath(FILE.name) as string;
});
beforeEach(() => stack.emulator.reset());

const request = () => ({ spaceId: REAL_SANDBOX_IDS.spaceId, dentryId, unionId: REAL_SANDBOX_IDS.unionId });
const key = () => `${PREFIX}${REAL_SANDBOX_IDS.spaceId}/${dentryId}/v1/${FILE.name}`;

const storedSha256 = async () => (await sha256OfObject(stack.s3, BUCKET, key())).sha256;

const sqsEventOf = (body: unknown): Lambda.SQSEvent => sqsEvent([JSON.stringify(body)], `m-${Math.random()}`);

describe("archive entry points with real DingTalk ids", () => {
  it("webhook → queue → worker: the ids arrive unchanged and name the S3 key", async () => {
    const body = JSON.stringify(request());
    const answer = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(
      archiveIntake,
      signedHttpEvent(WEBHOOK_SECRETS.archive, body, { sample: "archive-intake.http.json" }),
    );
    expect(answer.statusCode).toBe(202);
    const jobs = stack.messages(QUEUES.archive) as Array<Record<string, unknown>>;
    expect(jobs).toEqual([{ ...request(), jobId: expect.any(String) }]);
    const result = await invoke<Lambda.SQSBatchResponse>(archive, sqsEventOf(jobs[0]), 600_000);
    expect(result.batchItemFailures).toEqual([]);
    expect(await storedSha256()).toBe(await sha256OfGenerated(FILE.seed, FILE.size));
  });

  it("the bus (ArchiveRequested) takes the same ids", async () => {
    const sample = sampleEvent<Lambda.EventBridgeEvent<string, unknown>>("archive.eventbridge.json");
    const result = await invoke<{ status: string; key: string }>(
      archive,
      { ...sample, id: `evt-${Math.random()}`, detail: request() },
      600_000,
    );
    expect(["archived", "skipped"]).toContain(result.status);
    expect(result.key).toBe(key());
  });

  it("DingTalk's push with real ids (corp, union, space) queues one job with them unchanged", async () => {
    const event = {
      ...storageEvent("storage_dentry_create", {
        spaceId: REAL_SANDBOX_IDS.spaceId,
        dentryId,
        unionId: REAL_SANDBOX_IDS.unionId,
      }),
      CorpId: REAL_IDS.corpIds[0],
    };
    const built = buildPush(event, EVENT_KEYS);
    const answer = await invoke<Lambda.APIGatewayProxyStructuredResultV2>(events, pushHttpEvent(built));
    expect(answer.statusCode).toBe(200);
    expect(openReply(JSON.parse(answer.body as string), EVENT_KEYS)).toBe("success");
    expect(stack.messages(QUEUES.archive)).toEqual([{ ...request(), jobId: expect.any(String) }]);
  });

  it.each([...REAL_IDS.spaceIds, ...REAL_IDS.conversationIds])(
    "an unknown space %s reaches DingTalk and is DingTalk's 404, dead-lettered with it",
    async (spaceId) => {
      const result = await invoke<Lambda.SQSBatchResponse>(archive, sqsEventOf({ ...request(), spaceId }));
      expect(result.batchItemFailures).toEqual([]);
      const dead = stack.messages(QUEUES.archiveDlq) as Array<{
        job: { spaceId: string };
        error: { code: string };
      }>;
      if (spaceId === REAL_SANDBOX_IDS.spaceId) expect(dead).toEqual([]);
      else
        expect(dead).toEqual([
          {
            job: expect.objectContaining({ spaceId }),
            error: expect.objectContaining({ code: "spaceNotExist" }),
          },
        ]);
    },
  );
});
