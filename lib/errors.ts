/**
 * An error meant for the caller of one of our endpoints: an HTTP status, a stable code, a message that
 * names what is wrong, and optional details (e.g. the failing fields). Rendered by lib/http.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** DingTalk's request id when DingTalk produced the failure: what DingTalk support asks for. */
  readonly requestId: string | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { details?: unknown; requestId?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.details = extra.details;
    this.requestId = extra.requestId;
  }
}

export interface FieldProblem {
  field: string;
  problem: string;
}

/** 400 naming every bad field. */
export function invalidInput(what: string, problems: FieldProblem[]): AppError {
  const summary = problems.map((p) => `${p.field}: ${p.problem}`).join("; ");
  return new AppError(400, "InvalidRequest", `Invalid ${what}: ${summary}`, {
    details: { fields: problems },
  });
}
