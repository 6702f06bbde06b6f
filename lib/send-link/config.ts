import { loadBudgetConfig } from "../budget";
import {
  type Env,
  loadDingTalkConfig,
  loadIdempotencyConfig,
  loadSections,
  loadSendLinkQueueConfig,
  loadWebhookConfig,
} from "../config";

/** Everything send-link needs from the environment, validated at once (cold start). */
export function loadSendLinkSettings(env: Env = process.env) {
  return loadSections({
    dingtalk: () => loadDingTalkConfig(env),
    webhook: () => loadWebhookConfig("send-link", env),
    idempotency: () => loadIdempotencyConfig(env),
    queue: () => loadSendLinkQueueConfig(env),
    budget: () => loadBudgetConfig(env),
  });
}

export type SendLinkSettings = ReturnType<typeof loadSendLinkSettings>;
