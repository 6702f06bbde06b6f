/**
 * `npm run bench` (full: 256 MiB, 1 GiB and 4 GiB files, 3 runs per case, ~20–30 minutes) or
 * `npm run bench -- --quick` (64 MiB – 1 GiB, 1 run, a few minutes).
 *
 * Writes RESULTS.md and chart.svg (bench/ for a full run, .tmp/bench/ for a quick one, or --out DIR) and
 * .tmp/bench/results-<mode>.json (every run's figures), and prints the tables and the targets at the end.
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderChart } from "./chart.js";
import { type ColdStart, measureColdStart } from "./cold-start.js";
import { detectTools, ensureDir, runPlan } from "./harness.js";
import { planFor } from "./plan.js";
import { currentLoad, describeMachine, renderMarkdown, resultsTable, targetsList } from "./report.js";
import { ROOT } from "./services.js";
import { evaluateTargets } from "./targets.js";

const USAGE = "usage: npm run bench [-- --quick] [--only SUBSTRING] [--runs N] [--no-cold-start] [--out DIR]";

const { values } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        quick: { type: "boolean" },
        only: { type: "string", multiple: true },
        runs: { type: "string" },
        "no-cold-start": { type: "boolean" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const mode = values.quick ? "quick" : "full";
const plan = planFor(mode);
if (values.only?.length) plan.cases = plan.cases.filter((c) => values.only?.some((o) => c.id.includes(o)));
if (values.runs) {
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    process.stderr.write(`bench: --runs must be a whole number ≥ 1\n`);
    process.exit(2);
  }
  for (const c of plan.cases) c.runs = runs;
}
if (values["no-cold-start"]) plan.coldStartRuns = 0;
const outDir =
  values.out ?? (mode === "full" && !values.only?.length ? join(ROOT, "bench") : join(ROOT, ".tmp", "bench"));

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const t0 = performance.now();
const startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
const loadStart = currentLoad();
const tools = await detectTools();
const machine = await describeMachine(tools);
log(
  `bench (${mode}): ${plan.cases.length} cases; tools: time ${tools.time ? "yes" : "no"}, rclone ${tools.rclone ?? "no"}, curl ${tools.curl ?? "no"}`,
);

let coldStart: ColdStart | undefined;
if (plan.coldStartRuns > 0) {
  coldStart = await measureColdStart(plan.coldStartRuns, join(tmpdir(), `dtfb-cold-${process.pid}`), log);
}
const rows = await runPlan({ plan, tools, log });
const targets = evaluateTargets(plan, rows, coldStart);
const minutes = (performance.now() - t0) / 60_000;
const command = `npm run bench${mode === "quick" ? " -- --quick" : ""}`;
const result = {
  plan,
  machine,
  startedAt,
  minutes,
  loadAverage: { start: loadStart, end: currentLoad() },
  rows,
  coldStart,
  targets,
  command,
};

await ensureDir(outDir);
await writeFile(join(outDir, "RESULTS.md"), renderMarkdown(result));
await writeFile(
  join(outDir, "chart.svg"),
  renderChart(
    rows,
    `dingtalk-file-bridge benchmark, ${startedAt} (${mode}; ${machine.nproc} CPUs, Node ${machine.node})`,
  ),
);
// Every run's figures, for a closer look (not committed).
const jsonDir = join(ROOT, ".tmp", "bench");
await ensureDir(jsonDir);
await writeFile(join(jsonDir, `results-${mode}.json`), `${JSON.stringify(result, null, 2)}\n`);

process.stdout.write(`\n${resultsTable(result)}\n\n`);
if (coldStart) {
  const { coldStartTable } = await import("./report.js");
  process.stdout.write(`${coldStartTable(coldStart)}\n\n`);
}
process.stdout.write(
  `Targets:\n${targetsList(targets)}\n\nWrote ${join(outDir, "RESULTS.md")} and chart.svg (${minutes.toFixed(1)} min)\n`,
);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
