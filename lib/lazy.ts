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
