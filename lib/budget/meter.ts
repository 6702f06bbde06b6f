/**
 * The hook every metered DingTalk call goes through (DingTalkClientOptions.beforeMeteredCall): count it in
 * this process (the CLIs print it), charge it to the monthly budget when there is one (or throw
 * QuotaExhausted), and emit metrics: DingTalkCalls by API and function, and the budget left.
 */
// Types only: the CLIs load this module, and Powertools' runtime is not needed to count.
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { DingTalkApi } from "../dingtalk";
import type { CallBudget } from "./budget";

/** The part of Powertools' Metrics used here (tests pass their own). */
export type MeterMetrics = Pick<Metrics, "singleMetric">;

export interface CallMeter {
  /** Give to the DingTalk client as `beforeMeteredCall`. */
  beforeMeteredCall(api: DingTalkApi): Promise<void>;
  /** Metered calls this process made (or tried: a refused call is not counted), by API. */
  spent(): Partial<Record<DingTalkApi, number>>;
  /** Sum of spent(). */
  total(): number;
}

export interface CallMeterOptions {
  /** Undefined = no budget (DINGTALK_MONTHLY_CALL_BUDGET=0): calls are only counted. */
  budget?: CallBudget | undefined;
  metrics?: MeterMetrics | undefined;
  /** The dimension calls are counted under (the Lambda function or CLI name). */
  functionName: string;
}

export function createCallMeter(options: CallMeterOptions): CallMeter {
  const counts: Partial<Record<DingTalkApi, number>> = {};
  return {
    async beforeMeteredCall(api) {
      const spent = await options.budget?.spend(api);
      counts[api] = (counts[api] ?? 0) + 1;
      if (!options.metrics) return;
      const call = options.metrics.singleMetric();
      call.addDimensions({ api, function: options.functionName });
      call.addMetric("DingTalkCalls", "Count", 1);
      if (spent && options.budget) {
        const left = options.metrics.singleMetric();
        left.addMetric("DingTalkBudgetLeft", "Count", Math.max(0, spent.limit - spent.used));
        left.addMetric(
          "DingTalkBudgetUsedPercent",
          "Percent",
          (100 * spent.used) / options.budget.monthlyLimit,
        );
      }
    },
    spent: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0),
  };
}
