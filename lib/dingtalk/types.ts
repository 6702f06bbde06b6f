/**
 * DingTalk OpenAPI shapes: request inputs (plain types) and answers (zod schemas + inferred types).
 *
 * Answers are validated at the boundary. The rule: lenient where DingTalk's docs are (fields that are
 * documented but we do not rely on are optional; unknown enum values pass), strict where our code depends
 * on a field (ids, names, a file's size, download URLs and headers), so a malformed answer fails here with
 * a message naming the field instead of deep inside the transfer engine.
 */
import * as z from "../schema";

// ── building blocks ─────────────────────────────────────────────────────────────────────────────────

/** Ids are documented as strings; accept numbers too (DingTalk ids are numeric strings) and normalise. */
const id = z.pipe(
  z.union([z.string().check(z.minLength(1)), z.number()]),
  z.transform((value: string | number) => String(value)),
);

/**
 * A Java `Long` in DingTalk's docs: a JSON number, or a numeric string from some gateways. Either way it must
 * be a safe integer: "99999999999999999999" would otherwise become 1e20, a size or version that is not the one
 * DingTalk meant.
 */
const long = z.union([
  z.number().check(z.int(), z.nonnegative()),
  z.pipe(
    z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number)),
    z.number().check(z.int("must be at most 2^53-1")),
  ),
]);

/**
 * An enum whose documented values we name in the type, but which accepts any string at run time,
 * so that DingTalk adding a value does not break listings.
 */
function openEnum<const T extends string>(_values: readonly T[]) {
  return z.string() as unknown as z.ZodMiniType<T | (string & {})>;
}

/** FILE | FOLDER. The send-link reference example answers lowercase ("file"), so normalise the case. */
const dentryType = z.pipe(
  z.pipe(
    z.string(),
    z.transform((value: string) => value.toUpperCase()),
  ),
  z.enum(["FILE", "FOLDER"]),
);

export const DENTRY_STATUSES = ["NORMAL", "DELETED", "EXPIRED"] as const;
export type DentryStatus = (typeof DENTRY_STATUSES)[number];
export type DentryType = z.output<typeof dentryType>;

export const REGIONS = ["ZHANGJIAKOU", "SHENZHEN", "SHANGHAI", "SINGAPORE", "UNKNOWN"] as const;
export type Region = (typeof REGIONS)[number];

const optionalString = z.optional(z.string());

// ── dentries (files and folders) ────────────────────────────────────────────────────────────────────

const appPropertyValue = z.object({
  name: optionalString,
  value: optionalString,
  /** PUBLIC | PRIVATE */
  visibility: optionalString,
});

export const DentrySchema = z
  .object({
    id,
    spaceId: z.optional(id),
    /** "0" is the space root. */
    parentId: z.optional(id),
    type: dentryType,
    name: z.string().check(z.minLength(1)),
    /** Bytes. Folders have none; files must have one (the transfer plans ranges from it). */
    size: z.optional(long),
    path: optionalString,
    /** Increments on every change: use it, not the minute-precision times, to detect change. */
    version: z.optional(long),
    status: z.optional(openEnum(DENTRY_STATUSES)),
    extension: optionalString,
    /** e.g. DOCUMENT, IMAGE (seen in listings). */
    category: optionalString,
    creatorId: optionalString,
    modifierId: optionalString,
    /** ISO 8601 at minute precision, e.g. 2022-07-29T14:55Z. */
    createTime: optionalString,
    modifiedTime: optionalString,
    properties: z.optional(z.object({ readOnly: z.optional(z.boolean()) })),
    appProperties: z.optional(z.record(z.string(), z.array(appPropertyValue))),
    uuid: optionalString,
    partitionType: z.optional(openEnum(["PUBLIC_OSS_PARTITION", "MINI_OSS_PARTITION"])),
    storageDriver: z.optional(openEnum(["DINGTALK", "UNKNOWN"])),
    thumbnail: z.optional(
      z.object({ width: z.optional(z.number()), height: z.optional(z.number()), url: optionalString }),
    ),
  })
  .check(
    z.superRefine((dentry, ctx) => {
      if (dentry.type === "FILE" && dentry.size === undefined) {
        ctx.addIssue({ code: "custom", path: ["size"], message: "a FILE must have a size" });
      }
    }),
  );
export type Dentry = z.output<typeof DentrySchema>;

export const DentryPageSchema = z.object({
  /** Omitted by some deployments for an empty folder. */
  dentries: z._default(z.array(DentrySchema), []),
  /** Non-empty = more pages. */
  nextToken: optionalString,
});
export type DentryPage = z.output<typeof DentryPageSchema>;

export const GetDentryAnswerSchema = z.object({ dentry: DentrySchema });

// ── convFile: a file link sent into a conversation ─────────────────────────────────────────────────

/** The `file` of send-file-link's answer, as documented. Callers get it as DingTalk sent it. */
export interface ConvFile {
  id: string | number;
  /** openConversationId the file was sent to. */
  conversationId?: string;
  spaceId?: string | number;
  parentId?: string | number;
  type?: string;
  name?: string;
  size?: number | string;
  path?: string;
  version?: number | string;
  status?: string;
  extension?: string;
  creatorId?: string;
  modifierId?: string;
  createTime?: string;
  modifiedTime?: string;
  uuid?: string;
  [field: string]: unknown;
}

/** Send-file-link's answer: `{file: {...}}` per the reference, plus whatever else DingTalk adds. */
export interface SendFileLinkResult {
  file?: ConvFile;
  [field: string]: unknown;
}

/**
 * A 2xx from send-file-link means the link was posted, so any JSON object is a success: it is stored and
 * returned as DingTalk sent it, unknown or unexpected fields included. Refusing it would report a failure
 * for a link that is in the conversation (and invite a second send).
 */
