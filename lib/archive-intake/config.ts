import {
  type Env,
  loadArchiveIntakeQueueConfig,
  loadIdempotencyConfig,
  loadSections,
  loadUnionIdPolicy,
  loadWebhookConfig,
} from "../config";

/** Everything the archive intake needs from the environment, validated at once (cold start). */
export function loadArchiveIntakeSettings(env: Env = process.env) {
  return loadSections({
    webhook: () => loadWebhookConfig("archive", env),
    // At least twice the webhook timestamp window (loadIdempotencyConfig checks), so a replay finds the record.
    idempotency: () => loadIdempotencyConfig(env),
    operators: () => loadUnionIdPolicy(env),
    queue: () => loadArchiveIntakeQueueConfig(env),
  });
}

export type ArchiveIntakeSettings = ReturnType<typeof loadArchiveIntakeSettings>;
