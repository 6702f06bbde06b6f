/** DingTalk's monthly API quota as a budget: a DynamoDB counter per China-time month, a meter, the errors. */
export {
  budgetItemId,
  type CallBudget,
  type CallBudgetOptions,
  createCallBudget,
  limitFor,
  type Spent,
} from "./budget";
export { type BudgetConfig, DEFAULT_MONTHLY_CALL_BUDGET, loadBudgetConfig } from "./config";
export { isOrgQuotaCode, QUOTA_EXHAUSTED_CODE, QuotaExhausted, quotaExhaustedIn } from "./errors";
export { callMeterFromConfig } from "./from-config";
export { type CallMeter, type CallMeterOptions, createCallMeter, type MeterMetrics } from "./meter";
export { functionName, recordQuotaWait } from "./metrics";
export { chinaMonth, nextChinaMonthStart } from "./month";
