/**
 * Secrets as the functions read them: the real Powertools parameters cache and the real SSM client, against a
 * local Parameter Store (test/support/ssm.ts). A secret is read through a cache bounded by
 * SECRETS_MAX_AGE_SECONDS, re-read at once (rate limited) when refused, and an optional one may be deleted.
 */
import { clearCaches } from "@aws-lambda-powertools/parameters";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  FORCED_READ_INTERVAL_MS,
  optionalSecretReader,
  type SecretSource,
  secretReader,
} from "../../lib/config";
import { type LocalSsm, startLocalSsm } from "../support/ssm";

let ssm: LocalSsm;
const saved = { ...process.env };

beforeAll(async () => {
  ssm = await startLocalSsm();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  });
});
afterAll(async () => {
  await ssm.stop();
  process.env = saved;
});
beforeEach(() => clearCaches());

const source = (parameter: string, maxAgeSeconds = 300): SecretSource => ({
  kind: "ssm",
  name: "TEST_SECRET",
  parameter,
  maxAgeSeconds,
});

describe("secretReader", () => {
  it("answers a value given directly without any store", async () => {
    const secret = secretReader({ kind: "value", name: "X", value: "v" });
    expect(await secret.get()).toBe("v");
    expect(await secret.refresh()).toBe("v");
  });

  it("reads a SecureString decrypted, once per max age however often it is asked", async () => {
    ssm.put("/t/cached", "first");
    let clock = 1_000_000;
    const secret = secretReader(source("/t/cached", 300), { now: () => clock });
    for (let i = 0; i < 5; i++) expect(await secret.get()).toBe("first");
    expect(ssm.reads("/t/cached")).toBe(1);
    ssm.put("/t/cached", "second");
    expect(await secret.get()).toBe("first"); // within the max age: the cached value
    clock += 1;
    expect(await secret.refresh()).toBe("second"); // refused: read now
    expect(await secret.get()).toBe("second");
    expect(ssm.reads("/t/cached")).toBe(2);
  });

  it("re-reads after the max age on its own (the rotation bound)", async () => {
    ssm.put("/t/aged", "old");
    const secret = secretReader(source("/t/aged", 1));
    expect(await secret.get()).toBe("old");
    ssm.put("/t/aged", "new");
    expect(await secret.get()).toBe("old");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await secret.get()).toBe("new");
  });

  it("forces at most one store read per interval, however many refusals arrive", async () => {
    ssm.put("/t/forced", "v1");
    let clock = 5_000_000;
    const secret = secretReader(source("/t/forced"), { now: () => clock });
    await secret.get();
    for (let i = 0; i < 20; i++) await secret.refresh();
    expect(ssm.reads("/t/forced")).toBe(2);
    clock += FORCED_READ_INTERVAL_MS;
    await secret.refresh();
    expect(ssm.reads("/t/forced")).toBe(3);
  });

  it("names the variable and the parameter when it is missing, never a value", async () => {
    await expect(secretReader(source("/t/missing")).get()).rejects.toThrow(/\/t\/missing/);
  });
});

describe("optionalSecretReader (the previous secret during a rotation)", () => {
  it("is undefined when not configured", () => {
    expect(optionalSecretReader(undefined)).toBeUndefined();
  });

  it("reads as unset once its parameter is deleted, and caches that answer for the max age", async () => {
    ssm.put("/t/previous", "old-secret");
    let clock = 9_000_000;
    const previous = optionalSecretReader(source("/t/previous", 60), { now: () => clock });
    expect(await previous?.get()).toBe("old-secret");
    ssm.delete("/t/previous");
    clock += 1;
    expect(await previous?.refresh()).toBeUndefined();
    const reads = ssm.reads("/t/previous");
    for (let i = 0; i < 10; i++) expect(await previous?.get()).toBeUndefined();
    expect(ssm.reads("/t/previous")).toBe(reads); // no SSM call per request for a deleted parameter
    clock += 61_000;
    ssm.put("/t/previous", "back");
    expect(await previous?.refresh()).toBe("back");
  });
});
