import type { z } from "zod";
import { type HttpEvent, parseJsonBody, readBody } from "../http/api-gateway";
import { parseOrThrow } from "../validation";
import { verifyWebhook } from "./verify";

export interface WebhookSettings {
  secret: string;
  maxBodyBytes: number;
}

/**
 * The steps every signed webhook goes through, in the order that keeps errors honest: size limit (413),
 * signature (401), JSON (400), schema (400 naming fields). Returns the sender's `webhook-id` and the request.
 */
export function receiveWebhook<T>(
  event: HttpEvent,
  settings: WebhookSettings,
  schema: z.ZodType<T>,
  what: string,
): { id: string; request: T } {
  const body = readBody(event, settings.maxBodyBytes);
  const webhook = verifyWebhook(settings.secret, body, event.headers);
  return { id: webhook.id, request: parseOrThrow(schema, parseJsonBody(webhook.body), what) };
}
