/**
 * Smoke check of the benchmark harness in its quickest form: a 16 MiB file, the engine and the lib-storage
 * baseline into the S3 sink, one run each. Not a timed assertion: only that each produces a well-formed,
 * verified result row, and that the report and the chart render from them.
 */
import { describe, expect, it } from "vitest";
import { renderChart } from "../../bench/chart.js";
import { detectTools, runPlan } from "../../bench/harness.js";
import { type BenchPlan, MiB } from "../../bench/plan.js";
import { renderMarkdown, resultsTable } from "../../bench/report.js";
import { evaluateTargets } from "../../bench/targets.js";

const SIZE = 16 * MiB;

const plan: BenchPlan = {
  name: "smoke",
  throttleBytesPerSecond: 8 * MiB,
  coldStartRuns: 0,
  cases: [
    {
      id: "engine-c8-p8-unthrottled-16MiB",
      kind: "engine",
      label: "engine c8 · 8 MiB parts",
      source: "unthrottled",
      sink: "sink",
      size: SIZE,
      concurrency: 8,
      partSize: 8 * MiB,
      runs: 1,
    },
    {
      id: "baseline-default-unthrottled-16MiB",
      kind: "baseline",
      label: "lib-storage Upload (defaults)",
      source: "unthrottled",
      sink: "sink",
      size: SIZE,
      runs: 1,
    },
  ],
};

describe("bench harness (smoke)", () => {
  it("runs the engine and the baseline into the sink and verifies what arrived", async () => {
    const tools = await detectTools();
    const lines: string[] = [];
    const rows = await runPlan({ plan, tools, log: (l) => lines.push(l) });

    expect(rows.map((r) => r.id)).toEqual(plan.cases.map((c) => c.id));
    for (const row of rows) {
      expect(row.ok, `${row.id}: ${row.measurements[0]?.error}`).toBe(true);
      expect(row.measurements).toHaveLength(1);
      const [m] = row.measurements;
      expect(m).toMatchObject({ ok: true, bytes: SIZE });
      // The sink stored exactly the file's bytes: its size and CRC32 were compared with the generated file's.
      expect(m?.verified).toMatch(/^size \+ CRC32 ✓; (\d+)\/\1 parts' .+ ✓/);
      expect(m?.seconds).toBeGreaterThan(0);
      expect(row.mibps).toBeGreaterThan(0);
      expect(row.cpuSecondsPerGiB).toBeGreaterThan(0);
      expect(row.peakRssMiB).toBeGreaterThan(10);
      expect(m?.startRssMiB).toBeGreaterThan(10);
    }
    // The engine completes with S3 confirming its full-object CRC32 (the sink checks it like S3).
    expect(rows[0]?.measurements[0]?.verified).toMatch(/full-object CRC32 ✓/);
    expect(lines.some((l) => l.includes("[2/2]"))).toBe(true);

    const targets = evaluateTargets(plan, rows, undefined);
    expect(targets).toHaveLength(5);
    const markdown = renderMarkdown({
      plan,
      machine: {
        nproc: 2,
        memoryGiB: 1,
        cpuModel: "test",
        node: process.version,
        kernel: "",
        rclone: undefined,
        curl: undefined,
      },
      startedAt: "2026-01-01T00:00:00Z",
      minutes: 0.1,
      loadAverage: { start: [0, 0, 0], end: [0, 0, 0] },
      rows,
      coldStart: undefined,
      targets,
      command: "test",
    });
    expect(markdown).toContain(resultsTable({ plan, rows }));
    expect(resultsTable({ plan, rows }).split("\n")).toHaveLength(2 + rows.length);
    const svg = renderChart(rows, "smoke");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
  }, 180_000);
});
