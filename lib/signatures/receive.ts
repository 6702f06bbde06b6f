import type { z } from "zod";
import { optionalSecretReader, type Secret, secretReader, type WebhookConfig } from "../config";
import { type HttpEvent, parseJsonBody, readBody } from "../http/api-gateway";
import { parseOrThrow } from "../validation";
import { isSignatureMismatch, type VerifiedWebhook, verifyWebhook } from "./verify";

/**
 * One endpoint's webhook secrets as a function holds them across warm invocations: read through the secrets
 * cache on every request, so a rotation reaches warm containers within SECRETS_MAX_AGE_SECONDS.
 */
export interface WebhookSecrets {
  /** The current secret and, while it is set, the previous one. */
  get(): Promise<string[]>;
  /** The same, read from the store now (a signature failed against the cached values). */
  refresh(): Promise<string[]>;
}

export interface WebhookSettings {
  secrets: WebhookSecrets;
  maxBodyBytes: number;
}

/** An endpoint's webhook settings from its configuration (lib/config's loadWebhookConfig). */
export function webhookSettings(config: WebhookConfig): WebhookSettings {
  return { secrets: webhookSecrets(config), maxBodyBytes: config.maxBodyBytes };
}

export function webhookSecrets(config: Pick<WebhookConfig, "secret" | "previousSecret">): WebhookSecrets {
  const current: Secret = secretReader(config.secret);
  const previous = optionalSecretReader(config.previousSecret);
  const read = async (fresh: boolean) => {
    const [now, before] = await Promise.all([
      fresh ? current.refresh() : current.get(),
      fresh ? previous?.refresh() : previous?.get(),
    ]);
    return before ? [now, before] : [now];
  };
  return { get: () => read(false), refresh: () => read(true) };
}

/** A fixed set of secrets (tests, scripts): what WebhookSecrets is when nothing can rotate. */
export function fixedWebhookSecrets(...secrets: string[]): WebhookSecrets {
  return { get: async () => secrets, refresh: async () => secrets };
}

/**
 * Verify against the cached secrets; a signature matching none of them may be signed with a secret rotated
 * since they were read, so they are read again from the store (at most once per few seconds) and tried once more.
 */
export async function verifyWithRotation(
  secrets: WebhookSecrets,
  body: string,
  headers: Record<string, string | undefined>,
): Promise<VerifiedWebhook> {
  const cached = await secrets.get();
  try {
    return verifyWebhook(cached, body, headers);
  } catch (error) {
    if (!isSignatureMismatch(error)) throw error;
    const fresh = await secrets.refresh();
    if (fresh.length === cached.length && fresh.every((secret, i) => secret === cached[i])) throw error;
    return verifyWebhook(fresh, body, headers);
  }
}

/**
 * The steps every signed webhook goes through, in the order that keeps errors honest: size limit (413),
 * signature (401), JSON (400), schema (400 naming fields). Returns the sender's `webhook-id` and the request.
 */
export async function receiveWebhook<T>(
  event: HttpEvent,
  settings: WebhookSettings,
  schema: z.ZodType<T>,
  what: string,
): Promise<{ id: string; request: T }> {
  const body = readBody(event, settings.maxBodyBytes);
  const webhook = await verifyWithRotation(settings.secrets, body, event.headers);
  return { id: webhook.id, request: parseOrThrow(schema, parseJsonBody(webhook.body), what) };
}
