/**
 * The budget's configuration, in the style of lib/config:
 * - DINGTALK_MONTHLY_CALL_BUDGET: metered DingTalk calls per China-time month for this deployment, all
 *   functions and CLIs together. Default 5,000 (half of the free edition's 10,000, which every app of the org
 *   shares); 0 = no budget (calls are still counted and reported).
 * - DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE: of those, calls only send-link may use. Default 10 %.
 * - DINGTALK_BUDGET_TABLE: the DynamoDB table (key attribute `id`); default IDEMPOTENCY_TABLE.
 * Without a table, an explicitly set budget is a configuration error; the default one is then off (local
 * tools without DynamoDB), which the CLIs say on stderr.
 */
import { ConfigError, type Env } from "../config";

export const DEFAULT_MONTHLY_CALL_BUDGET = 5000;

export interface BudgetConfig {
  /** 0 = no budget. */
  monthlyLimit: number;
  sendLinkReserve: number;
  tableName: string | undefined;
  /** Why there is no budget, when the default was dropped for lack of a table. */
  offBecause?: string;
}

function wholeNumber(env: Env, name: string, problems: string[]): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    problems.push(`${name} must be a whole number ≥ 0 (got ${JSON.stringify(text.slice(0, 40))})`);
    return undefined;
  }
  return value;
}

export function loadBudgetConfig(env: Env = process.env): BudgetConfig {
  const problems: string[] = [];
  const given = wholeNumber(env, "DINGTALK_MONTHLY_CALL_BUDGET", problems);
  const reserveGiven = wholeNumber(env, "DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE", problems);
  const tableName = env.DINGTALK_BUDGET_TABLE?.trim() || env.IDEMPOTENCY_TABLE?.trim() || undefined;
  if (problems.length > 0) throw new ConfigError(problems);
  let monthlyLimit = given ?? DEFAULT_MONTHLY_CALL_BUDGET;
  let offBecause: string | undefined;
  if (monthlyLimit > 0 && !tableName) {
    if (given !== undefined) {
      throw new ConfigError([
        "DINGTALK_MONTHLY_CALL_BUDGET needs a DynamoDB table to count in: set DINGTALK_BUDGET_TABLE (or IDEMPOTENCY_TABLE), or DINGTALK_MONTHLY_CALL_BUDGET=0",
      ]);
    }
    monthlyLimit = 0;
    offBecause = "no DINGTALK_BUDGET_TABLE or IDEMPOTENCY_TABLE is set";
  }
  const sendLinkReserve = monthlyLimit === 0 ? 0 : (reserveGiven ?? Math.floor(monthlyLimit / 10));
  if (monthlyLimit > 0 && sendLinkReserve >= monthlyLimit) {
    throw new ConfigError([
      `DINGTALK_MONTHLY_CALL_BUDGET_SEND_LINK_RESERVE (${sendLinkReserve}) must be less than DINGTALK_MONTHLY_CALL_BUDGET (${monthlyLimit})`,
    ]);
  }
  return { monthlyLimit, sendLinkReserve, tableName, ...(offBecause ? { offBecause } : {}) };
}
