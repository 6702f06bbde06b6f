/**
 * SQS, EventBridge and SNS events into both workers (functions/send-link, functions/archive) against the
 * sandbox, fauxqs and dynalite: random records, random bodies, envelopes nested wrongly (SNS in EventBridge,
 * a Message that is not a string, EventBridge without detail, SNS in SNS in SNS...).
 *
 * Properties:
 * - SQS: the handler never throws for a malformed record; every record succeeds, is dead-lettered with a
 *   reason, or is reported as a batch item failure; a record that can never be a valid request is
 *   dead-lettered with its body and a reason, never "succeeds".
 * - EventBridge / SNS / direct invokes (no batch to report into): the handler resolves, or rejects with an
 *   error of our contract whose message names the problem — never a TypeError from reading a missing field.
 */

import type { EventBridgeEvent, Handler, SQSBatchResponse } from "aws-lambda";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ArchiveError } from "../../lib/archive";
import { archiveJobSchema } from "../../lib/archive-worker/archive-job";
import { DingTalkError } from "../../lib/dingtalk";
import { AppError } from "../../lib/errors";
import type * as z from "../../lib/schema";
import { sendLinkRequestSchema } from "../../lib/send-link/send-link";
import { unwrapMessageBody } from "../../lib/triggers/detect";
import { invoke, QUEUES, sqsEvent, useHandler, useStack, watchRejections } from "../support/handler-stack";
import { sampleEvent } from "../support/lambda";
import { REAL_IDS } from "../support/real-ids";
import {
  edgeNumber,
  hostileString,
  jsonWithKeys,
  POLLUTION_KEYS,
  prototypeSnapshot,
  runs,
} from "./arbitraries";

type Worker = "send-link" | "archive";

let fileId: string;
const prototypeBefore = prototypeSnapshot();
const rejections = watchRejections();
afterEach(() => rejections.check());

const stack = useStack();
const handlers: Record<Worker, Handler> = {
  "send-link": useHandler("send-link"),
  archive: useHandler("archive"),
};
beforeAll(async () => {
  fileId = stack.sandbox.dentryIdByPath("README.txt") as string;
});

afterAll(async () => {
  rejections.stop();
  expect(prototypeSnapshot()).toEqual(prototypeBefore);
});

const DLQ: Record<Worker, string> = { "send-link": QUEUES.sendLinkDlq, archive: QUEUES.archiveDlq };
const SCHEMA: Record<Worker, z.ZodMiniType> = {
  "send-link": sendLinkRequestSchema,
  archive: archiveJobSchema,
};
const worker = fc.constantFrom<Worker>("send-link", "archive");

let counter = 0;
const unique = (what: string) => `${what}-${++counter}`;

// ── payloads and envelopes ─────────────────────────────────────────────────────────────────────────

const id = fc.oneof(
  fc.constantFrom("sandbox-space", "cid-sandbox", "sandbox-union", "", ".", "..", "\ud800", "404404"),
  fc.constantFrom(...REAL_IDS.all),
  hostileString(12),
  edgeNumber,
);

/** A request as another system might send it: valid, nearly valid, or anything. */
function payload(w: Worker): fc.Arbitrary<unknown> {
  const valid =
    w === "send-link"
      ? fc
          .constant(null)
          .map(() => ({ spaceId: "sandbox-space", dentryId: fileId, openConversationId: "cid-sandbox" }))
      : fc.constant(null).map(() => ({ spaceId: "sandbox-space", dentryId: fileId }));
  const fields =
    w === "send-link"
      ? ["spaceId", "dentryId", "openConversationId", "unionId"]
      : ["spaceId", "dentryId", "unionId", "version", "jobId"];
  const nearly = fc
    .tuple(valid, fc.constantFrom(...fields, ...POLLUTION_KEYS), fc.oneof(id, fc.constant(undefined)))
    .map(([v, key, value]) => {
      const copy: Record<string, unknown> = { ...v };
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
      return JSON.parse(JSON.stringify(copy)) as unknown;
    });
  const shaped = fc.dictionary(fc.constantFrom(...fields), id, { maxKeys: fields.length });
  return fc.oneof(valid, nearly, shaped, jsonWithKeys(fields, 2));
}

const detailType = (w: Worker) =>
  fc.oneof(fc.constant(w === "send-link" ? "SendLinkRequested" : "ArchiveRequested"), hostileString(10));

/** The body of a queue message: the payload itself or wrapped, possibly wrongly, possibly not JSON. */
function body(w: Worker): fc.Arbitrary<string> {
  const p = payload(w);
  const eventBridge = (detail: fc.Arbitrary<unknown>) =>
    fc.record({
      version: fc.constant("0"),
      id: fc.uuid(),
      "detail-type": detailType(w),
      source: fc.constantFrom("ci", "aws.events"),
      detail,
    });
  const sns = (message: fc.Arbitrary<unknown>) =>
    fc.record({
      Type: fc.constantFrom("Notification", "notification", "SubscriptionConfirmation"),
      MessageId: fc.uuid(),
      Message: message,
    });
  const text = (value: fc.Arbitrary<unknown>) => value.map((v) => JSON.stringify(v) ?? "null");
  return fc.oneof(
    { weight: 3, arbitrary: text(p) },
    { weight: 2, arbitrary: text(eventBridge(p)) },
    { weight: 2, arbitrary: text(sns(text(p))) },
    { weight: 1, arbitrary: text(sns(text(eventBridge(p)))) },
    { weight: 1, arbitrary: text(sns(text(sns(text(sns(text(p))))))) },
    // nested wrongly: SNS inside EventBridge, a Message that is an object, EventBridge without detail
    { weight: 1, arbitrary: text(eventBridge(sns(text(p)))) },
    { weight: 1, arbitrary: text(sns(p)) },
    { weight: 1, arbitrary: text(eventBridge(p).map(({ detail: _, ...rest }) => rest)) },
    { weight: 1, arbitrary: text(sns(hostileString(30))) },
    {
      weight: 1,
      arbitrary: fc.oneof(hostileString(40), fc.constantFrom("", "{", "null", "1e999", "[]", '"x"')),
    },
  );
}

