/**
 * The local stack's defaults (DESIGN.md "Local stack"), in one place for `npm start`, the `webhook`
 * script, the CLI and tests. Every value can be overridden by the variable of the same name.
 */

export const LOCAL_PORTS = {
  sandbox: Number(process.env.SANDBOX_PORT ?? 4010),
  emulator: Number(process.env.EMULATOR_PORT ?? 4566),
  dynamodb: Number(process.env.DYNAMODB_PORT ?? 4569),
  http: Number(process.env.OFFLINE_HTTP_PORT ?? 3000),
  lambda: Number(process.env.OFFLINE_LAMBDA_PORT ?? 3002),
};

/**
 * The local stack's Standard Webhooks secrets, one per endpoint (a body signed for one is refused at the other),
 * with the variable each is configured by. Local only: base64 of a phrase that says so.
 */
export const LOCAL_WEBHOOK_SECRETS = {
  "send-link": `whsec_${Buffer.from("local-send-link-secret-not-for-prod").toString("base64")}`,
  archive: `whsec_${Buffer.from("local-archive-secret-not-for-prod!").toString("base64")}`,
} as const;
export type WebhookRoute = keyof typeof LOCAL_WEBHOOK_SECRETS;
export const WEBHOOK_SECRET_VARIABLES: Record<WebhookRoute, string> = {
  "send-link": "WEBHOOK_SECRET_SEND_LINK",
  archive: "WEBHOOK_SECRET_ARCHIVE",
};

/** The serverless stage of the local stack: it passes secrets as plain variables (serverless.yml `params.local`). */
export const LOCAL_STAGE = "local";
export const LOCAL_BUCKET = "dingtalk-archive";
export const LOCAL_IDEMPOTENCY_TABLE = "dingtalk-file-bridge-idempotency";
export const LOCAL_QUEUES = {
  sendLink: `dingtalk-file-bridge-${LOCAL_STAGE}-send-link`,
  sendLinkDeadLetter: `dingtalk-file-bridge-${LOCAL_STAGE}-send-link-dlq`,
  archive: `dingtalk-file-bridge-${LOCAL_STAGE}-archive`,
  archiveDeadLetter: `dingtalk-file-bridge-${LOCAL_STAGE}-archive-dlq`,
  archiveScan: `dingtalk-file-bridge-${LOCAL_STAGE}-archive-scan`,
  archiveScanDeadLetter: `dingtalk-file-bridge-${LOCAL_STAGE}-archive-scan-dlq`,
};

/** Whether real DingTalk credentials were given; without them the local stack uses the sandbox. */
export function usesRealDingTalk(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DINGTALK_APP_KEY && (env.DINGTALK_APP_SECRET || env.DINGTALK_APP_SECRET_PARAMETER));
}

/** The environment the functions run with locally. */
export function localFunctionEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const sandboxBase = `http://127.0.0.1:${LOCAL_PORTS.sandbox}`;
  const real = usesRealDingTalk(env);
  const pick = (name: string, fallback: string) => env[name] ?? fallback;
  return {
    AWS_REGION: pick("AWS_REGION", "us-east-1"),
    AWS_ACCESS_KEY_ID: pick("AWS_ACCESS_KEY_ID", "test"),
    AWS_SECRET_ACCESS_KEY: pick("AWS_SECRET_ACCESS_KEY", "test"),
    AWS_ENDPOINT_URL_S3: pick("AWS_ENDPOINT_URL_S3", `http://127.0.0.1:${LOCAL_PORTS.emulator}`),
    AWS_ENDPOINT_URL_SQS: pick("AWS_ENDPOINT_URL_SQS", `http://127.0.0.1:${LOCAL_PORTS.emulator}`),
    AWS_ENDPOINT_URL_DYNAMODB: pick("AWS_ENDPOINT_URL_DYNAMODB", `http://127.0.0.1:${LOCAL_PORTS.dynamodb}`),
    DINGTALK_API_BASE: real
      ? pick("DINGTALK_API_BASE", "https://api.dingtalk.com")
      : pick("DINGTALK_API_BASE", sandboxBase),
    DINGTALK_APP_KEY: real ? (env.DINGTALK_APP_KEY as string) : "sandbox",
    ...(real && env.DINGTALK_APP_SECRET_PARAMETER
      ? { DINGTALK_APP_SECRET_PARAMETER: env.DINGTALK_APP_SECRET_PARAMETER }
      : { DINGTALK_APP_SECRET: real ? (env.DINGTALK_APP_SECRET as string) : "sandbox-secret" }),
    DINGTALK_UNION_ID: pick("DINGTALK_UNION_ID", real ? "" : "sandbox-union"),
    WEBHOOK_SECRET_SEND_LINK: pick("WEBHOOK_SECRET_SEND_LINK", LOCAL_WEBHOOK_SECRETS["send-link"]),
    WEBHOOK_SECRET_ARCHIVE: pick("WEBHOOK_SECRET_ARCHIVE", LOCAL_WEBHOOK_SECRETS.archive),
    ...(env.ALLOWED_UNION_IDS ? { ALLOWED_UNION_IDS: env.ALLOWED_UNION_IDS } : {}),
    IDEMPOTENCY_TABLE: pick("IDEMPOTENCY_TABLE", LOCAL_IDEMPOTENCY_TABLE),
    ARCHIVE_BUCKET: pick("ARCHIVE_BUCKET", LOCAL_BUCKET),
    ARCHIVE_PREFIX: pick("ARCHIVE_PREFIX", ""),
    DOWNLOAD_ALLOWED_HOSTS: pick(
      "DOWNLOAD_ALLOWED_HOSTS",
      real ? "*.dingtalk.com,*.aliyuncs.com" : `127.0.0.1:${LOCAL_PORTS.sandbox}`,
    ),
    // The sandbox serves plain http; real DingTalk's signed URLs are https only.
    DOWNLOAD_ALLOW_HTTP_HOSTS: pick(
      "DOWNLOAD_ALLOW_HTTP_HOSTS",
      real ? "" : `127.0.0.1:${LOCAL_PORTS.sandbox}`,
    ),
    POWERTOOLS_LOG_LEVEL: pick("POWERTOOLS_LOG_LEVEL", "INFO"),
  };
}
