/**
 * IAM policy evaluation for tests, as IAM does it for an identity policy: an explicit Deny wins, else some
 * Allow must match the action (case-insensitive, `*` and `?` wildcards), the resource (ARN with `*` and `?`,
 * case-sensitive) and every condition (each operator's keys; a key absent from the request fails the test
 * unless the operator ends in IfExists; several values are alternatives). Only what the project's policies
 * use is implemented; anything else throws rather than guessing.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Request {
  action: string;
  resource: string;
  /** Condition keys of the request, e.g. `s3:prefix` for ListBucket. */
  context?: Record<string, string>;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** A glob of IAM's kind: `*` any run of characters (`/` and `:` included), `?` one character. */
export function globMatches(pattern: string, value: string, caseInsensitive = false): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, caseInsensitive ? "si" : "s").test(value);
}

const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => globMatches(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => globMatches(p, v),
};

function conditionsHold(condition: PolicyStatement["Condition"], context: Record<string, string>): boolean {
  for (const [rawOperator, keys] of Object.entries(condition ?? {})) {
    const ifExists = rawOperator.endsWith("IfExists");
    const operator = ifExists ? rawOperator.slice(0, -"IfExists".length) : rawOperator;
    const test = OPERATORS[operator];
    if (!test) throw new Error(`condition operator ${rawOperator} is not implemented in this evaluator`);
    for (const [key, patterns] of Object.entries(keys)) {
      const value = context[key];
      if (value === undefined) {
        if (ifExists) continue;
        return false;
      }
      if (!list(patterns).some((pattern) => test(pattern, value))) return false;
    }
  }
  return true;
}

function statementMatches(statement: PolicyStatement, request: Request): boolean {
  return (
    list(statement.Action).some((action) => globMatches(action, request.action, true)) &&
    list(statement.Resource).some((resource) => globMatches(resource, request.resource)) &&
    conditionsHold(statement.Condition, request.context ?? {})
  );
}

export type Decision = "allowed" | "denied" | "explicitly denied";

export function evaluate(statements: readonly PolicyStatement[], request: Request): Decision {
  const matching = statements.filter((statement) => statementMatches(statement, request));
  if (matching.some((statement) => statement.Effect === "Deny")) return "explicitly denied";
  return matching.some((statement) => statement.Effect === "Allow") ? "allowed" : "denied";
}
