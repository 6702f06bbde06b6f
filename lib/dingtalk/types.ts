/**
 * DingTalk OpenAPI shapes: request inputs (plain types) and answers (zod schemas + inferred types).
 *
 * Answers are validated at the boundary. The rule: lenient where DingTalk's docs are (fields that are
 * documented but we do not rely on are optional; unknown enum values pass), strict where our code depends
 * on a field (ids, names, a file's size, download URLs and headers), so a malformed answer fails here with
 * a message naming the field instead of deep inside the transfer engine.
 */
import { z } from "zod";

// ── building blocks ─────────────────────────────────────────────────────────────────────────────────

/** Ids are documented as strings; accept numbers too (DingTalk ids are numeric strings) and normalise. */
const id = z.union([z.string().min(1), z.number()]).transform(String);

/**
 * A Java `Long` in DingTalk's docs: a JSON number, or a numeric string from some gateways. Either way it must
 * be a safe integer: "99999999999999999999" would otherwise become 1e20, a size or version that is not the one
 * DingTalk meant.
 */
const long = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int("must be at most 2^53-1")),
]);

/**
 * An enum whose documented values we name in the type, but which accepts any string at run time,
 * so that DingTalk adding a value does not break listings.
 */
function openEnum<const T extends string>(_values: readonly T[]) {
  return z.string() as z.ZodType<T | (string & {})>;
}

/** FILE | FOLDER. The send-link reference example answers lowercase ("file"), so normalise the case. */
const dentryType = z
  .string()
  .transform((value) => value.toUpperCase())
  .pipe(z.enum(["FILE", "FOLDER"]));

export const DENTRY_STATUSES = ["NORMAL", "DELETED", "EXPIRED"] as const;
export type DentryStatus = (typeof DENTRY_STATUSES)[number];
export type DentryType = z.output<typeof dentryType>;

export const REGIONS = ["ZHANGJIAKOU", "SHENZHEN", "SHANGHAI", "SINGAPORE", "UNKNOWN"] as const;
export type Region = (typeof REGIONS)[number];

// ── dentries (files and folders) ────────────────────────────────────────────────────────────────────

const appPropertyValue = z.object({
  name: z.string().optional(),
  value: z.string().optional(),
  /** PUBLIC | PRIVATE */
  visibility: z.string().optional(),
});

export const DentrySchema = z
  .object({
    id,
    spaceId: id.optional(),
    /** "0" is the space root. */
    parentId: id.optional(),
    type: dentryType,
    name: z.string().min(1),
    /** Bytes. Folders have none; files must have one (the transfer plans ranges from it). */
    size: long.optional(),
    path: z.string().optional(),
    /** Increments on every change: use it, not the minute-precision times, to detect change. */
    version: long.optional(),
    status: openEnum(DENTRY_STATUSES).optional(),
    extension: z.string().optional(),
    /** e.g. DOCUMENT, IMAGE (seen in listings). */
    category: z.string().optional(),
    creatorId: z.string().optional(),
    modifierId: z.string().optional(),
    /** ISO 8601 at minute precision, e.g. 2022-07-29T14:55Z. */
    createTime: z.string().optional(),
    modifiedTime: z.string().optional(),
    properties: z.object({ readOnly: z.boolean().optional() }).optional(),
    appProperties: z.record(z.string(), z.array(appPropertyValue)).optional(),
    uuid: z.string().optional(),
    partitionType: openEnum(["PUBLIC_OSS_PARTITION", "MINI_OSS_PARTITION"]).optional(),
    storageDriver: openEnum(["DINGTALK", "UNKNOWN"]).optional(),
    thumbnail: z
      .object({ width: z.number().optional(), height: z.number().optional(), url: z.string().optional() })
      .optional(),
  })
  .superRefine((dentry, ctx) => {
    if (dentry.type === "FILE" && dentry.size === undefined) {
      ctx.addIssue({ code: "custom", path: ["size"], message: "a FILE must have a size" });
    }
  });
export type Dentry = z.output<typeof DentrySchema>;

export const DentryPageSchema = z.object({
  /** Omitted by some deployments for an empty folder. */
  dentries: z.array(DentrySchema).default([]),
  /** Non-empty = more pages. */
  nextToken: z.string().optional(),
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
  resourceUrls: z.array(z.url()).min(1),
  /** Send every one unchanged with the GET (adding Range is safe). */
  headers: z.record(z.string(), z.string()),
  /**
   * Lifetime of the URLs and headers, seconds (900 in the docs). 0 or absent: unknown, so the URLs are
   * refreshed when the file host says they expired (a 403), not ahead of time.
   */
  expirationSeconds: z.number().int().nonnegative().optional(),
  region: openEnum(REGIONS).optional(),
  /** Documented as "no use case at present, ignore". */
  internalResourceUrls: z.array(z.string()).optional(),
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
export const DownloadInfoAnswerSchema = z
  .object({
    protocol: z.string(),
    headerSignatureInfo: z.unknown().optional(),
  })
  .transform((answer, ctx) => {
    if (answer.protocol !== DOWNLOAD_PROTOCOL)
      return { protocol: answer.protocol, headerSignatureInfo: undefined };
    const info = HeaderSignatureInfoSchema.safeParse(answer.headerSignatureInfo);
    if (!info.success) {
      for (const issue of info.error.issues) {
        ctx.addIssue({
          code: "custom",
          path: ["headerSignatureInfo", ...issue.path],
          message: issue.message,
        });
      }
      return z.NEVER;
    }
    return { protocol: answer.protocol, headerSignatureInfo: info.data };
  });

// ── space ──────────────────────────────────────────────────────────────────────────────────────────

export const SpaceSchema = z.object({
  id,
  name: z.string().optional(),
  /** Bytes. */
  quota: long.optional(),
  usedQuota: long.optional(),
  corpId: z.string().optional(),
  appId: z.string().optional(),
  ownerType: z.string().optional(),
  ownerId: z.string().optional(),
  scene: z.string().optional(),
  sceneId: z.string().optional(),
  status: z.string().optional(),
  creatorId: z.string().optional(),
  modifierId: z.string().optional(),
  createTime: z.string().optional(),
  modifiedTime: z.string().optional(),
  capabilities: z
    .object({
      canRecordRecentFile: z.boolean().optional(),
      canRename: z.boolean().optional(),
      canSearch: z.boolean().optional(),
    })
    .optional(),
  partitions: z
    .array(
      z.object({
        partitionType: z.string().optional(),
        quota: z
          .object({
            max: long.optional(),
            used: long.optional(),
            reserved: long.optional(),
            type: z.string().optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});
export type Space = z.output<typeof SpaceSchema>;

export const GetSpaceAnswerSchema = z.object({ space: SpaceSchema });

// ── access token ───────────────────────────────────────────────────────────────────────────────────

export const AccessTokenAnswerSchema = z.object({
  accessToken: z.string().min(1),
  /** Seconds (7200 in production). */
  expireIn: z.number().int().positive(),
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
