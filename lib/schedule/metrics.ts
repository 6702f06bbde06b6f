/**
 * CloudWatch metrics of scheduled archive runs (Powertools Metrics, EMF). Counted per invocation, so the
 * sums over a run's invocations are the run's totals.
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { MetricsSink } from "../metrics";
import type { ScanCounters } from "./cursor";

/** The part of Powertools' Metrics a run uses, so tests and the CLI can pass their own. */
export type ScanMetricsSink = Pick<MetricsSink, "addMetric">;

const COUNTS: Array<[keyof ScanCounters, string]> = [
  ["listed", "ScanListed"],
  ["queued", "ScanQueued"],
  ["skipped", "ScanSkipped"],
  ["inactive", "ScanInactive"],
  ["failed", "ScanFailed"],
  // One listDentries call per page: the DingTalk quota this run spent.
  ["pages", "ScanListCalls"],
];

export function recordScanMetrics(sink: ScanMetricsSink, summary: ScanCounters & { status: string }): void {
  for (const [counter, name] of COUNTS) sink.addMetric(name, MetricUnit.Count, summary[counter]);
  sink.addMetric("ScanQueuedBytes", MetricUnit.Bytes, summary.bytes);
  if (summary.status === "complete") sink.addMetric("ScanRunsCompleted", MetricUnit.Count, 1);
  if (summary.status === "aborted") sink.addMetric("ScanRunsAborted", MetricUnit.Count, 1);
  if (summary.status === "waiting") sink.addMetric("ScanRunsWaitingForBudget", MetricUnit.Count, 1);
}
