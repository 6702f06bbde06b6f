/**
 * What S3 already holds, read by LISTING the space's prefix (1,000 keys per request) instead of one
 * HeadObject per file. Keys follow lib/archive/key.ts: `{prefix}{spaceId}/{dentryId}/v{version}/{name}`.
 */
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { idFromKeySegment, keySegment } from "../dingtalk/ids";

/** One archived file version. */
export interface ArchivedVersion {
  dentryId: string;
  version: number;
}

/**
 * Keys: `${dentryId}/v${version}`; values: the full S3 keys holding that version (more than one after a
 * rename: the old name's object is kept). A version archived under another name than its listed one is a
 * rename, which the worker copies inside S3.
 */
export type ArchivedIndex = ReadonlyMap<string, ReadonlySet<string>>;

export function versionKey(dentryId: string, version: number): string {
  return `${dentryId}/v${version}`;
}

/**
 * (dentryId, version) of an archive key under `spacePrefix` (= `{prefix}{spaceId}/`), or undefined for
 * anything else that lives there (a stray object, a folder marker).
 */
export function parseArchiveKey(spacePrefix: string, key: string): ArchivedVersion | undefined {
  if (!key.startsWith(spacePrefix)) return undefined;
  const [segment, versionPart, name, ...rest] = key.slice(spacePrefix.length).split("/");
  const dentryId = segment === undefined ? undefined : idFromKeySegment(segment);
  if (!dentryId || !versionPart || !name || rest.length > 0) return undefined;
  const match = /^v([1-9]\d{0,15})$/.exec(versionPart);
  const version = match ? Number(match[1]) : Number.NaN;
  return Number.isSafeInteger(version) ? { dentryId, version } : undefined;
}

export interface ListArchivedInput {
  bucket: string;
  /** ARCHIVE_PREFIX as lib/config normalises it: "" or ending in "/". */
  prefix: string;
  spaceId: string;
  /** Keys per ListObjectsV2 call; default (and S3's maximum) 1,000. */
  pageSize?: number;
}

/** Every archived (dentryId, version) of a space and its keys, one ListObjectsV2 page after another. */
export async function listArchivedVersions(
  s3: S3Client,
  input: ListArchivedInput,
): Promise<Map<string, Set<string>>> {
  const spacePrefix = `${input.prefix}${keySegment("spaceId", input.spaceId)}/`;
  const archived = new Map<string, Set<string>>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: input.bucket,
        Prefix: spacePrefix,
        ContinuationToken: token,
        MaxKeys: input.pageSize,
      }),
    );
    for (const object of page.Contents ?? []) {
      const parsed = object.Key === undefined ? undefined : parseArchiveKey(spacePrefix, object.Key);
      if (!parsed || object.Key === undefined) continue;
      const id = versionKey(parsed.dentryId, parsed.version);
      const keys = archived.get(id) ?? new Set<string>();
      keys.add(object.Key);
      archived.set(id, keys);
    }
    // A truncated page without a token would loop forever: stop instead.
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return archived;
}
