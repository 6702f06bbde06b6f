import { dingTalkId } from "../dingtalk/ids";
import * as z from "../schema";
import { type SecretSource, secretSource } from "./secret-source";
import {
  collect,
  commaList,
  type Env,
  finish,
  httpUrl,
  loadSection,
  nonEmpty,
  parseSection,
  trueFalse,
  wholeNumber,
} from "./section";

/** DingTalk's public OpenAPI host; the sandbox is chosen by setting DINGTALK_API_BASE. */
export const DEFAULT_DINGTALK_API_BASE = "https://api.dingtalk.com";

export interface DingTalkConfig {
  apiBase: string;
  appKey: string;
  appSecret: SecretSource;
  /** The operator whose permissions calls run with when a request names none. */
  defaultUnionId: string | undefined;
  /** Per DingTalk call attempt (answer and body). */
  timeoutMs: number;
  /** Ask for download URLs inside Alibaba Cloud's network (deployments there only). */
  preferIntranet: boolean;
  /** The only union ids a request may name (ALLOWED_UNION_IDS; default just DINGTALK_UNION_ID). */
  allowedUnionIds: string[];
}

/**
 * Plain http only for a server on this machine (the sandbox): anywhere else the app secret and every access
 * token would cross the network in the clear.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

const apiBaseUrl = httpUrl.check(
  z.refine((url: string) => {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || isLoopbackHost(parsed.hostname);
  }, "must be an https URL (plain http only for a loopback host: 127.0.0.0/8, ::1, localhost)"),
);

const unionIdList = commaList(
  z
    .array(dingTalkId(), { error: "must be a comma-separated list of union ids" })
    .check(z.minLength(1, "must name at least one union id")),
);

export interface UnionIdPolicy {
  /** DINGTALK_UNION_ID: whom a request naming no union id runs as. */
  defaultUnionId: string | undefined;
  /** ALLOWED_UNION_IDS, default just DINGTALK_UNION_ID: the only union ids a request may name. */
  allowedUnionIds: string[];
}

/** Whom requests may act as (also read by dingtalk-events, which needs no app secret). */
export function loadUnionIdPolicy(env: Env = process.env): UnionIdPolicy {
  return loadSection(
    env,
    { DINGTALK_UNION_ID: z.optional(nonEmpty), ALLOWED_UNION_IDS: z.optional(unionIdList) },
    (section) => ({
      defaultUnionId: section.DINGTALK_UNION_ID,
      allowedUnionIds:
        section.ALLOWED_UNION_IDS ?? (section.DINGTALK_UNION_ID ? [section.DINGTALK_UNION_ID] : []),
    }),
  );
}

export function loadDingTalkConfig(env: Env = process.env): DingTalkConfig {
  const problems: string[] = [];
  const section = parseSection(
    env,
    {
      DINGTALK_API_BASE: z._default(apiBaseUrl, DEFAULT_DINGTALK_API_BASE),
      DINGTALK_APP_KEY: nonEmpty,
      DINGTALK_TIMEOUT_MS: z._default(wholeNumber(100, 60_000), 10_000),
      DINGTALK_PREFER_INTRANET: trueFalse,
    },
    problems,
  );
  const appSecret = secretSource(env, "DINGTALK_APP_SECRET", problems);
  const operators = collect(problems, () => loadUnionIdPolicy(env));
  return finish(problems, () => ({
    apiBase: section.DINGTALK_API_BASE,
    appKey: section.DINGTALK_APP_KEY,
    appSecret: appSecret as SecretSource,
    timeoutMs: section.DINGTALK_TIMEOUT_MS,
    preferIntranet: section.DINGTALK_PREFER_INTRANET,
    ...(operators as UnionIdPolicy),
  }));
}
