/**
 * scripts/archive-cli.ts with random bad argv, spawned as `npm run archive` runs it (test/support/run-process.ts):
 * exit 2 with the reason and the usage line on stderr, nothing on stdout, never a stack trace; with -h or
 * --help (and nothing unparseable) exit 0 with the usage on stdout.
 *
 * Each case spawns a Node process, so the cases are drawn with fast-check (fixed seed) and run a few at a
 * time rather than through fc.assert one by one; a failure names its argv. The CLI is bundled once with
 * esbuild (as serverless-esbuild bundles the functions: same code, ~4x faster to start than tsx compiling it
 * per process), and a few cases also go through `node --import tsx`, exactly as `npm run archive` runs it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REAL_IDS } from "../support/real-ids";
import { type ProcessOutcome as CliOutcome, ROOT, runCli, runScript } from "../support/run-process";
import { FUZZ_SEED } from "./arbitraries";

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-fuzz-"));
  bundle = join(dir, "archive-cli.mjs");
  await build({
    entryPoints: [join(ROOT, "scripts/archive-cli.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    logLevel: "error",
    // CommonJS dependencies bundled into ESM still call require(), as in serverless.yml's esbuild banner.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function runBundled(args: string[], env: Record<string, string>): Promise<CliOutcome> {
  return runScript(bundle, args, { env, tsx: false });
}

const CASES = Number(process.env.FUZZ_CLI_CASES ?? 48);
/** Of those, the first few also run through tsx, as `npm run archive` does. */
const VIA_TSX = 3;
const PARALLEL = 4;

const goodValue = fc.constantFrom(
  "sandbox-space",
  "3896576655862160",
  "sandbox-union",
  "報告",
  ...REAL_IDS.all,
);
const badId = fc.constantFrom("", " ", ".", "..", "x\u007fy", "x\u0001y", "x\u0085y", "\t", "x".repeat(300));
const badVersion = fc.constantFrom(
  "",
  "0",
  "-1",
  "1.5",
  "1e3",
  "abc",
  " 1",
  "0x10",
  "99999999999999999999",
  "١",
);
const anyText = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !s.includes("\0"));

/** One defect that makes the argv a usage error. */
const defect = fc.oneof(
  fc.constantFrom(["--bogus"], ["-x"], ["--space"], ["--SPACE-ID", "s"], ["--version"], ["--space-id"]),
  anyText.map((positional) => [positional === "" ? "stray" : positional.replace(/^-+/, "")]),
  fc
    .tuple(fc.constantFrom("--space-id", "--dentry-id", "--union-id"), badId)
    .map(([flag, value]) => [`${flag}=${value}`]),
  badVersion.map((v) => [`--version=${v}`]),
  fc.constantFrom("--space-id", "--dentry-id").map((flag) => ["--drop", flag]),
  fc.constant(["--", "--space-id", "s"]),
  fc.constant(["--help=yes"]),
);

/** Flags that would be fine alone, in any order, some repeated. */
const fine = fc.array(
  fc
    .tuple(fc.constantFrom("--space-id", "--dentry-id", "--union-id", "--version"), goodValue)
    .map(([flag, value]) => (flag === "--version" ? [flag, "3"] : [flag, value])),
  { maxLength: 4 },
);

const argvArb = fc.tuple(fine, defect, fc.nat(), fc.boolean()).map(([flags, bad, at, help]) => {
  let argv = flags.flat();
  const dropped = bad[0] === "--drop" ? bad[1] : undefined;
  if (dropped) {
    // The defect is a missing required flag: take it out everywhere.
    const kept: string[] = [];
    for (let i = 0; i < argv.length; i += 2)
      if (argv[i] !== dropped) kept.push(argv[i] as string, argv[i + 1] as string);
    argv = kept;
  } else {
    const i = 2 * (at % (flags.length + 1));
    argv = [...argv.slice(0, i), ...bad, ...argv.slice(i)];
  }
  if (help) argv.push(at % 2 === 0 ? "-h" : "--help");
  return argv;
});

describe("archive CLI with random bad arguments", () => {
  it(`exits 2 with a usage line and no stack trace (${CASES} cases)`, async () => {
    const cases = fc.sample(argvArb, { numRuns: CASES, seed: FUZZ_SEED });
    const env = {
      PATH: process.env.PATH ?? "",
      // Nothing reachable, should an argv ever be accepted by mistake.
      DINGTALK_API_BASE: "http://127.0.0.1:9",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9",
      ARCHIVE_CHECKPOINT_DIR: "/nonexistent/fuzz",
    };
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += PARALLEL) {
      const batch = cases.slice(i, i + PARALLEL);
      const outcomes = await Promise.all(
        batch.map((argv, j) => (i + j < VIA_TSX ? runCli(argv, env) : runBundled(argv, env))),
      );
      outcomes.forEach((outcome, j) => {
        const argv = batch[j] as string[];
        const problems: string[] = [];
        const helpAsked = argv.includes("-h") || argv.includes("--help");
        if (/\n\s+at .+:\d+:\d+/.test(outcome.stderr)) problems.push("stack trace on stderr");
        if (outcome.code === 0 && helpAsked) {
          if (!outcome.stdout.startsWith("usage: npm run archive --")) problems.push("help without usage");
        } else if (outcome.code === 2) {
          const lines = outcome.stderr.trimEnd().split("\n");
          if (!/^archive: \S/.test(lines[0] ?? "")) problems.push("no reason on stderr");
          if (!lines.at(-1)?.startsWith("usage: npm run archive -- --space-id S --dentry-id D"))
            problems.push("no usage line");
          if (outcome.stdout !== "") problems.push("something on stdout");
        } else {
          problems.push(`exit ${outcome.code} (signal ${outcome.signal})`);
        }
        if (problems.length > 0) {
          failures.push(`${JSON.stringify(argv)}: ${problems.join(", ")}\n${outcome.stderr.slice(0, 400)}`);
        }
      });
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
