/**
 * `npm run chaos -- --runs N --seed S [--max-size-mib M] [--lanes L] [--first F] [--long-stalls] [--json FILE]`
 *
 * The randomized fault campaign (chaos/campaign.ts): N runs, each archiving a generated file of a random size
 * through the archive CLI with random DingTalk and S3 faults and random SIGKILLs, every one checked to end
 * byte-exact or as a clean failure with no leaked multipart upload. One line per run, then the summary.
 * Exit 0 when no run broke a rule, 1 when one did (the summary names them), 2 on bad usage.
 * Deterministic by seed in its choices (sizes, faults, kill moments); timing varies. `--first F --runs 1`
 * replays run F of a seed.
 */
import { writeFile } from "node:fs/promises";
import { parseFlags, requestOrExit } from "../scripts/cli";
import { formatSummary, runCampaign } from "./campaign";
import { MiB } from "./plan";

const USAGE =
  "usage: npm run chaos -- --runs N --seed S [--max-size-mib M (60)] [--lanes L (3)] [--first F (0)] " +
  "[--restart-every R (50)] [--long-stalls] [--json FILE] [--quiet]";

function main(): Promise<number> | number {
  const parsed = requestOrExit(
    () => {
      const flags = parseFlags(process.argv.slice(2), {
        runs: { type: "string" },
        seed: { type: "string" },
        "max-size-mib": { type: "string" },
        lanes: { type: "string" },
        first: { type: "string" },
        "restart-every": { type: "string" },
        "long-stalls": { type: "boolean" },
        json: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      });
      return flags.help ? "help" : flags;
    },
    USAGE,
    (message) => {
      process.stderr.write(`chaos: ${message}\n${USAGE}\n`);
      return 2;
    },
  );
  if ("exit" in parsed) return parsed.exit;
  const values = parsed.request;
  const int = (name: string, fallback: number, min: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
    return n;
  };
  let options: Parameters<typeof runCampaign>[0];
  try {
    options = {
      runs: int("runs", 20, 1),
      seed: String(values.seed ?? Date.now()),
      maxSize: int("max-size-mib", 60, 0) * MiB,
      lanes: int("lanes", 3, 1),
      first: int("first", 0, 0),
      restartEvery: int("restart-every", 50, 1),
      longStalls: Boolean(values["long-stalls"]),
    };
  } catch (error) {
    process.stderr.write(`chaos: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const quiet = Boolean(values.quiet);
  process.stdout.write(
    `chaos: ${options.runs} runs from ${options.first}, seed ${options.seed}, files up to ${(options.maxSize ?? 0) / MiB} MiB, ${options.lanes} lanes\n`,
  );
  return runCampaign({
    ...options,
    log: quiet ? undefined : (line) => process.stdout.write(`${line}\n`),
  }).then(async (summary) => {
    process.stdout.write(`\n${formatSummary(summary)}\n`);
    if (typeof values.json === "string") await writeFile(values.json, JSON.stringify(summary, null, 2));
    return summary.violations === 0 ? 0 : 1;
  });
}

Promise.resolve()
  .then(main)
  .then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`chaos failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
