import type { Env } from "./config";

/**
 * Bridge until lib/config reads per-endpoint webhook secrets itself (issue 13's runtime half): serverless.yml
 * gives each endpoint its own secret, WEBHOOK_SECRET_SEND_LINK / WEBHOOK_SECRET_ARCHIVE (value or
 * `_PARAMETER`), so a body signed for one endpoint is refused at the other. This presents the endpoint's
 * secret as the WEBHOOK_SECRET that loadWebhookConfig reads; with neither set, the environment is unchanged.
 */
export function webhookEnvFor(endpoint: "SEND_LINK" | "ARCHIVE", env: Env): Env {
  const value = env[`WEBHOOK_SECRET_${endpoint}`] || undefined;
  const parameter = env[`WEBHOOK_SECRET_${endpoint}_PARAMETER`] || undefined;
  if (value === undefined && parameter === undefined) return env;
  return { ...env, WEBHOOK_SECRET: value, WEBHOOK_SECRET_PARAMETER: parameter };
}
