/**
 * The functions' CloudWatch metrics (Powertools Metrics, EMF), in one place: one Metrics instance per
 * container, flushed by each handler's `logMetrics` middleware, and the names the dashboard and alarms in
 * serverless.yml use. A metric "by" something carries that as its own dimension (e.g. failures by code),
 * so the plain sums stay comparable across functions.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { MiddlewareObj } from "@middy/core";

export const METRICS_NAMESPACE = "DingTalkFileBridge";

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || "dingtalk-file-bridge",
});

/** The part of Powertools' Metrics the helpers use, so tests and the CLI can pass their own. */
export type MetricsSink = Pick<Metrics, "addMetric" | "singleMetric">;

/** Every metric the functions emit (serverless.yml's dashboard and alarms name these). */
export type MetricName =
  | "FilesArchived"
  | "ArchivedBytes"
  | "ArchiveSeconds"
  | "ArchiveFailures"
  | "ArchiveRequestsQueued"
  | "LinksSent"
  | "LinksFailed"
  | "PushesReceived"
  | "DingTalkCalls";

/** Add 1 (or `value`) to a count. */
export function countMetric(name: MetricName, value = 1, sink: MetricsSink = metrics): void {
  sink.addMetric(name, MetricUnit.Count, value);
}

/**
 * Add 1 to a count under one dimension, e.g. failures by `Code`, DingTalk calls by `Api`. Tallied here and
 * published once per invocation by `metricsMiddleware` (one EMF line per value, not one per call); the
 * CLIs, which share the code but publish nothing, never print them.
 */
export function countMetricBy(name: MetricName, dimension: Dimension, value: string): void {
  const key = JSON.stringify([name, dimension, value]);
  tallies.set(key, (tallies.get(key) ?? 0) + 1);
}

type Dimension = "Code" | "Api";
const tallies = new Map<string, number>();

/** Publish and clear the tallies of `countMetricBy`. */
export function publishTallies(sink: MetricsSink = metrics): void {
  for (const [key, count] of tallies) {
    const [name, dimension, value] = JSON.parse(key) as [MetricName, Dimension, string];
    const single = sink.singleMetric();
    single.addDimension(dimension, value);
    single.addMetric(name, MetricUnit.Count, count);
  }
  tallies.clear();
}

/**
 * The handlers' metrics middleware: Powertools' logMetrics flushes the invocation's metrics (and the cold
 * start), then the tallies follow (middy runs `after` hooks in reverse order of use), on success and on
 * error alike.
 */
export function metricsMiddleware(): MiddlewareObj[] {
  const tallied: MiddlewareObj = { after: () => publishTallies(), onError: () => publishTallies() };
  return [tallied, logMetrics(metrics)];
}

/** One file stored in S3: count, bytes and the seconds it took. */
export function recordFileArchived(
  archived: { size: number; seconds: number },
  sink: MetricsSink = metrics,
): void {
  sink.addMetric("FilesArchived", MetricUnit.Count, 1);
  sink.addMetric("ArchivedBytes", MetricUnit.Bytes, archived.size);
  sink.addMetric("ArchiveSeconds", MetricUnit.Seconds, archived.seconds);
}
