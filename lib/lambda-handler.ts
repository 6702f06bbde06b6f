import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { logger } from "./logging";
import { metricsMiddleware } from "./metrics";

/** What a function runs once loaded: its deps.ts builder and its handle.ts entry point. */
export interface UseCase<Settings, Deps, Answer> {
  /** Its deps.ts builder: run on first use and kept across warm invocations (a failed build is retried). */
  createDeps: (settings: Settings) => Promise<Deps>;
  /** Its handle.ts entry point. */
  handle: (event: unknown, context: Context, getDeps: () => Promise<Deps>) => Promise<Answer>;
}

/** The parts of every function: its settings, and the rest of it loaded on first use. */
export interface FunctionParts<Settings, Deps, Answer> {
  /** Its config.ts loader: run at cold start, so a bad variable fails the init with a message naming it. */
  loadSettings: () => Settings;
  /**
   * Its deps.ts and handle.ts, by dynamic `import()`: esbuild puts them in a chunk of their own, so the
   * cold start parses only the settings and the middleware (the bench's cold-start target); the first
   * invocation loads the rest, once per container.
   */
  load: () => Promise<UseCase<Settings, Deps, Answer>>;
}

/**
 * A function's Lambda handler: its settings validated now, its use case and clients built on first use,
 * and the middy chain every function shares (the invocation's context on each log line, metrics flushed on
 * success and error).
 */
export function lambdaHandler<Settings, Deps, Answer>(parts: FunctionParts<Settings, Deps, Answer>) {
  const settings = parts.loadSettings();
  const useCase = lazy(async () => {
    const loaded = await parts.load();
    return { handle: loaded.handle, deps: lazy(() => loaded.createDeps(settings)) };
  });
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(metricsMiddleware())
    .handler(async (event: unknown, context: Context) => {
      const { handle, deps } = await useCase();
      return handle(event, context, deps);
    });
}

/**
 * A value built on first use and then reused across warm invocations; a failed build is forgotten so the
 * next invocation tries again (e.g. a secret read that timed out).
 */
function lazy<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
