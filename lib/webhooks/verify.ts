import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { AppError } from "../errors";

export type HeaderMap = Record<string, string | undefined>;

export interface VerifiedWebhook {
  /** `webhook-id`: the sender's id for this message, the same on every redelivery. */
  id: string;
  /** The raw body, verified; parsing it is the caller's business (so bad JSON is a 400, not a 401). */
  body: string;
}

/**
 * Verify a Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`):
 * HMAC-SHA256 over `id.timestamp.body`, compared in constant time by the `standardwebhooks` library,
 * timestamps older or newer than 5 minutes refused. Any failure is a 401 that says which check failed
 * but never echoes a signature.
 */
export function verifyWebhook(secret: string, body: string, headers: HeaderMap): VerifiedWebhook {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) lower[name.toLowerCase()] = value;
  }
  const missing = ["webhook-id", "webhook-timestamp", "webhook-signature"].filter((h) => !lower[h]);
  if (missing.length > 0) {
    throw new AppError(401, "InvalidSignature", `Missing webhook signature header(s): ${missing.join(", ")}`);
  }
  // The library reads the header with parseInt and signs over the number it read, so "1700000000abc" or
  // "01700000000" would verify against a signature over "1700000000": accept only the canonical form.
  if (!/^[1-9]\d{0,15}$/.test(lower["webhook-timestamp"] as string)) {
    throw new AppError(
      401,
      "InvalidSignature",
      "Webhook signature rejected: Invalid Signature Headers: webhook-timestamp must be Unix time in whole seconds",
    );
  }
  try {
    webhookFor(secret).verify(body, lower, { jsonParse: false });
  } catch (error) {
    if (error instanceof WebhookVerificationError) {
      throw new AppError(401, "InvalidSignature", `Webhook signature rejected: ${error.message}`);
    }
    throw error;
  }
  return { id: lower["webhook-id"] as string, body };
}

/** Sign a body as a Standard Webhooks sender does (used by the `webhook` script and tests). */
export function signWebhook(
  secret: string,
  id: string,
  body: string,
  at: Date = new Date(),
): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": webhookFor(secret).sign(id, new Date(timestamp * 1000), body),
  };
}

// Decoding the secret is cheap but done per call otherwise; a Lambda sees one secret per container.
let cached: { secret: string; webhook: Webhook } | undefined;
function webhookFor(secret: string): Webhook {
  if (cached?.secret !== secret) {
    try {
      cached = { secret, webhook: new Webhook(secret) };
    } catch {
      throw new Error(
        "WEBHOOK_SECRET is not a valid Standard Webhooks secret (base64, optionally prefixed whsec_)",
      );
    }
  }
  return cached.webhook;
}
