import type { DingTalkConfig } from "../config";
import { type DingTalkClient, dingTalkClientFromConfig } from "../dingtalk";
import { logger } from "../logging";
import { metrics } from "../metrics";
import type { BudgetConfig } from "./config";
import { callMeterFromConfig } from "./from-config";
import { functionName } from "./metrics";

/**
 * A Lambda function's DingTalk client: every metered call counted (and budgeted, when the budget table is
 * configured) under the function's name, logged by the bundle's logger. `name` stands in for the
 * function's name outside Lambda.
 */
export async function meteredDingTalkClient(
  settings: { dingtalk: DingTalkConfig; budget: BudgetConfig },
  name: string,
): Promise<DingTalkClient> {
  const meter = await callMeterFromConfig(settings.budget, { functionName: functionName(name), metrics });
  return dingTalkClientFromConfig(settings.dingtalk, logger, meter);
}
