import { type DingTalkConfig, resolveSecret } from "../config";
import { createDingTalkClient, type DingTalkClient, type DingTalkClientOptions, type Logger } from "./client";

/** The DingTalk client for a loaded configuration, its app secret read from wherever it is kept. */
export async function dingTalkClientFromConfig(
  config: DingTalkConfig,
  logger?: Logger,
  /** lib/budget's meter: counts (and budgets) every metered call. */
  meter?: { beforeMeteredCall: NonNullable<DingTalkClientOptions["beforeMeteredCall"]> },
): Promise<DingTalkClient> {
  return createDingTalkClient({
    baseUrl: config.apiBase,
    appKey: config.appKey,
    appSecret: await resolveSecret(config.appSecret, "DINGTALK_APP_SECRET"),
    logger,
    ...(meter ? { beforeMeteredCall: meter.beforeMeteredCall } : {}),
  });
}
