import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { AppError } from "../errors";

export type HeaderMap = Record<string, string | undefined>;

export interface VerifiedWebhook {
  /** `webhook-id`: the sender's id for this message, the same on every redelivery. */
  id: string;
  /** The raw body, verified; parsing it is the caller's business (so bad JSON is a 400, not a 401). */
  body: string;
}

/** The 401 code of a signature that matches none of the secrets (as opposed to missing or stale headers). */
export const SIGNATURE_MISMATCH = "No matching signature found";

/**
 * Verify a Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`):
 * HMAC-SHA256 over `id.timestamp.body`, compared in constant time by the `standardwebhooks` library,
 * timestamps older or newer than 5 minutes refused. `secrets` are the endpoint's current secret and, during a
 * rotation, the previous one: a signature by either is accepted. Any failure is a 401 that says which check
 * failed but never echoes a signature.
 */
export function verifyWebhook(secrets: readonly string[], body: string, headers: HeaderMap): VerifiedWebhook {
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
  let refusal: WebhookVerificationError | undefined;
  for (const secret of secrets) {
    try {
      webhookFor(secret).verify(body, lower, { jsonParse: false });
      return { id: lower["webhook-id"] as string, body };
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      // The timestamp checks do not depend on the secret: the first refusal says what is wrong.
      refusal ??= error;
    }
  }
  throw new AppError(
    401,
    "InvalidSignature",
    `Webhook signature rejected: ${refusal?.message ?? "no webhook secret is configured"}`,
  );
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

/** True when a 401 from verifyWebhook means "signed, but with none of these secrets" (a rotation may explain it). */
export function isSignatureMismatch(error: unknown): boolean {
  return (
    error instanceof AppError &&
    error.code === "InvalidSignature" &&
    error.message.endsWith(SIGNATURE_MISMATCH)
  );
}

// Decoding a secret is cheap but done per call otherwise; a function sees one or two secrets at a time.
const decoded = new Map<string, Webhook>();
function webhookFor(secret: string): Webhook {
  let webhook = decoded.get(secret);
  if (!webhook) {
    try {
      webhook = new Webhook(secret);
    } catch {
      throw new Error(
        "A webhook secret (WEBHOOK_SECRET_SEND_LINK / WEBHOOK_SECRET_ARCHIVE or its _PREVIOUS) is not a valid Standard Webhooks secret (base64, optionally prefixed whsec_)",
      );
    }
    if (decoded.size >= 8) decoded.clear(); // rotations replace secrets: keep only the recent ones
    decoded.set(secret, webhook);
  }
  return webhook;
}
