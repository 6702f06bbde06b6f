import { loadBudgetConfig } from "../budget";
import {
  loadArchiveConfig,
  loadArchiveQueueConfig,
  loadDingTalkConfig,
  loadTransferConfig,
  settingsLoader,
} from "../config";

/**
 * Everything the archive worker needs from the environment, validated at once (cold start). Queue-only:
 * no webhook secret, no idempotency table (the intake and the event functions dedupe before queueing).
 */
export const loadArchiveSettings = settingsLoader({
  dingtalk: loadDingTalkConfig,
  archive: loadArchiveConfig,
  transfer: loadTransferConfig,
  queue: loadArchiveQueueConfig,
  budget: loadBudgetConfig,
});

export type ArchiveSettings = ReturnType<typeof loadArchiveSettings>;