/** Whether a body can ever be a valid request (the lib's own unwrapping and schema: the handler's contract). */
function couldBeValid(w: Worker, text: string): boolean {
  try {
    return SCHEMA[w].safeParse(unwrapMessageBody(text).payload).success;
  } catch {
    return false;
  }
}

interface DeadLetter {
  body?: string;
  job?: Record<string, unknown>;
  error?: { code?: unknown; message?: unknown };
}

// ── SQS ──────────────────────────────────────────────────────────────────────────────────────────

describe("SQS batches with random records", () => {
  it("never throw; each record succeeds, is dead-lettered with a reason, or fails alone; invalid ones are dead-lettered", async () => {
    const batch = worker.chain((w) =>
      fc.tuple(fc.constant(w), fc.array(body(w), { minLength: 1, maxLength: 5 })),
    );
    await fc.assert(
      fc.asyncProperty(batch, async ([w, bodies]) => {
        stack.emulator.reset();
        const event = sqsEvent(bodies, unique("batch"));
        const ids = event.Records.map((r) => r.messageId);
        const result = await invoke<SQSBatchResponse>(handlers[w], event);

        const failed = result.batchItemFailures.map((f) => f.itemIdentifier);
        expect(new Set(failed).size).toBe(failed.length);
        for (const f of failed) expect(ids).toContain(f);

        const dead = stack.messages(DLQ[w]) as DeadLetter[];
        for (const letter of dead) {
          expect(typeof letter.error?.code === "string" && letter.error.code !== "").toBe(true);
          expect(typeof letter.error?.message === "string" && letter.error.message !== "").toBe(true);
          expect(typeof letter.body === "string" || typeof letter.job === "object").toBe(true);
        }
        expect(dead.length + failed.length).toBeLessThanOrEqual(bodies.length);

        // A record that can never be valid is parked with its body and the reason, and does not fail the batch.
        const deadBodies = dead.flatMap((d) => (typeof d.body === "string" ? [d.body] : []));
        event.Records.forEach((record, i) => {
          if (couldBeValid(w, bodies[i] as string)) return;
          expect(failed).not.toContain(record.messageId);
          const at = deadBodies.indexOf(record.body);
          expect(at, `record ${i} was not dead-lettered`).toBeGreaterThanOrEqual(0);
          deadBodies.splice(at, 1);
        });
      }),
      runs(150),
    );
  });
});

// ── EventBridge, SNS, direct ──────────────────────────────────────────────────────────────────────

/** Resolves, or rejects with an error of our contract naming the problem. */
async function resolvesOrNamesTheProblem(handler: Handler, event: unknown) {
  try {
    await invoke(handler, event);
  } catch (error) {
    // Ours (AppError, ArchiveError), DingTalk's refusal as the client reports it, or Powertools idempotency's.
    const ours =
      error instanceof AppError ||
      error instanceof ArchiveError ||
      error instanceof DingTalkError ||
      (error instanceof Error && error.name.startsWith("Idempotency"));
    expect(ours, String(error)).toBe(true);
    const e = error as Error;
    expect(e.message).not.toMatch(/Cannot read|undefined|is not a function/);
    expect(e.message.length).toBeGreaterThan(10);
  }
}

describe("EventBridge, SNS and direct invokes", () => {
  it("EventBridge events with random detail, detail-type and id", async () => {
    const sample = sampleEvent<EventBridgeEvent<string, unknown>>("send-link.eventbridge.json");
    await fc.assert(
      fc.asyncProperty(
        worker.chain((w) =>
          fc.tuple(
            fc.constant(w),
            payload(w),
            detailType(w),
            fc.oneof(fc.uuid(), hostileString(10).filter(Boolean)),
          ),
        ),
        async ([w, detail, type, eventId]) => {
          await resolvesOrNamesTheProblem(handlers[w], {
            ...sample,
            id: `${eventId}-${unique("e")}`,
            "detail-type": type,
            detail,
          });
        },
      ),
      runs(150),
    );
  });

  it("SNS events: random messages, missing or mistyped fields", async () => {
    const snsRecord = (w: Worker) =>
      fc.record(
        {
          EventSource: fc.constant("aws:sns"),
          EventVersion: fc.constant("1.0"),
          Sns: fc.record(
            {
              Type: fc.constant("Notification"),
              MessageId: fc.oneof(fc.uuid(), edgeNumber),
              Message: fc.oneof(body(w), payload(w), fc.constant(null)),
            },
            { requiredKeys: ["Type"] },
          ),
        },
        { requiredKeys: ["EventSource"] },
      );
    await fc.assert(
      fc.asyncProperty(
        worker.chain((w) => fc.tuple(fc.constant(w), fc.array(snsRecord(w), { minLength: 1, maxLength: 2 }))),
        async ([w, records]) => {
          await resolvesOrNamesTheProblem(handlers[w], { Records: records });
        },
      ),
      runs(150),
    );
  });

  it("anything else invoked directly", async () => {
    const fields = [
      "Records",
      "detail-type",
      "detail",
      "id",
      "requestContext",
      "spaceId",
      "dentryId",
      "Type",
      "Message",
    ];
    await fc.assert(
      fc.asyncProperty(worker, jsonWithKeys(fields, 3), async (w, event) => {
        await resolvesOrNamesTheProblem(handlers[w], event);
      }),
      runs(200),
    );
  });
});
