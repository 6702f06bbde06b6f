/**
 * The budget's CloudWatch metrics, on the container's one Metrics instance (lib/metrics.ts). Only single
 * metrics are emitted here (written at once, with their own dimensions).
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { metrics } from "../metrics";

/** This Lambda function's name, or `fallback` outside Lambda (the CLIs). */
export function functionName(fallback: string): string {
  return process.env.AWS_LAMBDA_FUNCTION_NAME || fallback;
}

/** One archive job put back to wait for the month's calls: the "jobs waiting on the budget" alarm counts these. */
export function recordQuotaWait(): void {
  metrics.singleMetric().addMetric("ArchiveJobsWaitingForBudget", MetricUnit.Count, 1);
}
