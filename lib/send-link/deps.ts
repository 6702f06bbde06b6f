import { createSqsClient } from "../aws";
import {
  type Env,
  loadDingTalkConfig,
  loadIdempotencyConfig,
  loadSections,
  loadSendLinkQueueConfig,
  loadWebhookConfig,
  resolveSecret,
} from "../config";
import { dingTalkClientFromConfig } from "../dingtalk";
import { idempotentByKey } from "../idempotency";
import { logger } from "../logging";
import { webhookEnvFor } from "../webhook-endpoint";
import type { SendLinkEventDeps } from "./handle-event";
import { sendLink } from "./send-link";

/** Everything send-link needs from the environment, validated at once (cold start). */
export function loadSendLinkSettings(env: Env = process.env) {
  return loadSections({
    dingtalk: () => loadDingTalkConfig(env),
    webhook: () => loadWebhookConfig(webhookEnvFor("SEND_LINK", env)),
    idempotency: () => loadIdempotencyConfig(env),
    queue: () => loadSendLinkQueueConfig(env),
  });
}

export type SendLinkSettings = ReturnType<typeof loadSendLinkSettings>;

/** Build send-link's clients: secrets are read here (from SSM/Secrets Manager in AWS), once per container. */
export async function createSendLinkDeps(settings: SendLinkSettings): Promise<SendLinkEventDeps> {
  const [dingtalk, webhookSecret] = await Promise.all([
    dingTalkClientFromConfig(settings.dingtalk, logger),
    resolveSecret(settings.webhook.secret, "WEBHOOK_SECRET"),
  ]);
  const defaultUnionId = settings.dingtalk.defaultUnionId;
  return {
    sendLinkOnce: idempotentByKey(
      "send-link",
      (request) => sendLink(request, { dingtalk, defaultUnionId }),
      settings.idempotency,
    ),
    webhookSecret,
    maxBodyBytes: settings.webhook.maxBodyBytes,
    deadLetter: settings.queue.deadLetterQueueUrl
      ? { sqs: createSqsClient(), queueUrl: settings.queue.deadLetterQueueUrl }
      : undefined,
  };
}
