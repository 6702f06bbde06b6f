/**
 * Logs that match what happened, as CloudWatch (or the CLI's terminal) receives them: the production S3
 * client (its SDK logger) and the production Powertools logger, captured from stdout/stderr.
 * - HeadObject's 404 (the normal "not archived yet") logs no ERROR;
 * - a part that failed and was retried is one WARN line (part, attempt, reason), no SDK dump, no ERROR.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ArchiveDeps } from "../../lib/archive";
import { captureOutput } from "../support/log-capture";
import { useWorld } from "../support/use-world";
import { MiB, startArchiveWorld } from "./helpers";

let deps: ArchiveDeps;

const world = useWorld(() =>
  startArchiveWorld({ generatedFiles: [{ name: "flaky.bin", size: 12 * MiB, seed: "flaky" }] }),
);
beforeAll(async () => {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: world.emulator.address,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    POWERTOOLS_LOG_LEVEL: "INFO",
  });
  const [{ createS3Client }, { logger }] = await Promise.all([
    import("../../lib/aws/s3"),
    import("../../lib/logging"),
  ]);
  logger.setLogLevel("INFO");
  deps = world.deps({ s3: createS3Client(), logger });
});

async function archiveCapturing(name: string) {
  const { archiveFile } = await import("../../lib/archive");
  const dentryId = world.sandbox.dentryIdByPath(name) as string;
  const output = captureOutput();
  try {
    const result = await archiveFile({ spaceId: world.sandbox.options.spaceId, dentryId }, deps);
    return { result, entries: output.lines().flatMap(parseLine) };
  } finally {
    output.restore();
  }
}

function parseLine(line: string): Array<Record<string, unknown>> {
  try {
    return [JSON.parse(line) as Record<string, unknown>];
  } catch {
    return [{ level: "RAW", message: line }];
  }
}

describe("what a first archive logs", () => {
  it("HeadObject's 404 (not archived yet) is no ERROR: one INFO line, archived", async () => {
    const { result, entries } = await archiveCapturing("README.txt");
    expect(result.status).toBe("archived");
    expect(entries.filter((e) => e.level !== "INFO")).toEqual([]);
    expect(entries.map((e) => e.message)).toEqual(["archived"]);
  });

  it("a part that failed and was retried is one WARN line with part, attempt and reason", async () => {
    world.sandbox.addFaults({ api: "file", kind: "systemError", times: 1 });
    const { result, entries } = await archiveCapturing("flaky.bin");
    expect(result.status).toBe("archived");
    expect(entries.filter((e) => e.level === "ERROR" || e.level === "RAW")).toEqual([]);
    // fauxqs answers a composite checksum for a multipart object, real S3 a full-object one: not ours to test.
    const warnings = entries.filter((e) => e.level === "WARN" && e.type !== "checksumUnverified");
    expect(warnings).toEqual([
      expect.objectContaining({
        message: "transfer retry",
        partNumber: expect.any(Number),
        attempt: 1,
        error: expect.stringContaining("answered 500"),
      }),
    ]);
    expect(JSON.stringify(entries)).not.toContain("AWS SDK");
  });
});
