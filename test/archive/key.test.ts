/** archiveKey / safeName: pure, so tested by example for every rule and by a seeded fuzz for the invariants. */
import { describe, expect, it } from "vitest";
import { archiveKey, FALLBACK_NAME, S3_MAX_KEY_BYTES, safeName } from "../../lib/archive";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
const key = (name: string, prefix = "") =>
  archiveKey({ prefix, spaceId: "space1", dentryId: "12345", version: 3, name });

describe("archiveKey layout", () => {
  it("is prefix + space/dentry/v{version}/name", () => {
    expect(key("report.pdf")).toBe("space1/12345/v3/report.pdf");
    expect(key("report.pdf", "dingtalk/archive/")).toBe("dingtalk/archive/space1/12345/v3/report.pdf");
  });

  it("keeps Chinese, accents and emoji readable", () => {
    expect(key("报告 2026.pdf")).toBe("space1/12345/v3/报告 2026.pdf");
    expect(key("Données été.csv")).toBe("space1/12345/v3/Données été.csv");
    expect(key("👨‍👩‍👧 family.jpg")).toBe("space1/12345/v3/👨‍👩‍👧 family.jpg");
  });

  it.each([
    ["empty prefix", ""],
    ["prefix without trailing slash", "archive"],
    ["prefix with a leading slash", "/archive/"],
    ["prefix with ..", "a/../b/"],
  ])("accepts only a normalised prefix (%s)", (_label, prefix) => {
    if (prefix === "") expect(() => key("a", prefix)).not.toThrow();
    else expect(() => key("a", prefix)).toThrow(RangeError);
  });

  it.each([
    ["spaceId", { spaceId: "" }],
    ["spaceId", { spaceId: ".." }],
    ["dentryId", { dentryId: "." }],
    ["dentryId", { dentryId: "1\n2" }],
  ])("refuses an id that would change the folder structure (%s %j)", (_label, bad) => {
    expect(() =>
      archiveKey({ prefix: "", spaceId: "s", dentryId: "d", version: 1, name: "n", ...bad }),
    ).toThrow(RangeError);
  });

  it("keeps an opaque id in one folder: / \\ and % percent-encoded, everything else as DingTalk issued it", () => {
    const at = (spaceId: string, dentryId: string) =>
      archiveKey({ prefix: "p/", spaceId, dentryId, version: 2, name: "n" });
    expect(at("cidOuTaLz7/D7zkkM/5PlrQQA==", "a\\b%c")).toBe(
      "p/cidOuTaLz7%2FD7zkkM%2F5PlrQQA==/a%5Cb%25c/v2/n",
    );
    expect(at("26373617452", "184463020201")).toBe("p/26373617452/184463020201/v2/n");
    expect(at("ZsGGk1JnRAiPDsm8WQiSYrAiEiE", "x+y=")).toBe("p/ZsGGk1JnRAiPDsm8WQiSYrAiEiE/x+y=/v2/n");
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 53])("refuses version %s", (version) => {
    expect(() => archiveKey({ prefix: "", spaceId: "s", dentryId: "d", version, name: "n" })).toThrow(
      RangeError,
    );
  });

  it("refuses a prefix that leaves no room for the name", () => {
    expect(() => key("a.pdf", `${"p".repeat(1010)}/`)).toThrow(/no room is left for the name/);
  });
});

describe("safeName", () => {
  it.each([
    ["a/b.txt", "a_b.txt"],
    ["a\\b.txt", "a_b.txt"],
    ["../../etc/passwd", ".._.._etc_passwd"],
    ["..\\..\\boot.ini", ".._.._boot.ini"],
    ["line\nbreak\r.txt", "line_break_.txt"],
    ["tab\there.txt", "tab_here.txt"],
    ["nul\u0000.txt", "nul_.txt"],
    ["del\u007f.txt", "del_.txt"],
    ["c1\u0085\u009f.txt", "c1__.txt"],
    ["sep\u2028\u2029.txt", "sep__.txt"],
    ["evil\u202Efdp.exe", "evil_fdp.exe"],
    ["isolate\u2066x\u2069.txt", "isolate_x_.txt"],
    ["mark\u200e\u200f\u061c.txt", "mark___.txt"],
    ["  spaced out.txt  ", "spaced out.txt"],
    ["", FALLBACK_NAME],
    [".", FALLBACK_NAME],
    ["..", FALLBACK_NAME],
    ["   ", FALLBACK_NAME],
    ["...", "..."],
    [".hidden", ".hidden"],
  ])("%j → %j", (input, expected) => {
    expect(safeName(input)).toBe(expected);
  });

  it("normalises to NFC, so one name typed two ways is one key", () => {
    const decomposed = "Cafe\u0301.txt";
    const composed = "Caf\u00e9.txt";
    expect(safeName(decomposed)).toBe(composed);
    expect(safeName(composed)).toBe(composed);
  });

  it("replaces unpaired surrogates (not encodable as UTF-8)", () => {
    expect(safeName("a\ud800b.txt")).toBe("a\ufffdb.txt");
    expect(safeName("a\udc00.txt")).toBe("a\ufffd.txt");
    expect(safeName("😀.txt")).toBe("😀.txt");
  });
});

