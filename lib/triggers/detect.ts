import type { APIGatewayProxyEventV2, EventBridgeEvent, SNSEvent, SQSEvent } from "aws-lambda";
import { AppError } from "../errors";

/** The shapes of event a function of this bundle can be invoked with. */
export type TriggerEvent =
  | { kind: "http"; event: APIGatewayProxyEventV2 }
  | { kind: "sqs"; event: SQSEvent }
  | { kind: "sns"; event: SNSEvent }
  | { kind: "eventbridge"; event: EventBridgeEvent<string, unknown> }
  | { kind: "direct"; event: unknown };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function firstRecordSource(event: Record<string, unknown>): unknown {
  const records = event.Records;
  if (!Array.isArray(records) || !isObject(records[0])) return undefined;
  return records[0].eventSource ?? records[0].EventSource;
}

/** Tell which trigger produced `event`; anything unrecognised is a direct invoke with the payload itself. */
export function detectTrigger(event: unknown): TriggerEvent {
  if (isObject(event)) {
    if (isObject(event.requestContext) && isObject(event.requestContext.http)) {
      return { kind: "http", event: event as unknown as APIGatewayProxyEventV2 };
    }
    const source = firstRecordSource(event);
    if (source === "aws:sqs") return { kind: "sqs", event: event as unknown as SQSEvent };
    if (source === "aws:sns") return { kind: "sns", event: event as unknown as SNSEvent };
    if (typeof event["detail-type"] === "string" && "detail" in event && typeof event.id === "string") {
      return { kind: "eventbridge", event: event as unknown as EventBridgeEvent<string, unknown> };
    }
  }
  return { kind: "direct", event };
}

export interface UnwrappedMessage {
  /** The job itself: the request object another system sent. */
  payload: unknown;
  /** The id the original sender gave this delivery, stable across redeliveries, when the envelope has one. */
  id: string | undefined;
  /** For EventBridge envelopes, the detail-type (e.g. "SendLinkRequested"). */
  detailType: string | undefined;
}

/**
 * A queue message's body may be the request itself, an EventBridge event (a rule targeting the queue),
 * or an SNS notification (a subscription without raw delivery). Peel those envelopes off.
 */
export function unwrapMessageBody(body: string): UnwrappedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new AppError(400, "InvalidJson", `Message body is not valid JSON: ${(error as Error).message}`);
  }
  return unwrapEnvelope(parsed);
}

export function unwrapEnvelope(parsed: unknown): UnwrappedMessage {
  if (isObject(parsed)) {
    if (parsed.Type === "Notification" && typeof parsed.Message === "string") {
      const inner = unwrapMessageBody(parsed.Message);
      return {
        ...inner,
        id: inner.id ?? (typeof parsed.MessageId === "string" ? parsed.MessageId : undefined),
      };
    }
    if (typeof parsed["detail-type"] === "string" && "detail" in parsed) {
      return {
        payload: parsed.detail,
        id: typeof parsed.id === "string" ? parsed.id : undefined,
        detailType: parsed["detail-type"],
      };
    }
  }
  return { payload: parsed, id: undefined, detailType: undefined };
}
