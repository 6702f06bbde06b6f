/**
 * `npm start`: the local stack of DESIGN.md —
 *   the DingTalk sandbox on 127.0.0.1:4010 (unless real DingTalk credentials are set),
 *   the S3/SQS emulator (fauxqs) on 127.0.0.1:4566 with the bucket and queues,
 *   DynamoDB (dynalite) on 127.0.0.1:4569 for idempotency records,
 *   the functions over serverless-offline on 127.0.0.1:3000.
 * Ports: SANDBOX_PORT, EMULATOR_PORT, DYNAMODB_PORT, OFFLINE_HTTP_PORT, OFFLINE_LAMBDA_PORT.
 * Ctrl-C stops everything.
 */
import { spawn } from "node:child_process";
import { startSandbox } from "../sandbox/server";
import {
  LOCAL_BUCKET,
  LOCAL_IDEMPOTENCY_TABLE,
  LOCAL_PORTS,
  LOCAL_QUEUES,
  LOCAL_STAGE,
  localFunctionEnv,
  usesRealDingTalk,
} from "./local-env";
import { startLocalDynamo, startLocalEmulator } from "./local-services";

const stops: Array<() => Promise<void>> = [];

async function main(): Promise<void> {
  if (usesRealDingTalk()) {
    console.log("DingTalk: real (DINGTALK_APP_KEY and a secret are set)");
  } else {
    const sandbox = await startSandbox({ port: LOCAL_PORTS.sandbox, dir: process.env.SANDBOX_DIR });
    stops.push(() => sandbox.close());
    console.log(
      `DingTalk sandbox: ${sandbox.url} (app key sandbox, union id sandbox-union, conversation cid-sandbox)`,
    );
  }
  const emulator = await startLocalEmulator(LOCAL_PORTS.emulator, {
    buckets: [LOCAL_BUCKET],
    queues: [
      { name: LOCAL_QUEUES.sendLink, deadLetter: LOCAL_QUEUES.sendLinkDeadLetter },
      { name: LOCAL_QUEUES.archive, deadLetter: LOCAL_QUEUES.archiveDeadLetter, maxReceiveCount: 5 },
      { name: LOCAL_QUEUES.archiveScan, deadLetter: LOCAL_QUEUES.archiveScanDeadLetter },
    ],
  });
  stops.push(() => emulator.stop());
  console.log(`S3/SQS emulator: ${emulator.address} (bucket ${LOCAL_BUCKET})`);
  const dynamo = await startLocalDynamo(LOCAL_PORTS.dynamodb, LOCAL_IDEMPOTENCY_TABLE);
  stops.push(() => dynamo.stop());
  console.log(`DynamoDB (idempotency): ${dynamo.endpoint}`);

  const offline = spawn(
    process.execPath,
    ["node_modules/serverless/bin/serverless.js", "offline", "start", "--stage", LOCAL_STAGE],
    { stdio: "inherit", env: { ...process.env, ...localFunctionEnv(), SLS_TELEMETRY_DISABLED: "1" } },
  );
  stops.push(async () => {
    offline.kill("SIGINT");
  });
  offline.on("exit", (code) => {
    console.log(`serverless-offline exited (${code ?? "signal"})`);
    void shutdown(code ?? 0);
  });
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  void shutdown(1);
});