describe("truncation to S3's 1,024-byte key limit", () => {
  const fixed = bytes("space1/12345/v3/");

  it("leaves a name that fits alone", () => {
    const name = `${"a".repeat(S3_MAX_KEY_BYTES - fixed - 4)}.pdf`;
    expect(key(name)).toBe(`space1/12345/v3/${name}`);
    expect(bytes(key(name))).toBe(S3_MAX_KEY_BYTES);
  });

  it("cuts an ASCII name to exactly the limit, keeping its extension", () => {
    const k = key(`${"a".repeat(2000)}.pdf`);
    expect(bytes(k)).toBe(S3_MAX_KEY_BYTES);
    expect(k.endsWith("a.pdf")).toBe(true);
  });

  it("cuts a Chinese name at a character boundary (3-byte characters)", () => {
    const k = key(`${"报告".repeat(400)}.docx`);
    expect(bytes(k)).toBeLessThanOrEqual(S3_MAX_KEY_BYTES);
    expect(bytes(k)).toBeGreaterThan(S3_MAX_KEY_BYTES - 3);
    expect(k.endsWith(".docx")).toBe(true);
    expect(k).not.toContain("\ufffd");
    expect(Buffer.from(k, "utf8").toString("utf8")).toBe(k);
  });

  it("never splits an emoji sequence or a base letter from its combining mark", () => {
    const family = "👨‍👩‍👧"; // 18 bytes, one character
    const name = safeName(`${family.repeat(10)}.png`, 18 * 3 + 4 + 10);
    expect(name).toBe(`${family.repeat(3)}.png`);
    const accented = safeName(`${"e\u0301".repeat(10)}.txt`, 4 + 5);
    expect(accented).toBe(`${"é".repeat(2)}.txt`); // NFC first: é is 2 bytes
    const zalgo = safeName(`${"a\u0300\u0301\u0302".repeat(5)}.txt`, 4 + 8);
    expect(zalgo).toBe("\u00e0\u0301\u0302.txt"); // one cluster of 7 bytes fits, the second not
  });

  it("cuts the whole name when its 'extension' is not a short one", () => {
    const name = safeName(`report.${"x".repeat(40)}`, 20);
    expect(name).toBe(`report.${"x".repeat(13)}`);
  });

  it("cuts an extension-only name rather than returning nothing", () => {
    expect(safeName(`.${"x".repeat(50)}`, 10)).toBe(`.${"x".repeat(9)}`);
    expect(safeName("😀😀.txt", 3)).toBe(FALLBACK_NAME); // not even one 4-byte character fits
  });

  it("never ends a cut name in a space, nor cuts it down to . or ..", () => {
    expect(safeName("abc def", 4)).toBe("abc");
    expect(safeName("..abc", 2)).toBe(FALLBACK_NAME);
    expect(safeName(". abc", 2)).toBe(FALLBACK_NAME);
  });

  it("keeps at least the extension's budget in mind when the room is tiny", () => {
    expect(safeName("abcdef.pdf", 5)).toBe("a.pdf");
    expect(safeName("abcdef.pdf", 4)).toBe("abcd"); // the extension alone would fill it
  });
});

describe("invariants (seeded fuzz)", () => {
  // Tricky pieces: separators, dots, controls, bidi, surrogate halves, combining marks, CJK, emoji, spaces.
  const pieces = [
    "/",
    "\\",
    ".",
    "..",
    " ",
    "\t",
    "\n",
    "\u0000",
    "\u007f",
    "\u0085",
    "\u202e",
    "\u2066",
    "\u2028",
    "\ud800",
    "\udc00",
    "\u0301",
    "\u200d",
    "a",
    "Z",
    "9",
    "-",
    "_",
    "%",
    "报",
    "告",
    "é",
    "😀",
    "👨‍👩‍👧",
    ".pdf",
    ".tar.gz",
    "~",
    "#",
    "?",
  ];
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const randomName = () => {
    const n = Math.floor(random() * (random() < 0.2 ? 600 : 20));
    let s = "";
    for (let i = 0; i < n; i++) s += pieces[Math.floor(random() * pieces.length)];
    return s;
  };

  it("every key is within 1,024 bytes, well-formed, NFC, and has exactly the four expected segments", () => {
    for (let i = 0; i < 3000; i++) {
      const prefix = random() < 0.5 ? "" : `${"p".repeat(Math.floor(random() * 900))}/`;
      const name = randomName();
      const k = archiveKey({ prefix, spaceId: "space1", dentryId: "12345", version: 7, name });
      expect(bytes(k)).toBeLessThanOrEqual(S3_MAX_KEY_BYTES);
      expect(Buffer.from(k, "utf8").toString("utf8")).toBe(k);
      expect(k.normalize("NFC")).toBe(k);
      expect(k.startsWith(`${prefix}space1/12345/v7/`)).toBe(true);
      const last = k.slice(`${prefix}space1/12345/v7/`.length);
      expect(last).not.toMatch(/[/\\\p{Cc}\p{Zl}\p{Zp}\p{Bidi_Control}]/u);
      expect(["", ".", ".."]).not.toContain(last);
      expect(last).toBe(last.trim());
      expect(archiveKey({ prefix, spaceId: "space1", dentryId: "12345", version: 7, name })).toBe(k);
    }
  });
});
