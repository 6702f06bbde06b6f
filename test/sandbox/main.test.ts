/** `npm run sandbox`: the standalone process prints its URL, serves, and exits cleanly on SIGTERM. */
import { describe, expect, it } from "vitest";
import { startScript } from "../support/run-process";

const runMain = (env: Record<string, string>) =>
  startScript("sandbox/main.ts", [], { env: { ...process.env, ...env } });

describe("sandbox/main.ts", () => {
  it("prints one line with the URL, answers, and exits 0 on SIGTERM", async () => {
    const child = runMain({
      SANDBOX_PORT: "0",
      SANDBOX_FAULTS: '[{"api":"getSpace","kind":"systemBusy"}]',
      SANDBOX_CONVERSATION_ID: "cidOuTaLz7/D7zkkM/5PlrQQA==",
      SANDBOX_UNION_ID: "ZsGGk1JnRAiPDsm8WQiSYrAiEiE",
    });
    await child.waitFor("\n", 30_000);
    const [line = ""] = child.stdout().split("\n");
    const url = /(http:\/\/\S+)/.exec(line)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line).toContain("conversation cidOuTaLz7/D7zkkM/5PlrQQA==");
    const state = (await (await fetch(`${url}/__sandbox/state`)).json()) as {
      faults: unknown[];
      options: Record<string, string>;
    };
    expect(state.faults).toHaveLength(1);
    expect(state.options).toMatchObject({
      unionId: "ZsGGk1JnRAiPDsm8WQiSYrAiEiE",
      spaceId: "sandbox-space",
      conversationId: "cidOuTaLz7/D7zkkM/5PlrQQA==",
    });
    child.child.kill("SIGTERM");
    expect((await child.done).code).toBe(0);
  });

  it("exits 2 naming the variable when configuration is bad", async () => {
    const child = runMain({ SANDBOX_PORT: "0", SANDBOX_FAULTS: '[{"api":"getSpace","kind":"meltdown"}]' });
    const { code, stderr } = await child.done;
    expect(code).toBe(2);
    expect(stderr).toContain("SANDBOX_FAULTS");
  });
});
