/** Fault rules: which requests misbehave, and how. */
import { z } from "zod";
import { DingTalkError } from "./http";
import type { FaultKind, FaultRule, SandboxApi } from "./types";

/** Every API the sandbox answers and counts (its `calls()` keys). */
export const API_NAMES = [
  "token",
  "sendLink",
  "downloadInfo",
  "listDentries",
  "listAllDentries",
  "getDentry",
  "getSpace",
  "listVersions",
  "file",
] as const satisfies readonly SandboxApi[];

const FAULT_KINDS = [
  "latency",
  "systemError",
  "operationTimeout",
  "qpsLimit",
  "systemBusy",
  "tokenExpired",
  "fileArchived",
  "error",
  "dropConnection",
  "truncate",
  "ignoreRange",
  "urlExpired",
  "stall",
  "extraFields",
] as const satisfies readonly FaultKind[];

const count = z.number().int().nonnegative();
export const faultRuleSchema = z.strictObject({
  api: z.enum([...API_NAMES, "*"]),
  kind: z.enum(FAULT_KINDS),
  times: count.optional(),
  probability: z.number().min(0).max(1).optional(),
  latencyMs: count.optional(),
  afterBytes: count.optional(),
  status: z.number().int().min(100).max(599).optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  urlIndex: count.optional(),
  afterEffect: z.boolean().optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
});
/** Validate one rule or an array of rules (admin endpoint, SANDBOX_FAULTS); errors name the bad field. */
export function parseFaultRules(json: unknown): { rules: FaultRule[] } | { error: string } {
  const parsed = Array.isArray(json)
    ? z.array(faultRuleSchema).safeParse(json)
    : faultRuleSchema.safeParse(json);
  if (!parsed.success) return { error: z.prettifyError(parsed.error) };
  return { rules: Array.isArray(parsed.data) ? parsed.data : [parsed.data] };
}

/** Kinds that only make sense on the file host, and kinds that only make sense on the OpenAPI. */
const FILE_HOST_ONLY = new Set<FaultKind>(["ignoreRange", "urlExpired"]);
const API_ONLY = new Set<FaultKind>(["tokenExpired", "fileArchived", "extraFields"]);

function applies(rule: FaultRule, api: SandboxApi, urlIndex: number | undefined): boolean {
  if (rule.api !== "*" && rule.api !== api) return false;
  if (api === "file") {
    if (rule.urlIndex !== undefined && rule.urlIndex !== urlIndex) return false;
    return !API_ONLY.has(rule.kind);
  }
  if (FILE_HOST_ONLY.has(rule.kind)) return false;
  if (rule.kind === "fileArchived") return api === "downloadInfo";
  if (rule.kind === "tokenExpired") return api !== "token";
  return true;
}

/** What the fired faults ask of one request. */
export interface FaultPlan {
  /** Total delay before answering. */
  latencyMs: number;
  /** An error answer instead of the real one (error-like kinds, urlExpired). */
  answer?: FaultRule;
  /** Misbehaviour while sending the body: dropConnection, truncate or stall. */
  body?: FaultRule;
  /** Fields merged into a successful answer (extraFields). */
  extraFields?: Record<string, unknown>;
  ignoreRange: boolean;
}

const BODY_KINDS = new Set<FaultKind>(["dropConnection", "truncate", "stall"]);

export class FaultEngine {
  private rules: Array<{ rule: FaultRule; left: number }> = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(...rules: FaultRule[]): void {
    for (const rule of rules) this.rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  /** The active rules, with how many applications each has left (null = unlimited). */
  list(): Array<FaultRule & { remaining: number | null }> {
    return this.rules.map(({ rule, left }) => ({ ...rule, remaining: Number.isFinite(left) ? left : null }));
  }

  /**
   * Decide the faults for one request: the rules that match and fire (consuming one of their `times`),
   * plus faults asked for in the request's `x-sandbox-fault` header.
   */
  plan(api: SandboxApi, header: string | undefined, urlIndex?: number): FaultPlan {
    const fired: FaultRule[] = [];
    for (const entry of this.rules) {
      if (entry.left <= 0 || !applies(entry.rule, api, urlIndex)) continue;
      if (this.random() >= (entry.rule.probability ?? 1)) continue;
      entry.left -= 1;
      fired.push(entry.rule);
    }
    this.rules = this.rules.filter((e) => e.left > 0);
    for (const rule of parseFaultHeader(header, api)) if (applies(rule, api, urlIndex)) fired.push(rule);

    const plan: FaultPlan = { latencyMs: 0, ignoreRange: false };
    for (const rule of fired) {
      if (rule.kind === "latency") plan.latencyMs += rule.latencyMs ?? 0;
      else if (rule.kind === "ignoreRange") plan.ignoreRange = true;
      else if (rule.kind === "extraFields") plan.extraFields = { ...plan.extraFields, ...rule.fields };
      else if (BODY_KINDS.has(rule.kind)) plan.body ??= rule;
      else plan.answer ??= rule;
    }
    return plan;
  }
}

/**
 * `x-sandbox-fault: systemError` or `truncate; afterBytes=100` (several separated by ","):
 * a one-off fault for this request only.
 */
export function parseFaultHeader(header: string | undefined, api: SandboxApi): FaultRule[] {
  if (!header) return [];
  const rules: FaultRule[] = [];
  for (const part of header.split(",")) {
    const [kind, ...params] = part.split(";").map((s) => s.trim());
    const candidate: Record<string, unknown> = { api, kind };
    for (const param of params) {
      const eq = param.indexOf("=");
      if (eq < 0) continue;
      const key = param.slice(0, eq).trim();
      const value = param.slice(eq + 1).trim();
      candidate[key] = /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    }
    const parsed = faultRuleSchema.safeParse(candidate);
    if (parsed.success) rules.push(parsed.data);
  }
  return rules;
}

/** The DingTalk error an error-like fault answers with on the OpenAPI. */
const FAULT_ERRORS: Partial<Record<FaultKind, [status: number, code: string, message: string]>> = {
  systemError: [500, "systemError", "system error (sandbox fault)"],
  operationTimeout: [503, "operationTimeout", "operation timeout (sandbox fault)"],
  qpsLimit: [403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "qps limit for appkey and api"],
  systemBusy: [429, "system.busy", "system is busy, please try again later"],
  tokenExpired: [400, "InvalidAuthentication", "不合法的access_token"],
  fileArchived: [400, "fileArchived", "file is archived, unarchiving started; try again later"],
};

export function faultError(rule: FaultRule): DingTalkError {
  const [status, code, message] = FAULT_ERRORS[rule.kind] ?? [500, "unknownError", "Unknown Error"];
  return new DingTalkError(rule.status ?? status, rule.code ?? code, rule.message ?? message);
}
