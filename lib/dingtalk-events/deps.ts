import { enqueueArchiveJobOnce } from "../archive-worker/enqueue-once";
import { createSqsClient } from "../aws";
import { secretReader } from "../config";
import type { DingTalkEventsSettings } from "./config";
import { callbackKeys } from "./crypto";
import type { PushDeps } from "./handle";

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
    enqueueOnce: enqueueArchiveJobOnce("dingtalk-event", sqs, events.archiveQueueUrl, settings.idempotency),
    maxSkewMs: events.maxSkewMs,
    allowedUnionIds: settings.operators.allowedUnionIds,
    maxBodyBytes: events.maxBodyBytes,
    archiveSpaces: events.archiveSpaces && new Set(events.archiveSpaces),
  };
}
