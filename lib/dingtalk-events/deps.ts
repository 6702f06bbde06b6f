import { randomUUID } from "node:crypto";
import { createSqsClient } from "../aws";
import {
  ConfigError,
  type Env,
  loadIdempotencyConfig,
  loadSections,
  loadUnionIdPolicy,
  secretReader,
} from "../config";
import { idempotentByKey } from "../idempotency";
import { enqueue } from "../jobs/queue";
import { loadDingTalkEventsConfig } from "./config";
import { callbackKeys } from "./crypto";
import type { PushDeps } from "./handle-push";

/** Everything the dingtalk-events function needs from the environment, validated at once (cold start). */
export function loadDingTalkEventsSettings(env: Env = process.env) {
  const settings = loadSections({
    events: () => loadDingTalkEventsConfig(env),
    idempotency: () => loadIdempotencyConfig(env),
    operators: () => loadUnionIdPolicy(env),
  });
  // A push is accepted up to maxSkew either side of its timestamp: a replay can come 2 x maxSkew after the
  // first delivery, and must still find the idempotency record.
  const window = (2 * settings.events.maxSkewMs) / 1000;
  if (settings.idempotency.expiresAfterSeconds < window) {
    throw new ConfigError([
      `IDEMPOTENCY_TTL_SECONDS must be at least twice DINGTALK_EVENT_MAX_SKEW_SECONDS (${window} s; got ${settings.idempotency.expiresAfterSeconds})`,
    ]);
  }
  return settings;
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
    allowedUnionIds: settings.operators.allowedUnionIds,
    maxBodyBytes: events.maxBodyBytes,
    archiveSpaces: events.archiveSpaces && new Set(events.archiveSpaces),
  };
}
