import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { AppError } from "../errors";
import type { HttpEvent, HttpResult } from "../http/api-gateway";
import { errorResponse } from "../http/errors";
import { detectTrigger, type TriggerEvent, unwrapEnvelope, unwrapMessageBody } from "./detect";

/** A job delivered by EventBridge, SNS or a direct invoke, out of its envelope. */
export interface Delivery {
  /** The job itself: the request object another system sent. */
  payload: unknown;
  /** The sender's id of this delivery (event id, SNS message id), stable across redeliveries, when there is one. */
  id: string | undefined;
}

/** What a function does with each trigger it takes; a trigger without a route is refused (see dispatch). */
export interface TriggerRoutes<R = unknown> {
  /** API Gateway's HTTP event; the answer is the HTTP response. */
  http?: (event: HttpEvent) => Promise<HttpResult>;
  /** A batch of SQS records (run each with `eachRecord`). */
  sqs?: (event: SQSEvent) => Promise<SQSBatchResponse>;
  eventbridge?: (delivery: Delivery) => Promise<R>;
  sns?: (delivery: Delivery) => Promise<R>;
  direct?: (delivery: Delivery) => Promise<R>;
}

const TRIGGER_NAMES: Record<TriggerEvent["kind"], string> = {
  http: "HTTP (API Gateway)",
  sqs: "SQS",
  eventbridge: "EventBridge",
  sns: "SNS",
  direct: "direct invoke",
};

/**
 * Every function's entry: tell the trigger, unwrap it, run its route. A trigger the function does not take
 * is refused the same way everywhere: 400 `UnsupportedTrigger` naming it and the triggers the function
 * takes, answered as an HTTP response to an HTTP event (the caller sees why) and thrown for any other (the
 * invocation fails, so a queue's redrive or the invoker sees it). `hint` adds where such an event belongs.
 */
export async function dispatch<T extends TriggerRoutes>(
  event: unknown,
  context: Context,
  functionName: string,
  routes: T,
  hint?: string,
): Promise<HttpResult | AnswerOf<T>> {
  // The routes' answers are what T says they are; TypeScript cannot follow that through the switch.
  return (await route(event, context, functionName, routes, hint)) as HttpResult | AnswerOf<T>;
}

/**
 * A function's handle.ts entry point, `(event, context, getDeps) => answer`, from its routes: `routes`
 * gets the invocation's context and the lazily built dependencies and says what each trigger does.
 */
export function triggerHandler<Deps, T extends TriggerRoutes>(
  functionName: string,
  routes: (context: Context, getDeps: () => Promise<Deps>) => T,
  hint?: string,
): (event: unknown, context: Context, getDeps: () => Promise<Deps>) => Promise<HttpResult | AnswerOf<T>> {
  return (event, context, getDeps) => dispatch(event, context, functionName, routes(context, getDeps), hint);
}

/** What the routes of T answer. */
type AnswerOf<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends (...args: never[]) => Promise<infer A> ? A : never;
}[keyof T];

async function route(
  event: unknown,
  context: Context,
  functionName: string,
  routes: TriggerRoutes,
  hint: string | undefined,
): Promise<unknown> {
  const trigger = detectTrigger(event);
  switch (trigger.kind) {
    case "http":
      if (routes.http) return routes.http(trigger.event);
      return errorResponse(unsupported(trigger.kind, functionName, routes, hint), context.awsRequestId);
    case "sqs":
      if (routes.sqs) return routes.sqs(trigger.event);
      break;
    case "eventbridge":
      if (routes.eventbridge) {
        return routes.eventbridge({ payload: trigger.event.detail, id: trigger.event.id });
      }
      break;
    case "sns":
      if (routes.sns) {
        const record = trigger.event.Records[0]?.Sns;
        return routes.sns({
          payload: unwrapMessageBody(record?.Message ?? "").payload,
          id: record?.MessageId,
        });
      }
      break;
    case "direct":
      if (routes.direct) {
        const { payload, id } = unwrapEnvelope(trigger.event);
        return routes.direct({ payload, id });
      }
      break;
  }
  throw unsupported(trigger.kind, functionName, routes, hint);
}

function unsupported(
  kind: TriggerEvent["kind"],
  functionName: string,
  routes: TriggerRoutes,
  hint: string | undefined,
): AppError {
  const takes = (Object.keys(TRIGGER_NAMES) as TriggerEvent["kind"][])
    .filter((name) => routes[name] !== undefined)
    .map((name) => TRIGGER_NAMES[name]);
  const message = `${functionName} does not take ${TRIGGER_NAMES[kind]} events; it takes ${takes.join(", ")}`;
  return new AppError(400, "UnsupportedTrigger", hint ? `${message} (${hint})` : message, {
    details: { trigger: kind, supported: takes },
  });
}

/**
 * Run `handle` on each record of an SQS batch; a record whose handling throws is reported as a batch item
 * failure, so SQS redelivers only it (and its redrive policy bounds the redeliveries).
 */
export function eachRecord(
  event: SQSEvent,
  handle: (record: SQSRecord) => Promise<unknown>,
): Promise<SQSBatchResponse> {
  return processPartialResponse(event, handle, new BatchProcessor(EventType.SQS), {
    throwOnFullBatchFailure: false,
  });
}
