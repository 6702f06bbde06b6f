import type { BudgetConfig } from "./config";
import { type CallMeter, createCallMeter, type MeterMetrics } from "./meter";

/**
 * The meter for a loaded configuration: charged to the DynamoDB budget when there is one. The DynamoDB client
 * takes the SDK's own endpoint variable (AWS_ENDPOINT_URL_DYNAMODB: dynalite locally). The SDK is loaded only
 * then: a CLI run without a budget does not pay for it at every start.
 */
export async function callMeterFromConfig(
  config: BudgetConfig,
  options: { functionName: string; metrics?: MeterMetrics | undefined; now?: () => number },
): Promise<CallMeter> {
  if (config.monthlyLimit <= 0 || !config.tableName) {
    return createCallMeter({ functionName: options.functionName, metrics: options.metrics });
  }
  const [{ DynamoDBClient }, { createCallBudget }] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("./budget"),
  ]);
  const budget = createCallBudget({
    dynamo: new DynamoDBClient({}),
    tableName: config.tableName,
    monthlyLimit: config.monthlyLimit,
    sendLinkReserve: config.sendLinkReserve,
    ...(options.now ? { now: options.now } : {}),
  });
  return createCallMeter({ budget, metrics: options.metrics, functionName: options.functionName });
}
