import { readFileSync } from "node:fs";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { signWebhook } from "../../lib/signatures/verify";

/** A sample event from events/, parsed (the same files the README and `invoke local` use). */
export function sampleEvent<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), "utf8")) as T;
}

let invocation = 0;
/** A Lambda context as the runtime passes it, with a fixed remaining time (25 s unless given). */
export function lambdaContext(
  functionName = "dingtalk-file-bridge-dev-sendLink",
  remainingMs = 25_000,
): Context {
  invocation += 1;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: `req-${invocation}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "test",
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The sample HTTP event with this body and headers signed for `secret` now (or at `at`). */
export function signedHttpEvent(
  secret: string,
  body: string,
  options: { id?: string; at?: Date; headers?: Record<string, string>; sample?: string } = {},
): APIGatewayProxyEventV2 {
  const event = sampleEvent<APIGatewayProxyEventV2>(options.sample ?? "send-link.http.json");
  const signature = signWebhook(
    secret,
    options.id ?? `msg_${Math.random().toString(36).slice(2)}`,
    body,
    options.at,
  );
  return {
    ...event,
    body,
    headers: { "content-type": "application/json", ...signature, ...options.headers },
  };
}
