import { randomUUID } from "node:crypto";
import { createSqsClient } from "../aws";
import { type Env, loadIdempotencyConfig, loadSections, secretReader } from "../config";
import { idempotentByKey } from "../idempotency";
import { enqueue } from "../jobs/queue";
import { loadDingTalkEventsConfig } from "./config";
import { callbackKeys } from "./crypto";
import type { PushDeps } from "./handle-push";

/** Everything the dingtalk-events function needs from the environment, validated at once (cold start). */
export function loadDingTalkEventsSettings(env: Env = process.env) {
  return loadSections({
    events: () => loadDingTalkEventsConfig(env),
    idempotency: () => loadIdempotencyConfig(env),
  });
}

export type DingTalkEventsSettings = ReturnType<typeof loadDingTalkEventsSettings>;

/**
 * Build the function's clients once per container. The callback token and EncodingAESKey are read per push
 * through the secrets cache (SSM in AWS), so a rotation in DingTalk's console reaches warm containers.
 */
export async function createDingTalkEventsDeps(settings: DingTalkEventsSettings): Promise<PushDeps> {
  const { events } = settings;
  const token = secretReader(events.token);
  const aesKey = secretReader(events.aesKey);
  const read = async (fresh: boolean) => {
    const [t, k] = await Promise.all(
      fresh ? [token.refresh(), aesKey.refresh()] : [token.get(), aesKey.get()],
    );
    return callbackKeys(t, k, events.ownerKey);
  };
  const sqs = createSqsClient();
  return {
    keys: { get: () => read(false), refresh: () => read(true) },
    enqueueOnce: idempotentByKey(
      "dingtalk-event",
      async (request) => {
        const jobId = randomUUID();
        await enqueue(sqs, events.archiveQueueUrl, { ...request, jobId });
        return { jobId };
      },
      settings.idempotency,
    ),
    maxSkewMs: events.maxSkewMs,
    maxBodyBytes: events.maxBodyBytes,
  };
}
