import type { Context } from "aws-lambda";

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

/** What a function's handler needs to run its use case: the event handling and its dependencies' builder. */
export interface UseCase<E, R, D> {
  handle(event: E, context: Context, deps: () => Promise<D>): Promise<R>;
  createDeps(): Promise<D>;
}

/**
 * A handler body whose use case is loaded by the first invocation: `load` does a dynamic import(), which
 * esbuild turns into a chunk of its own, so a cold start parses only what builds the handler (settings,
 * middleware). The dependencies are built on first use too, once per container.
 */
export function onFirstUse<E, R, D>(
  load: () => Promise<UseCase<E, R, D>>,
): (event: E, context: Context) => Promise<R> {
  const useCase = lazy(async () => {
    const loaded = await load();
    return { handle: loaded.handle, deps: lazy(() => loaded.createDeps()) };
  });
  return async (event, context) => {
    const { handle, deps } = await useCase();
    return handle(event, context, deps);
  };
}
