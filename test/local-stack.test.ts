/**
 * `npm start` as a user runs it: the local stack in a child process (sandbox, fauxqs, dynalite,
 * serverless-offline with the esbuild bundles), on free ports. A signed send-link request returns the
 * file object; a signed archive request and a DingTalk push flow through the local SQS queue to objects
 * in local S3.
 */
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openReply, pushEvent, SANDBOX_EVENT_KEYS, storageEvent } from "../sandbox/push";
import {
  dentryIdOf,
  LOCAL_BUCKET,
  type LocalStack,
  signedPost,
  startLocalStack,
} from "./support/local-stack";

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack();
}, 200_000);

afterAll(async () => {
  await stack?.stop();
});

/** The object's size once the worker has put it in local S3 (polled for up to a minute). */
async function waitForObject(key: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const size = await stack.s3
      .send(new HeadObjectCommand({ Bucket: LOCAL_BUCKET, Key: key }))
      .then((head) => head.ContentLength)
      .catch(() => undefined);
    if (size !== undefined) return size;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: LOCAL_BUCKET }));
  const keys = JSON.stringify(listed.Contents?.map((o) => o.Key));
  throw new Error(`no ${key}; objects: ${keys}\n${stack.output().slice(-3000)}`);
}

describe("npm start (the local stack)", () => {
  it("answers a signed send-link request with DingTalk's file object", async () => {
    const dentryId = await dentryIdOf(stack, "README.txt");
    const answer = await signedPost(stack, "/webhooks/send-link", {
      spaceId: "sandbox-space",
      dentryId,
      openConversationId: "cid-sandbox",
    });
    expect(answer.status).toBe(200);
    expect(answer.body.file).toMatchObject({
      id: dentryId,
      name: "README.txt",
      conversationId: "cid-sandbox",
    });
  });

  it("refuses an unsigned request with 401 in the error contract", async () => {
    const response = await fetch(`${stack.httpUrl}/webhooks/send-link`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "InvalidSignature" } });
  });

  it("takes DingTalk's encrypted storage-event push and archives the file it names", async () => {
    const dentryId = await dentryIdOf(stack, "données.csv");
    const event = storageEvent("storage_dentry_create", { spaceId: "sandbox-space", dentryId });
    const answer = await pushEvent(`${stack.httpUrl}/webhooks/dingtalk-events`, event, SANDBOX_EVENT_KEYS);
    expect(answer.status).toBe(200);
    expect(openReply(answer.body, SANDBOX_EVENT_KEYS)).toBe("success");
    expect(await waitForObject(`sandbox-space/${dentryId}/v1/données.csv`)).toBeGreaterThan(0);
  }, 90_000);

  it("queues a signed archive request and the worker, fed by the local queue, puts the file in local S3", async () => {
    const dentryId = await dentryIdOf(stack, "报告 2026.pdf");
    const answer = await signedPost(stack, "/webhooks/archive", { spaceId: "sandbox-space", dentryId });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: "queued", jobId: expect.any(String) });
    expect(await waitForObject(`sandbox-space/${dentryId}/v1/报告 2026.pdf`)).toBe(300_001);
  }, 90_000);
});
