/**
 * fast-check building blocks shared by the fuzz and security tests: hostile strings and names, JSON with
 * prototype-pollution keys, huge numbers, and the run settings every property uses.
 */
import fc from "fast-check";

/**
 * Every property runs with a fixed seed (reproducible in CI), unless FUZZ_SEED is set to explore another
 * one; fast-check prints the seed and the shrunk counterexample on failure. FUZZ_RUNS_SCALE multiplies
 * every numRuns (e.g. 10 for a long local run).
 */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20260105;
const SCALE = process.env.FUZZ_RUNS_SCALE ? Number(process.env.FUZZ_RUNS_SCALE) : 1;

export function runs(numRuns: number): fc.Parameters<unknown> {
  return { numRuns: Math.max(1, Math.round(numRuns * SCALE)), seed: FUZZ_SEED };
}

/** Characters that break paths, logs, consoles and displays. */
export const NASTY_CHARS = [
  "/",
  "\\",
  ".",
  "..",
  "\u0000",
  "\n",
  "\r",
  "\t",
  "\u001b[31m",
  "\u007f",
  "\u0085", // C1 next line
  "\u2028", // line separator
  "\u2029", // paragraph separator
  "\u202e", // right-to-left override
  "\u202d",
  "\u2066", // bidi isolates
  "\u2067",
  "\u2068",
  "\u2069",
  "\u200e", // LRM / RLM
  "\u200f",
  "\u200b", // zero width space
  "\ufeff", // BOM
  "\ud800", // lone surrogates
  "\udfff",
  "\u0301", // a combining mark with nothing before it
  "e\u0301", // é, decomposed
  "👨‍👩‍👧‍👦", // a ZWJ family: one grapheme, 25 bytes
  "報告",
  "%2e%2e",
  "%2F",
  " ",
  "~",
  ":",
  "*",
  "?",
  "#",
  "&",
  "=",
  '"',
  "'",
  "<script>",
  "$(id)",
  "$" + "{jndi:x}", // a log4j lookup
  "__proto__",
];

/** One "unit" of a hostile string: a nasty character, any code point, or a printable grapheme. */
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_CHARS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
);

/** Any string a hostile sender could put in a JSON string (lone surrogates and control characters included). */
export function hostileString(maxLength = 40): fc.Arbitrary<string> {
  return fc.string({ unit, maxLength });
}

/** A very long string (up to `maxBytes` or so), made of one repeated hostile unit. */
export function longString(minRepeat = 1000, maxRepeat = 12_000): fc.Arbitrary<string> {
  return fc
    .tuple(fc.oneof(unit, fc.constant("a")), fc.integer({ min: minRepeat, max: maxRepeat }))
    .map(([u, n]) => u.repeat(n));
}

/** File names a hostile (or compromised) DingTalk answer could carry. */
export const hostileName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    ".",
    "..",
    "...",
    "/",
    "////",
    "\\\\",
    "../../etc/passwd",
    "..\\..\\windows\\system32",
    "a/../../b",
    "./.",
    " .. ",
    ". .",
    "..\u0000",
    "\u202efdp.exe",
    "report\u202eftp.exe",
    "\u0000\u0001\u0002",
    "\n\r\t",
    "\ud800\udc00\ud800",
    "%2e%2e%2f%2e%2e",
    "CON",
    "name.",
    "name ",
    " name",
    "x".repeat(10 * 1024),
    `${"報".repeat(3000)}.pdf`,
    `${"👨‍👩‍👧‍👦".repeat(400)}.txt`,
    `${"e\u0301".repeat(2000)}.docx`,
    `${"a".repeat(1020)}.${"b".repeat(20)}`,
    "/".repeat(2000),
    ".".repeat(1500),
  ),
  hostileString(60),
  longString(200, 5000),
  fc
    .tuple(
      fc.array(fc.oneof(hostileString(12), fc.constantFrom("..", ".", "")), { maxLength: 8 }),
      fc.string(),
    )
    .map(([parts, ext]) => `${parts.join("/")}.${ext}`),
);

/** Numbers at the edges: huge, negative, fractional, unsafe integers, -0. */
export const edgeNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    1.5,
    2 ** 31,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 64,
    1e21,
    1e308,
    -1e308,
    Number.MIN_VALUE,
    Number.MAX_VALUE,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Keys that have tripped up JavaScript object handling. */
export const POLLUTION_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "valueOf",
];

/** Any JSON value, with objects whose keys are sometimes pollution keys or the fields a schema expects. */
export function jsonWithKeys(fields: readonly string[], maxDepth = 3): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...fields) },
    { weight: 2, arbitrary: fc.constantFrom(...POLLUTION_KEYS) },
    { weight: 2, arbitrary: hostileString(12) },
  );
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    edgeNumber,
    hostileString(30),
    fc.constantFrom("sandbox-space", "cid-sandbox", "sandbox-union", "1", ""),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth },
      leaf,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(key, tie("value"), { maxKeys: 6 }),
    ),
  }));
  return value;
}

/**
 * A JSON body as a sender could write it: mostly objects with the right field names and wrong or edge
 * values, sometimes other JSON, sometimes text that is not JSON at all.
 */
export function hostileBody(fields: readonly string[]): fc.Arbitrary<string> {
  const fieldValue = fc.oneof(
    hostileString(30),
    edgeNumber,
    fc.constant(null),
    fc.boolean(),
    fc.constantFrom("sandbox-space", "cid-sandbox", "sandbox-union", ".", "..", " ", "\ud800"),
    jsonWithKeys(fields, 2),
    longString(100, 400),
  );
  const object = fc
    .dictionary(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fields) }, fc.constantFrom(...POLLUTION_KEYS)),
      fieldValue,
      { maxKeys: fields.length + 2 },
    )
    .map((o) => JSON.stringify(o));
  return fc.oneof(
    { weight: 5, arbitrary: object },
    { weight: 2, arbitrary: jsonWithKeys(fields).map((v) => JSON.stringify(v) ?? "null") },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        " ",
        "{",
        "null",
        "[]",
        "1e999",
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
        '{"spaceId":"a","spaceId":"b"}',
        "\ufeff{}",
        '{"a":"\\ud800"}',
        "[".repeat(5000),
      ),
    },
    { weight: 1, arbitrary: hostileString(80) },
  );
}

/** Object.prototype must look the same after a run as before: nothing polluted it. */
export function prototypeSnapshot(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}
