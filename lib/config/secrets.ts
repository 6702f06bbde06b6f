import type { SecretSource } from "./secret-source";

/**
 * A secret as the functions use it: read through a bounded cache on every use, so a rotated value reaches a
 * warm container within SECRETS_MAX_AGE_SECONDS, and re-read at once when the value was refused.
 */
export interface Secret {
  /** The variable it is configured by (for messages; never the value). */
  readonly name: string;
  /** The value, at most SECRETS_MAX_AGE_SECONDS old (Powertools parameters' cache). */
  get(): Promise<string>;
  /**
   * The value read from the store now, bypassing the cache: call it when the cached value was refused (DingTalk
   * refused the app secret, a signature failed). At most one store read per FORCED_READ_INTERVAL_MS: a stream of
   * bad signatures must not turn into a stream of SSM reads (SSM throttles, and every read is billed).
   */
  refresh(): Promise<string>;
}

/** The shortest time between two forced reads of one secret. */
export const FORCED_READ_INTERVAL_MS = 5_000;

export interface SecretReaderOptions {
  /** Read a parameter (default: Powertools' getParameter, decrypted, with its shared cache). */
  readParameter?: (parameter: string, options: { maxAge: number; forceFetch: boolean }) => Promise<unknown>;
  now?: () => number;
}

export function secretReader(source: SecretSource, options: SecretReaderOptions = {}): Secret {
  if (source.kind === "value") {
    const value = source.value;
    return { name: source.name, get: async () => value, refresh: async () => value };
  }
  const read = options.readParameter ?? readSsmParameter;
  const now = options.now ?? Date.now;
  let lastForcedRead = Number.NEGATIVE_INFINITY;
  const fetch = async (forceFetch: boolean) => {
    const value = await read(source.parameter, { maxAge: source.maxAgeSeconds, forceFetch });
    if (typeof value !== "string" || value === "") {
      throw new Error(`Secret ${source.name}: SSM parameter ${source.parameter} is empty or not a string`);
    }
    return value;
  };
  return {
    name: source.name,
    get: () => fetch(false),
    refresh: () => {
      if (now() - lastForcedRead < FORCED_READ_INTERVAL_MS) return fetch(false);
      lastForcedRead = now();
      return fetch(true);
    },
  };
}

/**
 * An optional secret whose SSM parameter may be deleted to switch it off (the previous webhook secret after a
 * rotation): a missing parameter reads as "not set", and that answer is itself cached for the max age so a
 * deleted parameter does not cost an SSM call per request.
 */
export function optionalSecretReader(
  source: SecretSource | undefined,
  options: SecretReaderOptions = {},
): { get(): Promise<string | undefined>; refresh(): Promise<string | undefined> } | undefined {
  if (!source) return undefined;
  const secret = secretReader(source, options);
  if (source.kind === "value") return secret;
  const now = options.now ?? Date.now;
  let absentUntil = Number.NEGATIVE_INFINITY;
  let lastForcedRead = Number.NEGATIVE_INFINITY;
  const guarded = async (read: () => Promise<string>) => {
    try {
      const value = await read();
      absentUntil = Number.NEGATIVE_INFINITY;
      return value;
    } catch (error) {
      if ((error as { name?: unknown })?.name !== "ParameterNotFoundError") throw error;
      absentUntil = now() + source.maxAgeSeconds * 1000;
      return undefined;
    }
  };
  const get = () => (now() < absentUntil ? Promise.resolve(undefined) : guarded(secret.get));
  return {
    get,
    // A forced read looks past a cached "not set" too: a rotation may have just created the parameter.
    refresh: () => {
      if (now() - lastForcedRead < FORCED_READ_INTERVAL_MS) return get();
      lastForcedRead = now();
      return guarded(secret.refresh);
    },
  };
}

/**
 * Powertools' getParameter keeps one cache per container, shared by every secret; the SSM client is loaded only
 * when a secret is stored there, so a CLI given plain values does not pay for it (~25 MiB of RSS).
 */
async function readSsmParameter(parameter: string, options: { maxAge: number; forceFetch: boolean }) {
  const { getParameter } = await import("@aws-lambda-powertools/parameters/ssm");
  return getParameter(parameter, {
    decrypt: true,
    maxAge: options.maxAge,
    forceFetch: options.forceFetch,
    // A deleted parameter is a ParameterNotFoundError, told apart from a failed read.
    throwOnMissing: true,
  });
}
