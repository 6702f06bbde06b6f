import { loadBudgetConfig } from "../budget";
import {
  type Env,
  loadArchiveConfig,
  loadArchiveQueueConfig,
  loadDingTalkConfig,
  loadSections,
  loadTransferConfig,
} from "../config";

/**
 * Everything the archive worker needs from the environment, validated at once (cold start). Queue-only:
 * no webhook secret, no idempotency table (the intake and the event functions dedupe before queueing).
 */
export function loadArchiveSettings(env: Env = process.env) {
  return loadSections({
    dingtalk: () => loadDingTalkConfig(env),
    archive: () => loadArchiveConfig(env),
    transfer: () => loadTransferConfig(env),
    queue: () => loadArchiveQueueConfig(env),
    budget: () => loadBudgetConfig(env),
  });
}

export type ArchiveSettings = ReturnType<typeof loadArchiveSettings>;
