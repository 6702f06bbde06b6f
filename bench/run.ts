/**
 * `npm run bench` (full: 256 MiB, 1 GiB and 4 GiB files, 3 runs per case, ~15–20 minutes) or
 * `npm run bench -- --quick` (128 MiB – 1 GiB, 1 run, ~4 minutes).
 *
 * Writes RESULTS.md and chart.svg (bench/ for a full run, .tmp/bench/ otherwise, or --out DIR) and
 * .tmp/bench/results-<mode>.json (every run's figures), and prints the tables and the targets at the end.
 * `--from FILE` renders RESULTS.md and chart.svg again from such a JSON file, without measuring.
 */
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderChart } from "./chart.js";
import { type ColdStart, measureColdStart } from "./cold-start.js";
import { detectTools, ensureDir, runPlan } from "./harness.js";
import { planFor } from "./plan.js";
import {
  type BenchResult,
  coldStartTable,
  currentLoad,
  describeMachine,
  renderMarkdown,
  resultsTable,
  targetsList,
  workerSizeSection,
} from "./report.js";
import { ROOT } from "./services.js";
import { evaluateTargets } from "./targets.js";

const USAGE =
  "usage: npm run bench [-- --quick] [--only SUBSTRING]... [--runs N] [--no-cold-start] [--out DIR] [--from RESULTS.json]";

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
        from: { type: "string" },
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

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function measure(): Promise<BenchResult> {
  const mode = values.quick ? "quick" : "full";
  const plan = planFor(mode);
  if (values.only?.length) plan.cases = plan.cases.filter((c) => values.only?.some((o) => c.id.includes(o)));
  if (values.runs) {
    const runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1) {
      process.stderr.write("bench: --runs must be a whole number ≥ 1\n");
      process.exit(2);
    }
    for (const c of plan.cases) c.runs = runs;
  }
  if (values["no-cold-start"]) plan.coldStartRuns = 0;
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
  return {
    plan,
    machine,
    startedAt,
    minutes: (performance.now() - t0) / 60_000,
    loadAverage: { start: loadStart, end: currentLoad() },
    rows,
    coldStart,
    targets: evaluateTargets(plan, rows, coldStart),
    command: `npm run bench${mode === "quick" ? " -- --quick" : ""}${values.only?.length ? " --only …" : ""}`,
  };
}

let result: BenchResult;
if (values.from) {
  result = JSON.parse(await readFile(values.from, "utf8")) as BenchResult;
  result.targets = evaluateTargets(result.plan, result.rows, result.coldStart);
} else {
  result = await measure();
  // Every run's figures, for a closer look or to render again with --from (not committed).
  const jsonDir = join(ROOT, ".tmp", "bench");
  await ensureDir(jsonDir);
  await writeFile(join(jsonDir, `results-${result.plan.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

const complete = result.plan.name === "full" && !result.command.includes("--only");
const outDir = values.out ?? (complete ? join(ROOT, "bench") : join(ROOT, ".tmp", "bench"));
await ensureDir(outDir);
await writeFile(join(outDir, "RESULTS.md"), renderMarkdown(result));
const { machine, startedAt } = result;
await writeFile(
  join(outDir, "chart.svg"),
  renderChart(
    result.rows,
    `dingtalk-file-bridge benchmark, ${startedAt} (${result.plan.name}; ${machine.nproc} CPUs, Node ${machine.node})`,
  ),
);

process.stdout.write(`\n${resultsTable(result)}\n\n`);
if (result.coldStart) process.stdout.write(`${coldStartTable(result.coldStart)}\n\n`);
const sizing = workerSizeSection(result);
if (sizing) process.stdout.write(`${sizing}\n`);
process.stdout.write(`Targets:\n${targetsList(result.targets)}\n\n`);
process.stdout.write(
  `Wrote ${join(outDir, "RESULTS.md")} and chart.svg (${result.minutes.toFixed(1)} min)\n`,
);
process.exit(result.rows.every((r) => r.ok) ? 0 : 1);
