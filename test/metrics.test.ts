/**
 * lib/metrics: the tallies by dimension are published once per invocation, one EMF entry per value with
 * its count, and cleared; the helpers name the metrics the dashboard and alarms in serverless.yml use.
 */
import { Metrics } from "@aws-lambda-powertools/metrics";
import { afterEach, describe, expect, it, vi } from "vitest";
import { countMetricBy, publishTallies, recordFileArchived } from "../lib/metrics";

/** A real Metrics instance whose EMF output is captured instead of printed. */
function capturingMetrics() {
  const lines: Array<Record<string, unknown>> = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split("\n")) {
      if (line.includes('"_aws"')) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    return true;
  });
  const sink = new Metrics({ namespace: "Test", serviceName: "svc" });
  return { sink, lines, restore: () => spy.mockRestore() };
}

afterEach(() => {
  vi.restoreAllMocks();
  publishTallies({ singleMetric: () => ({ addDimension() {}, addMetric() {} }) } as never);
});

describe("metrics", () => {
  it("publishes each dimension value once with its count, then forgets it", () => {
    const { sink, lines } = capturingMetrics();
    countMetricBy("DingTalkCalls", "Api", "getDentry");
    countMetricBy("DingTalkCalls", "Api", "getDentry");
    countMetricBy("DingTalkCalls", "Api", "listDentries");
    countMetricBy("ArchiveFailures", "Code", "checksumMismatch");
    expect(lines).toEqual([]); // nothing printed per call
    publishTallies(sink);
    const entries = lines.map((line) => {
      const { _aws, service, ...values } = line;
      return values;
    });
    expect(entries).toEqual([
      { Api: "getDentry", DingTalkCalls: 2 },
      { Api: "listDentries", DingTalkCalls: 1 },
      { Code: "checksumMismatch", ArchiveFailures: 1 },
    ]);
    lines.length = 0;
    publishTallies(sink);
    expect(lines).toEqual([]);
  });

  it("records an archived file as a count, its bytes and its seconds", () => {
    const { sink, lines } = capturingMetrics();
    recordFileArchived({ size: 12_345, seconds: 2.5 }, sink);
    sink.publishStoredMetrics();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ FilesArchived: 1, ArchivedBytes: 12_345, ArchiveSeconds: 2.5 });
    expect(JSON.stringify(lines[0]?._aws)).toContain('{"Name":"ArchivedBytes","Unit":"Bytes"}');
  });
});
