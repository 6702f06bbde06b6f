import { type DingTalkConfig, resolveSecret } from "../config";
import { createDingTalkClient, type DingTalkClient, type Logger } from "./client";

/** The DingTalk client for a loaded configuration, its app secret read from wherever it is kept. */
export async function dingTalkClientFromConfig(
  config: DingTalkConfig,
  logger?: Logger,
): Promise<DingTalkClient> {
  return createDingTalkClient({
    baseUrl: config.apiBase,
    appKey: config.appKey,
    appSecret: await resolveSecret(config.appSecret, "DINGTALK_APP_SECRET"),
    timeoutMs: config.timeoutMs,
    preferIntranet: config.preferIntranet,
    logger,
  });
}
