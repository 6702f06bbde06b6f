/** What the archive load runs (archive-jobs.ts through the local stack, archive-workers.ts through worker processes) share. */
import { parseArgs } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import { sha256OfGenerated } from "../../sandbox/content";
import { sha256OfObject } from "../support/world";

export const MiB = 1024 * 1024;
/** The local stack's part size (serverless.yml's TRANSFER_PART_SIZE default). */
export const PART_SIZE = 8 * MiB;
/** Ranged GETs a file of this size takes: one per part, one for a single-PUT file. */
export const partsOf = (size: number) => (size <= PART_SIZE ? 1 : Math.ceil(size / PART_SIZE));

/** Sizes: mostly small files, one empty, every 10th over a part (2-3 parts of 8 MiB). Deterministic. */
export function jobSizes(n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    if (i === 0) return 0;
    if (i % 10 === 5) return PART_SIZE + ((i * 7_919_993) % (2 * PART_SIZE));
    return 1 + ((i * 2_654_435_761) % (2 * MiB));
  });
}

/** A load file put in the sandbox as `folder/name`: its archive key and the seed of its generated content. */
export const loadFile = (space: string, folder: string, name: string, size: number, dentryId: string) => ({
  name,
  size,
  dentryId,
  key: `${space}/${dentryId}/v1/${name}`,
  seed: `${space}/${folder}/${name}#1`,
});

/** The figures both archive load runs report. */
export interface ArchiveLoadFigures {
  jobs: number;
  bytes: number;
  multipartFiles: number;
  archived: number;
  wrongSize: number;
  sampleExact: number;
  sampleChecked: number;
  fileHostCalls: { expected: number; actual: number };
  downloadInfoCalls: { expected: number; actual: number };
  deadLettered: number;
  wallSeconds: number;
}

/** Ranged GETs a set of files takes (one per part). */
export const rangesFor = (sizes: readonly number[]) => sizes.reduce((n, s) => n + partsOf(s), 0);

/** The size figures of a set of files. */
export const sizeFigures = (sizes: readonly number[]) => ({
  bytes: sizes.reduce((n, s) => n + s, 0),
  multipartFiles: sizes.filter((s) => s > PART_SIZE).length,
});

/** "N files (x MiB, m multipart)" and the archived line, as both runs print them. */
export const describeFiles = (f: ArchiveLoadFigures) =>
  `${f.jobs} files (${(f.bytes / MiB).toFixed(1)} MiB, ${f.multipartFiles} multipart)`;
export const archivedLine = (f: ArchiveLoadFigures) =>
  `  archived        ${f.archived}/${f.jobs}, wrong size ${f.wrongSize}, byte-exact ${f.sampleExact}/${f.sampleChecked} sampled`;

/** What is wrong in the figures both runs check: files missing, wrong or fetched twice, jobs dead-lettered. */
export function archiveLoadProblems(f: ArchiveLoadFigures): string[] {
  const problems: string[] = [];
  if (f.archived !== f.jobs) problems.push(`${f.jobs - f.archived} files not archived`);
  if (f.wrongSize > 0) problems.push(`${f.wrongSize} objects of the wrong size`);
  if (f.sampleExact !== f.sampleChecked)
    problems.push(`${f.sampleChecked - f.sampleExact} sampled objects differ`);
  for (const [name, calls] of [
    ["file-host", f.fileHostCalls],
    ["download-info", f.downloadInfoCalls],
  ] as const) {
    if (calls.actual !== calls.expected)
      problems.push(`${name} calls ${calls.actual}, expected ${calls.expected}`);
  }
  if (f.deadLettered > 0) problems.push(`${f.deadLettered} jobs dead-lettered`);
  return problems;
}

/** The object under `key` is the generated content of `seed` and `size`, byte for byte. */
export async function isExact(s3: S3Client, bucket: string, key: string, seed: string, size: number) {
  return (await sha256OfObject(s3, bucket, key)).sha256 === (await sha256OfGenerated(seed, size));
}

/**
 * A load script's end when run by hand: the figures, each problem, and exit 1 if there is any (or if the
 * run failed: its stack, then `context()`, e.g. the tail of the local stack's output).
 */
async function reportAndExit<F>(
  run: () => Promise<F>,
  format: (figures: F) => string,
  problemsOf: (figures: F) => string[],
  context: () => string,
): Promise<never> {
  let code = 0;
  try {
    const figures = await run();
    process.stdout.write(`${format(figures)}\n`);
    const problems = problemsOf(figures);
    for (const p of problems) process.stdout.write(`  PROBLEM: ${p}\n`);
    code = problems.length > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n${context()}`);
    code = 1;
  }
  process.exit(code);
}

/**
 * Run a load script by hand (`node --import tsx test/load/<file>.ts --jobs 200 ...`) when `moduleUrl` is the
 * one node started; `defaults` names its numeric options. Reports as reportAndExit does.
 */
export async function runAsScript<K extends string, F>(
  moduleUrl: string,
  defaults: Record<K, number>,
  script: {
    run(args: Record<K, number>): Promise<F>;
    format(figures: F): string;
    problems(figures: F): string[];
    context?: () => string;
  },
): Promise<void> {
  if (process.argv[1] === undefined || !moduleUrl.endsWith(process.argv[1].replace(/^.*\//, ""))) return;
  const names = Object.keys(defaults) as K[];
  const { values } = parseArgs({
    options: Object.fromEntries(
      names.map((name) => [name, { type: "string", default: String(defaults[name]) }]),
    ),
  });
  const args = Object.fromEntries(names.map((name) => [name, Number(values[name])])) as Record<K, number>;
  await reportAndExit(() => script.run(args), script.format, script.problems, script.context ?? (() => ""));
}
