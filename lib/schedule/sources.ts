/**
 * What a scheduled run archives: a list of sources, each a DingTalk space or a folder in it.
 * Given as ARCHIVE_SOURCES (a JSON array) or in the schedule's event, validated here with messages naming
 * the bad entry and field, e.g. `ARCHIVE_SOURCES[1].spaceId is required`.
 */
import { z } from "zod";
import { dingTalkId } from "../dingtalk/ids";

/** A source list longer than this is a configuration mistake (and would bloat the continuation message). */
export const MAX_SOURCES = 100;

export const archiveSourceSchema = z.strictObject({
  spaceId: dingTalkId(),
  /** The folder to start from; "0" = the space root. */
  parentId: dingTalkId().default("0"),
  /** Also walk subfolders (the default); false = only this folder's own files. */
  recursive: z.boolean({ error: "must be true or false" }).default(true),
  /** The operator whose permissions the listing and the archive jobs use; default DINGTALK_UNION_ID. */
  unionId: dingTalkId().optional(),
});

export type ArchiveSource = z.output<typeof archiveSourceSchema>;

export const archiveSourcesSchema = z
  .array(archiveSourceSchema, { error: "must be a JSON array of {spaceId, parentId?, recursive?, unionId?}" })
  .max(MAX_SOURCES, `must list at most ${MAX_SOURCES} sources`);

/** Thrown with every problem of a source list, each naming where it is (`ARCHIVE_SOURCES[0].spaceId ...`). */
export class SourcesError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join("; "));
    this.name = "SourcesError";
    this.problems = problems;
  }
}

/**
 * Validate a parsed source list. `what` names it in messages (the variable, or `sources` of an event).
 * `defaultUnionId` is DINGTALK_UNION_ID: a source without its own unionId needs it (the listing API does).
 */
export function parseSources(
  value: unknown,
  what: string,
  defaultUnionId: string | undefined,
): ArchiveSource[] {
  const result = archiveSourcesSchema.safeParse(value);
  if (!result.success) {
    throw new SourcesError(
      result.error.issues.map((issue) => `${what}${pathOf(issue.path)} ${issue.message}`),
    );
  }
  const problems = result.data.flatMap((source, i) =>
    source.unionId === undefined && defaultUnionId === undefined
      ? [`${what}[${i}].unionId is required when DINGTALK_UNION_ID is not set`]
      : [],
  );
  if (problems.length > 0) throw new SourcesError(problems);
  return dedupe(result.data);
}

/** Parse ARCHIVE_SOURCES' text: JSON first (its error names the variable), then the list. */
export function parseSourcesJson(
  text: string,
  what: string,
  defaultUnionId: string | undefined,
): ArchiveSource[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SourcesError([`${what} is not valid JSON: ${(error as Error).message}`]);
  }
  return parseSources(value, what, defaultUnionId);
}

/**
 * Drop sources another one already covers, so a run lists nothing twice: exact duplicates, and any source of
 * a space whose root is also a recursive source with the same operator. (A folder inside another source's
 * folder cannot be recognised without API calls; its files are queued once per invocation regardless.)
 */
function dedupe(sources: ArchiveSource[]): ArchiveSource[] {
  const wholeSpace = new Set(
    sources.filter((s) => s.parentId === "0" && s.recursive).map((s) => `${s.spaceId}\n${s.unionId ?? ""}`),
  );
  const seen = new Set<string>();
  return sources.filter((s) => {
    const key = JSON.stringify([s.spaceId, s.parentId, s.recursive, s.unionId ?? ""]);
    if (seen.has(key)) return false;
    seen.add(key);
    const coveredByRoot = wholeSpace.has(`${s.spaceId}\n${s.unionId ?? ""}`);
    return !coveredByRoot || (s.parentId === "0" && s.recursive);
  });
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}
