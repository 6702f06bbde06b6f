import {
  loadArchiveIntakeQueueConfig,
  loadIdempotencyConfig,
  loadUnionIdPolicy,
  loadWebhookConfig,
  settingsLoader,
} from "../config";

/** Everything the archive intake needs from the environment, validated at once (cold start). */
export const loadArchiveIntakeSettings = settingsLoader({
  webhook: (env) => loadWebhookConfig("archive", env),
  // At least twice the webhook timestamp window (loadIdempotencyConfig checks), so a replay finds the record.
  idempotency: (env) => loadIdempotencyConfig(env),
  operators: loadUnionIdPolicy,
  queue: loadArchiveIntakeQueueConfig,
});

export type ArchiveIntakeSettings = ReturnType<typeof loadArchiveIntakeSettings>;
