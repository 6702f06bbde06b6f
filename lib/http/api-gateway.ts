import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { AppError } from "../errors";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The request body as text, refused with 413 past `maxBytes` before anything else looks at it. */
export function readBody(event: HttpEvent, maxBytes: number): string {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.byteLength > maxBytes) {
    throw new AppError(
      413,
      "PayloadTooLarge",
      `Request body is ${bytes.byteLength} bytes; the limit is ${maxBytes}`,
    );
  }
  return bytes.toString("utf8");
}

/** Parse a JSON body, or 400 saying it is not JSON. */
export function parseJsonBody(body: string): unknown {
  if (body.trim() === "")
    throw new AppError(400, "InvalidRequest", "Request body is empty; expected a JSON object");
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new AppError(400, "InvalidJson", `Request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}