export const SendFileLinkResultSchema = z.custom<SendFileLinkResult>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "must be a JSON object",
);

// ── download info ──────────────────────────────────────────────────────────────────────────────────

/** Signed URLs and headers: secrets. Never log them or put them in an error message. */
export const HeaderSignatureInfoSchema = z.object({
  /** In order of preference: try the next one when one fails. */
  resourceUrls: z.array(z.url()).check(z.minLength(1)),
  /** Send every one unchanged with the GET (adding Range is safe). */
  headers: z.record(z.string(), z.string()),
  /**
   * Lifetime of the URLs and headers, seconds (900 in the docs). 0 or absent: unknown, so the URLs are
   * refreshed when the file host says they expired (a 403), not ahead of time.
   */
  expirationSeconds: z.optional(z.number().check(z.int(), z.nonnegative())),
  region: z.optional(openEnum(REGIONS)),
  /** Documented as "no use case at present, ignore". */
  internalResourceUrls: z.optional(z.array(z.string())),
});
export type HeaderSignatureInfo = z.output<typeof HeaderSignatureInfoSchema>;

/** HEADER_SIGNATURE is the only documented protocol, and the only one the transfer engine speaks. */
export const DOWNLOAD_PROTOCOL = "HEADER_SIGNATURE";

export interface DownloadInfo {
  protocol: typeof DOWNLOAD_PROTOCOL;
  headerSignatureInfo: HeaderSignatureInfo;
}

/**
 * The answer as it comes. Another protocol passes here, so the client can fail it with its own code
 * (UnsupportedDownloadProtocol) rather than as a malformed answer; HEADER_SIGNATURE needs its info.
 */
export const DownloadInfoAnswerSchema = z.pipe(
  z.object({
    protocol: z.string(),
    headerSignatureInfo: z.optional(z.unknown()),
  }),
  z.transform((answer: { protocol: string; headerSignatureInfo?: unknown }, ctx) => {
    if (answer.protocol !== DOWNLOAD_PROTOCOL)
      return { protocol: answer.protocol, headerSignatureInfo: undefined };
    const info = HeaderSignatureInfoSchema.safeParse(answer.headerSignatureInfo);
    if (!info.success) {
      for (const issue of info.error.issues) {
        ctx.issues.push({
          code: "custom",
          path: ["headerSignatureInfo", ...issue.path],
          message: issue.message,
          input: answer.headerSignatureInfo,
        });
      }
      return z.NEVER;
    }
    return { protocol: answer.protocol, headerSignatureInfo: info.data };
  }),
);

// ── space ──────────────────────────────────────────────────────────────────────────────────────────

const quota = z.object({
  max: z.optional(long),
  used: z.optional(long),
  reserved: z.optional(long),
  type: optionalString,
});

export const SpaceSchema = z.object({
  id,
  name: optionalString,
  /** Bytes. */
  quota: z.optional(long),
  usedQuota: z.optional(long),
  corpId: optionalString,
  appId: optionalString,
  ownerType: optionalString,
  ownerId: optionalString,
  scene: optionalString,
  sceneId: optionalString,
  status: optionalString,
  creatorId: optionalString,
  modifierId: optionalString,
  createTime: optionalString,
  modifiedTime: optionalString,
  capabilities: z.optional(
    z.object({
      canRecordRecentFile: z.optional(z.boolean()),
      canRename: z.optional(z.boolean()),
      canSearch: z.optional(z.boolean()),
    }),
  ),
  partitions: z.optional(z.array(z.object({ partitionType: optionalString, quota: z.optional(quota) }))),
});
export type Space = z.output<typeof SpaceSchema>;

export const GetSpaceAnswerSchema = z.object({ space: SpaceSchema });

// ── access token ───────────────────────────────────────────────────────────────────────────────────

export const AccessTokenAnswerSchema = z.object({
  accessToken: z.string().check(z.minLength(1)),
  /** Seconds (7200 in production). */
  expireIn: z.number().check(z.int(), z.positive()),
});

// ── request inputs ─────────────────────────────────────────────────────────────────────────────────

/** Every storage/convFile call acts on behalf of an operator. */
export interface Operator {
  unionId: string;
}

export interface SendFileLinkInput extends Operator {
  spaceId: string;
  dentryId: string;
  openConversationId: string;
}

export interface GetFileDownloadInfoInput extends Operator {
  spaceId: string;
  dentryId: string;
  /** A specific version; default the latest. */
  version?: number;
  /** DingTalk defaults this to true server-side; we send false unless asked. */
  preferIntranet?: boolean;
}

export type DentryOrderBy = "MODIFIED_TIME" | "CREATE_TIME" | "NAME" | "SIZE";

export interface ListDentriesInput extends Operator {
  spaceId: string;
  /** "0" = the space root. */
  parentId: string;
  /** 1..50 per page (DingTalk's maximum is 50; default 50 to spend API calls frugally). */
  maxResults?: number;
  orderBy?: DentryOrderBy;
  order?: "ASC" | "DESC";
  withThumbnail?: boolean;
}

export interface ListDentriesPageInput extends ListDentriesInput {
  /** From the previous page; omit for the first. */
  nextToken?: string;
}

/** The whole space, flat (files and folders of every level), by modified time; up to 50 a page. */
export interface ListAllDentriesPageInput extends Operator {
  spaceId: string;
  /** 1..50 (default 50). */
  maxResults?: number;
  /** DESC (newest modified first) or ASC. */
  order?: "ASC" | "DESC";
  /** From the previous page; omit for the first. */
  nextToken?: string;
}

export interface GetDentryInput extends Operator {
  spaceId: string;
  dentryId: string;
}

export interface GetSpaceInput extends Operator {
  spaceId: string;
}
