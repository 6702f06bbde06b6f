import { createSqsClient } from "../aws";
import { meteredDingTalkClient } from "../budget/metered-client";
import { idempotentByKey } from "../idempotency";
import { webhookSettings } from "../signatures/receive";
import type { SendLinkSettings } from "./config";
import type { SendLinkEventDeps } from "./handle";
import { sendLinkRecordingOutcome } from "./send-link";

/**
 * Build send-link's clients once per container. The secrets are not read here: the webhook secrets on every
 * request and the app secret on every token fetch, through the secrets cache, so they can rotate.
 */
export async function createSendLinkDeps(settings: SendLinkSettings): Promise<SendLinkEventDeps> {
  const dingtalk = await meteredDingTalkClient(settings, "send-link");
  const { defaultUnionId, allowedUnionIds } = settings.dingtalk;
  return {
    sendLinkOnce: idempotentByKey(
      "send-link",
      (request, deadline) =>
        sendLinkRecordingOutcome(request, { dingtalk, defaultUnionId, allowedUnionIds }, deadline),
      settings.idempotency,
    ),
    webhook: webhookSettings(settings.webhook),
    deadLetter: settings.queue.deadLetterQueueUrl
      ? { sqs: createSqsClient(), queueUrl: settings.queue.deadLetterQueueUrl }
      : undefined,
  };
}
