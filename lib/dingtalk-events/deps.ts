import { randomUUID } from "node:crypto";
import { createSqsClient } from "../aws";
import { type Env, loadIdempotencyConfig, loadSections, resolveSecret } from "../config";
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

/** Build the function's keys and clients once per container (the secrets come from SSM in AWS). */
export async function createDingTalkEventsDeps(settings: DingTalkEventsSettings): Promise<PushDeps> {
  const { events } = settings;
  const [token, aesKey] = await Promise.all([
    resolveSecret(events.token, "DINGTALK_EVENT_TOKEN"),
    resolveSecret(events.aesKey, "DINGTALK_EVENT_AES_KEY"),
  ]);
  const sqs = createSqsClient();
  return {
    keys: callbackKeys(token, aesKey, events.ownerKey),
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
    archiveSpaces: events.archiveSpaces && new Set(events.archiveSpaces),
  };
}
