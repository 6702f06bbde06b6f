import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createCallBudget } from "./budget";
import type { BudgetConfig } from "./config";
import { type CallMeter, createCallMeter, type MeterMetrics } from "./meter";

/**
 * The meter for a loaded configuration: charged to the DynamoDB budget when there is one. The DynamoDB client
 * takes the SDK's own endpoint variable (AWS_ENDPOINT_URL_DYNAMODB: dynalite locally).
 */
export function callMeterFromConfig(
  config: BudgetConfig,
  options: { functionName: string; metrics?: MeterMetrics | undefined; now?: () => number },
): CallMeter {
  const budget =
    config.monthlyLimit > 0 && config.tableName
      ? createCallBudget({
          dynamo: new DynamoDBClient({}),
          tableName: config.tableName,
          monthlyLimit: config.monthlyLimit,
          sendLinkReserve: config.sendLinkReserve,
          ...(options.now ? { now: options.now } : {}),
        })
      : undefined;
  return createCallMeter({ budget, metrics: options.metrics, functionName: options.functionName });
}
