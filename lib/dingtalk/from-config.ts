import { type DingTalkConfig, secretReader } from "../config";
import type { Logger } from "../logging";
import { createDingTalkClient, type DingTalkClient, type DingTalkClientOptions } from "./client";

/**
 * The DingTalk client for a loaded configuration. Its app secret is read through the secrets cache whenever
 * a token is fetched, and again at once if DingTalk refuses it, so a rotated secret is picked up.
 */
export async function dingTalkClientFromConfig(
  config: DingTalkConfig,
  logger?: Logger,
  /** lib/budget's meter: counts (and budgets) every metered call. */
  meter?: { beforeMeteredCall: NonNullable<DingTalkClientOptions["beforeMeteredCall"]> },
): Promise<DingTalkClient> {
  return createDingTalkClient({
    baseUrl: config.apiBase,
    appKey: config.appKey,
    appSecret: secretReader(config.appSecret),
    timeoutMs: config.timeoutMs,
    preferIntranet: config.preferIntranet,
    ...(logger ? { logger } : {}),
    ...(meter ? { beforeMeteredCall: meter.beforeMeteredCall } : {}),
  });
}
