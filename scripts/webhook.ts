/**
 * Send a signed webhook to the local stack (or any deployment), as another system would:
 *   npm run webhook -- send-link '{"spaceId":"sandbox-space","dentryId":"…","openConversationId":"cid-sandbox"}'
 * Signs with the endpoint's own secret, WEBHOOK_SECRET_SEND_LINK or WEBHOOK_SECRET_ARCHIVE (the local stack's
 * defaults otherwise), using Standard Webhooks; prints the status and the answer. WEBHOOK_URL overrides the base URL (default http://127.0.0.1:3000);
 * WEBHOOK_ID sets the webhook-id (to try a redelivery).
 */
import { randomUUID } from "node:crypto";
import { signWebhook } from "../lib/signatures/verify";
import { LOCAL_PORTS, LOCAL_WEBHOOK_SECRETS, WEBHOOK_SECRET_VARIABLES, type WebhookRoute } from "./local-env";

const [name, body] = process.argv.slice(2);
if (!body || !(name === "send-link" || name === "archive")) {
  console.error("usage: npm run webhook -- <send-link|archive> '<json body>'");
  process.exit(2);
}
const route: WebhookRoute = name;
const secret = process.env[WEBHOOK_SECRET_VARIABLES[route]] || LOCAL_WEBHOOK_SECRETS[route];
const base = process.env.WEBHOOK_URL ?? `http://127.0.0.1:${LOCAL_PORTS.http}`;
const id = process.env.WEBHOOK_ID ?? `msg_${randomUUID()}`;
const headers = signWebhook(secret, id, body);
const response = await fetch(`${base}/webhooks/${name}`, {
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body,
});
const text = await response.text();
console.log(`HTTP ${response.status} (webhook-id ${id})`);
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2));
} catch {
  console.log(text);
}
process.exitCode = response.ok ? 0 : 1;
