/** Small helpers for DingTalk's wire format on top of node:http. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** A DingTalk error answer: `{"code","message","requestid"}` with the given HTTP status. */
export class DingTalkError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const paramError = (code: string, message: string) => new DingTalkError(400, code, message);

/** Request and trace ids in DingTalk's shape (uppercase UUID / 32 hex digits). */
export function newRequestIds(): { requestId: string; traceId: string } {
  return {
    requestId: randomUUID().toUpperCase(),
    traceId: randomUUID().replaceAll("-", ""),
  };
}

export function setRequestIdHeaders(res: ServerResponse, ids: { requestId: string; traceId: string }): void {
  res.setHeader("x-acs-request-id", ids.requestId);
  res.setHeader("x-acs-trace-id", ids.traceId);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json;charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendDingTalkError(res: ServerResponse, err: DingTalkError, requestId: string): void {
  sendJson(res, err.status, { code: err.code, message: err.message, requestid: requestId });
}

const MAX_BODY = 1024 * 1024;

/** Read a JSON object body; an empty body is `{}`. Malformed JSON or a non-object is a paramError. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_BODY) throw paramError("paramError", "request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw paramError("paramError", "request body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw paramError("paramError", "request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
