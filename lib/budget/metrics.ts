/**
 * The budget's CloudWatch metrics (Powertools Metrics, EMF), one instance per container. Only single metrics
 * are emitted (written at once, with their own dimensions), so no handler middleware has to flush it.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export const budgetMetrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || "DingTalkFileBridge",
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || "dingtalk-file-bridge",
});

/** This Lambda function's name, or `fallback` outside Lambda (the CLIs). */
export function functionName(fallback: string): string {
  return process.env.AWS_LAMBDA_FUNCTION_NAME || fallback;
}

/** One archive job put back to wait for the month's calls: the "jobs waiting on the budget" alarm counts these. */
export function recordQuotaWait(): void {
  budgetMetrics.singleMetric().addMetric("ArchiveJobsWaitingForBudget", MetricUnit.Count, 1);
}
