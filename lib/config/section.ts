import * as z from "../schema";

/**
 * Configuration from environment variables, validated once (at cold start) by section loaders: a handler
 * loads only the sections it needs, so send-link does not demand ARCHIVE_BUCKET. Every problem is reported
 * at once, naming the variable; secret values never appear in a message. This file holds the machinery and
 * the field types every section (and scripts/stages.ts) builds on.
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    // Sections loaded together may report a shared variable (SECRETS_MAX_AGE_SECONDS) more than once.
    const unique = [...new Set(problems)];
    super(`Invalid configuration: ${unique.join("; ")}`);
    this.name = "ConfigError";
    this.problems = unique;
  }
}

/** A section's variables and their schemas. */
export type Shape = Record<string, z.core.$ZodType>;
export type SectionOf<S extends Shape> = z.output<z.ZodMiniObject<S>>;

export const nonEmpty = z.string().check(z.trim(), z.minLength(1, "must not be empty"));
export const httpUrl = z.pipe(
  z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  z.transform((u: string) => u.replace(/\/+$/, "")),
);
/**
 * A whole number in [min, max], given as text (or a number, in a stage file). `message` replaces the three
 * messages (not a number, not whole, out of range) by one, e.g. "must be a whole number from 5 to 600".
 */
export const wholeNumber = (min: number, max: number, message?: string) =>
  z.coerce
    .number({ error: message ?? "must be a number" })
    .check(
      z.int(message ?? "must be a whole number"),
      z.minimum(min, message ?? `must be at least ${min}`),
      z.maximum(max, message ?? `must be at most ${max}`),
    );
/** "true" or "false" (default false) as a boolean. */
export const trueFalse = z.pipe(
  z._default(z.enum(["true", "false"], { error: "must be true or false" }), "false"),
  z.transform((value: "true" | "false") => value === "true"),
);
/** A comma-separated list, blanks dropped, checked by `list` (an array schema). */
export const commaList = <T extends z.core.$ZodType<unknown, string[]>>(list: T) =>
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((s: string) =>
        s
          .split(",")
          .map((part) => part.trim())
          .filter(Boolean),
      ),
    ),
    list,
  );
/** Host[:port] or *.suffix patterns, comma-separated. */
export const hostList = commaList(
  z.array(
    z.string().check(z.regex(/^(\*\.)?[a-z0-9.-]+(:\d+)?$/i, "must be a host[:port] or *.suffix list")),
  ),
);
/** A key prefix: empty or ending in "/", never climbing out (ARCHIVE_PREFIX, a stage's archivePrefix). */
export const keyPrefix = z.pipe(
  z
    ._default(z.string(), "")
    .check(
      z.refine(
        (p: string) => !p.startsWith("/") && !p.split("/").includes(".."),
        "must not start with / or contain ..",
      ),
    ),
  z.transform((p: string) => (p === "" || p.endsWith("/") ? p : `${p}/`)),
);

/**
 * Parse the variables of `shape`, recording each problem in `problems` (its value is then unusable: the
 * caller must `finish`). Empty counts as unset: a deployment template passes "" for a setting a stage
 * leaves out.
 */
export function parseSection<S extends Shape>(env: Env, shape: S, problems: string[]): SectionOf<S> {
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = z.object(shape).safeParse(given);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const variable = String(issue.path[0]);
    const got = given[variable];
    // Only non-secret variables are parsed here, so echoing a short value helps the reader.
    const shown = got === undefined ? "" : ` (got ${JSON.stringify(got.slice(0, 80))})`;
    problems.push(
      `${variable} ${issue.code === "invalid_type" && got === undefined ? "is required" : issue.message}${shown}`,
    );
  }
  return undefined as never;
}

/** Throw the problems found, or build the section's value. */
export function finish<T>(problems: string[], value: () => T): T {
  if (problems.length > 0) throw new ConfigError(problems);
  return value();
}

/** A section that is only its variables: parse them, then build its value (or throw naming each problem). */
export function loadSection<S extends Shape, T>(env: Env, shape: S, build: (section: SectionOf<S>) => T): T {
  const problems: string[] = [];
  const section = parseSection(env, shape, problems);
  return finish(problems, () => build(section));
}

/**
 * Load several sections at once so one error lists every bad variable of all of them, e.g.
 * `loadSections({ dingtalk: () => loadDingTalkConfig(env), webhook: () => loadWebhookConfig(env) })`.
 */
export function loadSections<S extends Record<string, () => unknown>>(
  loaders: S,
): { [K in keyof S]: ReturnType<S[K]> } {
  const problems: string[] = [];
  const loaded: Record<string, unknown> = {};
  for (const [name, load] of Object.entries(loaders)) {
    try {
      loaded[name] = load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded as { [K in keyof S]: ReturnType<S[K]> };
}

/**
 * A function's settings loader from its sections' loaders, each called with the same environment; what
 * `loadSections` does, for the config.ts whose settings are sections only.
 */
export function settingsLoader<S extends Record<string, (env: Env) => unknown>>(
  loaders: S,
): (env?: Env) => { [K in keyof S]: ReturnType<S[K]> } {
  return (env = process.env) => {
    const bound = Object.fromEntries(Object.entries(loaders).map(([name, load]) => [name, () => load(env)]));
    return loadSections(bound) as { [K in keyof S]: ReturnType<S[K]> };
  };
}

/** Run a loader that may throw ConfigError, adding its problems to `problems` instead. */
export function collect<T>(problems: string[], load: () => T): T | undefined {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}
