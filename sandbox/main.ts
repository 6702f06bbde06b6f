/**
 * Run the sandbox standalone: `npm run sandbox`.
 * Env: SANDBOX_PORT (4010), SANDBOX_HOST (127.0.0.1), SANDBOX_DIR, SANDBOX_BANDWIDTH (bytes/s),
 * SANDBOX_FAULTS (JSON array of fault rules), SANDBOX_UNION_ID / SANDBOX_SPACE_ID / SANDBOX_CONVERSATION_ID
 * (ids in DingTalk's real shapes instead of the defaults, e.g. a base64 conversation id).
 */
import { parseFaultRules } from "./faults";
import { startSandbox } from "./server";
import type { FaultRule } from "./types";

function fail(message: string): never {
  console.error(`sandbox: ${message}`);
  process.exit(2);
}

function intEnv(name: string, fallback?: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    fail(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

function faultsEnv(): FaultRule[] | undefined {
  const raw = process.env.SANDBOX_FAULTS;
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    fail("SANDBOX_FAULTS is not valid JSON");
  }
  const parsed = parseFaultRules(json);
  if ("error" in parsed) fail(`SANDBOX_FAULTS: ${parsed.error}`);
  return parsed.rules;
}

const sandbox = await startSandbox({
  port: intEnv("SANDBOX_PORT", 4010),
  host: process.env.SANDBOX_HOST || "127.0.0.1",
  dir: process.env.SANDBOX_DIR || undefined,
  bandwidthBytesPerSecond: intEnv("SANDBOX_BANDWIDTH"),
  faults: faultsEnv(),
  unionId: process.env.SANDBOX_UNION_ID || undefined,
  spaceId: process.env.SANDBOX_SPACE_ID || undefined,
  conversationId: process.env.SANDBOX_CONVERSATION_ID || undefined,
});
const { appKey, appSecret, unionId, spaceId, conversationId } = sandbox.options;
console.log(
  `DingTalk sandbox on ${sandbox.url} (app key ${appKey} / ${appSecret}, union ${unionId}, space ${spaceId}, conversation ${conversationId})`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
