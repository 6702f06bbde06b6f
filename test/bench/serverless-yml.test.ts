/**
 * The benchmark's one reader of serverless.yml (bench/serverless-yml.ts): on the real file, the settings the
 * worker-size table and the engine rows start from; on small files, the fall-back to the provider's settings.
 */
import { describe, expect, it } from "vitest";
import { parseServerlessYml, serverlessConfig } from "../../bench/serverless-yml.js";
import { archiveWorkerOptions } from "../../bench/worker-options.js";

describe("serverless.yml reader", () => {
  it("reads the archive worker's own memorySize and NODE_OPTIONS from the real serverless.yml", () => {
    const config = serverlessConfig();
    expect(archiveWorkerOptions(config)).toEqual({ nodeFlags: ["--max-semi-space-size=2"], memorySize: 512 });
    expect(config.functions.find((f) => f.name === "archive")).toMatchObject({
      entry: "functions/archive/handler.ts",
      http: false,
    });
  });

  it("gives send-link, which sets neither, the provider's memory and no NODE_OPTIONS", () => {
    const config = serverlessConfig();
    expect(config.provider).toEqual({ nodeOptions: "", memorySize: 256 });
    expect(config.functions.find((f) => f.name === "sendLink")).toEqual({
      name: "sendLink",
      entry: "functions/send-link/handler.ts",
      nodeOptions: "",
      memorySize: 256,
      http: true,
    });
  });

  it("lists every function with a handler, once, in file order", () => {
    expect(serverlessConfig().functions.map((f) => f.name)).toEqual([
      "sendLink",
      "archiveIntake",
      "archive",
      "dingtalkEvents",
      "archiveSchedule",
    ]);
  });

  const yaml = [
    "provider:",
    "  name: aws",
    "  memorySize: 1024 # the default for every function",
    "  httpApi:",
    "    NODE_OPTIONS: --not-the-environment",
    "  environment:",
    '    NODE_OPTIONS: "--enable-source-maps"',
    "functions:",
    "  archive:",
    "    handler: functions/archive/handler.handler",
    "    description: >",
    "      memorySize: 64 in a folded description is text, not a setting",
    "    events:",
    "      - sqs:",
    "          arn: x",
    "  api:",
    "    handler: functions/api/handler.main",
    "    memorySize: '256'",
    "    environment:",
    "      NODE_OPTIONS: --max-semi-space-size=2 --stack-size=900",
    "    events:",
    "      - httpApi:",
    "          path: /x",
    "resources:",
    "  Resources:",
    "    Thing:",
    "      Properties:",
    "        memorySize: 1",
  ].join("\n");

  it("falls back to the provider's NODE_OPTIONS and memorySize for a function that sets neither", () => {
    const config = parseServerlessYml(yaml);
    expect(config.provider).toEqual({ nodeOptions: "--enable-source-maps", memorySize: 1024 });
    expect(config.functions).toEqual([
      {
        name: "archive",
        entry: "functions/archive/handler.ts",
        nodeOptions: "--enable-source-maps",
        memorySize: 1024,
        http: false,
      },
      {
        name: "api",
        entry: "functions/api/handler.ts",
        nodeOptions: "--max-semi-space-size=2 --stack-size=900",
        memorySize: 256,
        http: true,
      },
    ]);
    expect(archiveWorkerOptions(config)).toEqual({ nodeFlags: ["--enable-source-maps"], memorySize: 1024 });
  });

  it("leaves memorySize undefined when neither sets it, and refuses one that is not a number", () => {
    const bare = "provider:\n  name: aws\nfunctions:\n  archive:\n    handler: a/b.handler\n";
    expect(archiveWorkerOptions(parseServerlessYml(bare))).toEqual({ nodeFlags: [], memorySize: undefined });
    expect(() => parseServerlessYml(`${bare}    memorySize: \${param:memory}\n`)).toThrow(/memorySize/);
  });

  it("replaces the worker's flags with BENCH_WORKER_NODE_OPTIONS' value, and needs an archive function", () => {
    expect(archiveWorkerOptions(serverlessConfig(), " --max-old-space-size=300  --jitless ")).toEqual({
      nodeFlags: ["--max-old-space-size=300", "--jitless"],
      memorySize: 512,
    });
    expect(archiveWorkerOptions(serverlessConfig(), "")).toMatchObject({ nodeFlags: [] });
    expect(() =>
      archiveWorkerOptions(parseServerlessYml("functions:\n  other:\n    handler: a/b.c\n")),
    ).toThrow(/no archive function/);
  });
});
