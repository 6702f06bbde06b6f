import { loadBudgetConfig } from "../budget/config";
import {
  loadDingTalkConfig,
  loadIdempotencyConfig,
  loadSendLinkQueueConfig,
  loadWebhookConfig,
  settingsLoader,
} from "../config";

/** Everything send-link needs from the environment, validated at once (cold start). */
export const loadSendLinkSettings = settingsLoader({
  dingtalk: loadDingTalkConfig,
  webhook: (env) => loadWebhookConfig("send-link", env),
  idempotency: loadIdempotencyConfig,
  queue: loadSendLinkQueueConfig,
  budget: loadBudgetConfig,
});

export type SendLinkSettings = ReturnType<typeof loadSendLinkSettings>;
