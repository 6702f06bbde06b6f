/**
 * A CI-sized slice of the fault campaign (`npm run chaos` runs the long one): 16 runs of seed "ci", files up
 * to 60 MiB (a few multipart), random DingTalk and S3 faults and SIGKILLs of the archive CLI, each checked to
 * end byte-exact or as a clean failure with no multipart upload left open (see chaos/campaign.ts).
 */
import { describe, expect, it } from "vitest";
import { formatSummary, runCampaign } from "../../chaos/campaign";
import { MiB, makePlan } from "../../chaos/plan";

describe("the chaos campaign's plans", () => {
  it("are the same for the same seed and run, and differ between seeds", () => {
    const options = { maxSize: 60 * MiB, longStalls: false };
    for (let run = 0; run < 50; run++) {
      expect(makePlan("ci", run, options)).toEqual(makePlan("ci", run, options));
    }
    const a = Array.from({ length: 20 }, (_, run) => makePlan("a", run, options).size);
    const b = Array.from({ length: 20 }, (_, run) => makePlan("b", run, options).size);
    expect(a).not.toEqual(b);
  });

  it("cover empty, single-part and multipart files, kills, and every kind of fault over 200 runs", () => {
    const plans = Array.from({ length: 200 }, (_, run) =>
      makePlan("coverage", run, { maxSize: 24 * MiB, longStalls: true }),
    );
    expect(plans.some((p) => p.size === 0)).toBe(true);
    expect(plans.some((p) => p.size > 0 && p.size <= p.partSize)).toBe(true);
    expect(plans.filter((p) => p.size > p.partSize).length).toBeGreaterThan(80);
    expect(Math.max(...plans.map((p) => p.size))).toBeLessThanOrEqual(24 * MiB);
    expect(plans.filter((p) => p.kills.length > 0).length).toBeGreaterThan(80);
    const labels = plans.flatMap((p) => p.labels).join(" ");
    for (const fault of [
      "file:dropConnection",
      "file:truncate",
      "file:systemError",
      "file:urlExpired",
      "file:slowBody",
      "file:ignoreRange",
      "file:latency",
      "urlTtl",
      "qpsLimit",
      "tokenExpired",
      "fileArchived",
      "s3:partInternalError",
      "s3:partSlowDown",
      "s3:partReset",
      "s3:completeInternalError",
      "s3:completeAnswerLost",
    ]) {
      expect(labels, fault).toContain(fault);
    }
  });
});

describe("the fault campaign (CI slice)", () => {
  it("16 runs: every one byte-exact or a clean failure, no upload left open", {
    timeout: 150_000,
  }, async () => {
    const summary = await runCampaign({ runs: 16, seed: "ci", maxSize: 60 * MiB, lanes: 3 });
    const report = formatSummary(summary);
    expect(summary.runs).toBe(16);
    expect(summary.violations, report).toBe(0);
    expect(summary.surprises, report).toEqual([]);
    expect(summary.completed + summary.cleanFailures).toBe(16);
    expect(summary.killsDone, report).toBeGreaterThan(0);
    expect(summary.sizes.multipart, report).toBeGreaterThan(0);
  });
});
