/**
 * What `npm run secrets` stores, as pure functions: the stage's SSM SecureString names (the contract the
 * functions' environment and IAM in serverless.yml follow), how each generated secret is made, and what to
 * do for each parameter given which ones exist already. scripts/secrets.ts only adds the SSM calls.
 */
import { randomBytes } from "node:crypto";

export const SERVICE = "dingtalk-file-bridge";

/** The secrets of a stage; `generated` ones are made here, the app secret comes from DingTalk's console. */
export const STAGE_SECRETS = {
  "dingtalk-app-secret": { generated: false, what: "the DingTalk app's AppSecret (developer console)" },
  "webhook-secret-send-link": { generated: true, what: "signs POST /webhooks/send-link (Standard Webhooks)" },
  "webhook-secret-archive": { generated: true, what: "signs POST /webhooks/archive (Standard Webhooks)" },
  "dingtalk-event-token": {
    generated: true,
    what: "the event subscription's Token (signs DingTalk's pushes)",
  },
  "dingtalk-event-aes-key": {
    generated: true,
    what: "the event subscription's EncodingAESKey (43 characters)",
  },
} as const;

export type SecretName = keyof typeof STAGE_SECRETS;
/** Webhook secrets can rotate: the current value moves to `<name>-previous`, accepted while it exists. */
export type RotatableSecret = "webhook-secret-send-link" | "webhook-secret-archive";
export const ROTATABLE: readonly RotatableSecret[] = ["webhook-secret-send-link", "webhook-secret-archive"];

export const parameterName = (stage: string, name: SecretName | `${RotatableSecret}-previous`) =>
  `/${SERVICE}/${stage}/${name}`;

type Random = (bytes: number) => Buffer;

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64). */
export function generateWebhookSecret(random: Random = randomBytes): string {
  return `whsec_${random(32).toString("base64")}`;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `length` letters and digits, uniformly (bytes ≥ 248 are skipped so `% 62` has no bias). */
function alphanumeric(length: number, random: Random): string {
  let out = "";
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

/**
 * DingTalk's EncodingAESKey: 43 characters that base64-decode (with "=" appended) to the 32-byte AES key.
 * Letters and digits only, as DingTalk's console generates them (it refuses + and /).
 */
export function generateEncodingAesKey(random: Random = randomBytes): string {
  return alphanumeric(43, random);
}

/** The event subscription's Token: any string to DingTalk; 32 letters and digits here. */
export function generateEventToken(random: Random = randomBytes): string {
  return alphanumeric(32, random);
}

const GENERATORS: Record<Exclude<SecretName, "dingtalk-app-secret">, (random: Random) => string> = {
  "webhook-secret-send-link": generateWebhookSecret,
  "webhook-secret-archive": generateWebhookSecret,
  "dingtalk-event-token": generateEventToken,
  "dingtalk-event-aes-key": generateEncodingAesKey,
};

export type Step =
  | { kind: "put"; name: string; secret: SecretName; value: string; overwrite: boolean }
  | { kind: "copy"; from: string; to: string; secret: RotatableSecret }
  | { kind: "delete"; name: string; secret: RotatableSecret }
  | { kind: "keep"; name: string; secret: SecretName }
  | { kind: "missing"; name: string; secret: SecretName; why: string };

export interface PlanOptions {
  stage: string;
  /** Parameter names that exist already (rerunning must not replace a secret senders use). */
  existing: ReadonlySet<string>;
  /** The app secret to store (read from stdin by the CLI, never from a flag or the shell). */
  appSecret?: string | undefined;
  /** Start rotating these: the current value becomes `-previous`, a new one is generated. */
  rotate?: readonly RotatableSecret[];
  /** End these rotations: delete `-previous`, so only the new secret is accepted. */
  finish?: readonly RotatableSecret[];
  random?: Random;
}

/** The steps that bring the stage's parameters to what was asked, in order. */
export function planSecrets(options: PlanOptions): Step[] {
  const random = options.random ?? randomBytes;
  const rotate = new Set(options.rotate ?? []);
  const finish = new Set(options.finish ?? []);
  for (const name of rotate) {
    if (finish.has(name)) throw new Error(`${name}: rotate or finish a rotation, not both at once`);
  }
  const steps: Step[] = [];
  for (const secret of Object.keys(STAGE_SECRETS) as SecretName[]) {
    const name = parameterName(options.stage, secret);
    const exists = options.existing.has(name);
    if (secret === "dingtalk-app-secret") {
      if (options.appSecret !== undefined) {
        steps.push({ kind: "put", name, secret, value: options.appSecret, overwrite: exists });
      } else if (exists) steps.push({ kind: "keep", name, secret });
      else
        steps.push({ kind: "missing", name, secret, why: "pipe the AppSecret in with --app-secret-stdin" });
      continue;
    }
    const rotatable = ROTATABLE.find((r) => r === secret);
    if (rotatable && rotate.has(rotatable)) {
      if (!exists) throw new Error(`${name} does not exist yet: there is nothing to rotate`);
      const previous = parameterName(options.stage, `${rotatable}-previous`);
      steps.push({ kind: "copy", from: name, to: previous, secret: rotatable });
      steps.push({ kind: "put", name, secret, value: GENERATORS[rotatable](random), overwrite: true });
      continue;
    }
    if (rotatable && finish.has(rotatable)) {
      steps.push({
        kind: "delete",
        name: parameterName(options.stage, `${rotatable}-previous`),
        secret: rotatable,
      });
    }
    if (exists) steps.push({ kind: "keep", name, secret });
    else steps.push({ kind: "put", name, secret, value: GENERATORS[secret](random), overwrite: false });
  }
  return steps;
}

/** What the operator does with the new values: DingTalk's console and the systems that send webhooks. */
export function instructions(stage: string, steps: readonly Step[]): string {
  const written = new Map(
    steps.flatMap((step) => (step.kind === "put" ? [[step.secret, step.value] as const] : [])),
  );
  const lines = [`Secrets of stage ${stage} (SSM SecureStrings under /${SERVICE}/${stage}/):`];
  for (const step of steps) {
    const what = STAGE_SECRETS[step.secret].what;
    switch (step.kind) {
      case "put":
        lines.push(`  ${step.overwrite ? "replaced" : "created "}  ${step.name}  (${what})`);
        break;
      case "copy":
        lines.push(`  copied    ${step.from} -> ${step.to}  (still accepted until --finish-rotation)`);
        break;
      case "delete":
        lines.push(`  deleted   ${step.name}  (the previous secret is no longer accepted)`);
        break;
      case "keep":
        lines.push(`  kept      ${step.name}`);
        break;
      case "missing":
        lines.push(`  MISSING   ${step.name}  (${what}): ${step.why}`);
        break;
    }
  }
  const token = written.get("dingtalk-event-token");
  const aesKey = written.get("dingtalk-event-aes-key");
  if (token || aesKey) {
    lines.push(
      "",
      "Paste into DingTalk's developer console (app > Event Subscription > HTTP push):",
      "  Request URL:     <HttpApiUrl from `npx serverless info --stage " +
        stage +
        "`>/webhooks/dingtalk-events",
      `  Token:           ${token ?? "(unchanged)"}`,
      `  EncodingAESKey:  ${aesKey ?? "(unchanged)"}`,
    );
  }
  for (const secret of ROTATABLE) {
    const value = written.get(secret);
    if (value) {
      const route = secret === "webhook-secret-send-link" ? "send-link" : "archive";
      lines.push("", `Give the systems that POST /webhooks/${route} their signing secret:`, `  ${value}`);
    }
  }
  return lines.join("\n");
}
