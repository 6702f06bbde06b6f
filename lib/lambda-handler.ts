import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { logger } from "./logging";
import { metricsMiddleware } from "./metrics";

/** The three parts of every function: settings, the clients built from them, the event handling. */
export interface FunctionParts<Settings, Deps, Answer> {
  /** Its config.ts loader: run at cold start, so a bad variable fails the init with a message naming it. */
  loadSettings: () => Settings;
  /** Its deps.ts builder: run on first use and kept across warm invocations (a failed build is retried). */
  createDeps: (settings: Settings) => Promise<Deps>;
  /** Its handle.ts entry point. */
  handle: (event: unknown, context: Context, getDeps: () => Promise<Deps>) => Promise<Answer>;
}

/**
 * A function's Lambda handler: its settings validated now, its clients built lazily, and the middy chain
 * every function shares (the invocation's context on each log line, metrics flushed on success and error).
 */
export function lambdaHandler<Settings, Deps, Answer>(parts: FunctionParts<Settings, Deps, Answer>) {
  const settings = parts.loadSettings();
  const deps = lazy(() => parts.createDeps(settings));
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(metricsMiddleware())
    .handler(async (event: unknown, context: Context) => parts.handle(event, context, deps));
}

/**
 * A value built on first use and then reused across warm invocations; a failed build is forgotten so the
 * next invocation tries again (e.g. a secret read that timed out).
 */
export function lazy<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
