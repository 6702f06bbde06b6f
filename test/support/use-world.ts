/**
 * A test file's world, started before its tests and stopped after them: `const world = useWorld(start)`
 * at the top of the file replaces the `let world; beforeAll(start); afterAll(stop)` block every
 * integration test file used to write. The returned object stands for the started world (properties are
 * read from it when a test or hook runs); reading it before beforeAll has run throws.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";

export function useWorld<W extends { stop(): Promise<void> }>(
  start: () => Promise<W>,
  /** Run before each test (e.g. clear the sandbox's faults, reset fauxqs). */
  each?: (world: W) => unknown,
  startTimeoutMs?: number,
): W {
  let current: W | undefined;
  beforeAll(async () => {
    current = await start();
  }, startTimeoutMs);
  afterAll(async () => {
    await current?.stop();
  });
  if (each) beforeEach(async () => void (await each(current as W)));
  return new Proxy({} as W, {
    get(_target, key) {
      if (!current) throw new Error(`the world is not started yet (read ${String(key)} in a test or hook)`);
      return Reflect.get(current, key, current);
    },
  });
}

/** The usual reset between tests: no sandbox faults left, fauxqs empty. */
export function resetWorld(world: { sandbox: { clearFaults(): void }; emulator: { reset(): void } }): void {
  world.sandbox.clearFaults();
  world.emulator.reset();
}
