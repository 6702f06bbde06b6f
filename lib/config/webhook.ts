import * as z from "../schema";
import { optionalSecretSource, type SecretSource, secretSource } from "./secret-source";
import { type Env, finish, loadSection, nonEmpty, parseSection, wholeNumber } from "./section";

/** The endpoints that take Standard Webhooks; each has a secret of its own so a body signed for one is refused at the other. */
export type WebhookEndpoint = "send-link" | "archive";

const WEBHOOK_SECRET_VARIABLES: Record<WebhookEndpoint, string> = {
  "send-link": "WEBHOOK_SECRET_SEND_LINK",
  archive: "WEBHOOK_SECRET_ARCHIVE",
};

export interface WebhookConfig {
  endpoint: WebhookEndpoint;
  /** The secret senders sign with now. */
  secret: SecretSource;
  /** During a rotation, the secret being replaced: accepted while it is set. */
  previousSecret: SecretSource | undefined;
  /** Largest accepted request body; a webhook body is a few hundred bytes. */
  maxBodyBytes: number;
}

export function loadWebhookConfig(endpoint: WebhookEndpoint, env: Env = process.env): WebhookConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    { WEBHOOK_MAX_BODY_BYTES: z._default(wholeNumber(256, 1024 * 1024), 64 * 1024) },
    problems,
  );
  if (env.WEBHOOK_SECRET || env.WEBHOOK_SECRET_PARAMETER) {
    problems.push(
      "WEBHOOK_SECRET (and WEBHOOK_SECRET_PARAMETER) was split per endpoint: set WEBHOOK_SECRET_SEND_LINK and WEBHOOK_SECRET_ARCHIVE (or their _PARAMETER forms) instead",
    );
  }
  const variable = WEBHOOK_SECRET_VARIABLES[endpoint];
  const secret = secretSource(env, variable, problems);
  const previous = optionalSecretSource(env, `${variable}_PREVIOUS`, problems);
  return finish(problems, () => ({
    endpoint,
    secret: secret as SecretSource,
    previousSecret: previous ?? undefined,
    maxBodyBytes: section.WEBHOOK_MAX_BODY_BYTES,
  }));
}

/** Twice the webhook timestamp tolerance (±5 minutes, fixed by the Standard Webhooks library). */
export const MIN_IDEMPOTENCY_TTL_SECONDS = 2 * 300;

export interface IdempotencyConfig {
  /** DynamoDB table holding idempotency records (key attribute `id`). */
  tableName: string;
  /** How long a completed request is remembered, seconds. */
  expiresAfterSeconds: number;
}

export function loadIdempotencyConfig(env: Env = process.env): IdempotencyConfig {
  return loadSection(
    env,
    {
      IDEMPOTENCY_TABLE: nonEmpty,
      // A signed request is accepted from 5 minutes before its timestamp to 5 minutes after, so a captured one
      // can be replayed up to 10 minutes after it was first seen: its record must still be there.
      IDEMPOTENCY_TTL_SECONDS: z._default(
        wholeNumber(MIN_IDEMPOTENCY_TTL_SECONDS, 30 * 24 * 3600),
        24 * 3600,
      ),
    },
    (section) => ({
      tableName: section.IDEMPOTENCY_TABLE,
      expiresAfterSeconds: section.IDEMPOTENCY_TTL_SECONDS,
    }),
  );
}
