import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { enqueue } from "../aws/queue";
import type { SendFileLinkResult } from "../dingtalk";
import { dispositionOf, failureOfAppError } from "../failure";
import { type HttpEvent, type HttpResult, jsonResponse } from "../http/api-gateway";
import { errorResponse, toAppError } from "../http/errors";
import type { Idempotent } from "../idempotency";
import { logger } from "../logging";
import { countMetric, countMetricBy } from "../metrics";
import { receiveWebhook, type WebhookSettings } from "../signatures/receive";
import { unwrapMessageBody } from "../triggers/detect";
import { type Delivery, eachRecord, triggerHandler } from "../triggers/dispatch";
import { parseOrThrow } from "../validation";
import { answerOf, type SendLinkOutcome, type SendLinkRequest, sendLinkRequestSchema } from "./send-link";

export interface SendLinkEventDeps {
  /** The send-link use case, made idempotent by delivery key: a sent link and an unknown outcome are both recorded. */
  sendLinkOnce: Idempotent<SendLinkRequest, SendLinkOutcome>;
  /** POST /webhooks/send-link's secrets (read per request, so they rotate) and body limit. */
  webhook: WebhookSettings;
  /** Where queued requests that can never succeed go, with their reason (else the queue's redrive does). */
  deadLetter?: { sqs: SQSClient; queueUrl: string } | undefined;
}

/**
 * The send-link function's one entry point, whatever invoked it:
 * - HTTP (API Gateway v2): verify the Standard Webhooks signature, validate, send, answer per the error contract;
 * - SQS: each record is a request (possibly inside an EventBridge or SNS envelope); failures are reported
 *   per record so only they are redelivered (and reach the dead-letter queue after the redrive limit);
 * - EventBridge or a direct invoke: the detail / the payload is the request; a failure throws.
 * A redelivery with the same key (webhook-id, event id, message id) sends nothing again and gets the first
 * answer, an unknown outcome (502 `outcomeUnknown`; on a queue: the dead-letter queue) included.
 */
export const handleSendLinkEvent = triggerHandler(
  "send-link",
  (context, getDeps: () => Promise<SendLinkEventDeps>) => {
    const ready = async () => {
      const deps = await getDeps();
      deps.sendLinkOnce.registerLambdaContext(context);
      return deps;
    };
    const send = async ({ payload, id }: Delivery) =>
      sendParsed(payload, id ?? context.awsRequestId, sendDeadline(context), await ready());
    return {
      http: async (http: HttpEvent) => {
        // Even a failure to build the clients (e.g. a secret that cannot be read) answers in our error contract.
        let deps: SendLinkEventDeps;
        try {
          deps = await ready();
        } catch (error) {
          return errorResponse(error, context.awsRequestId);
        }
        return handleHttp(http, context, deps);
      },
      sqs: async (sqs: SQSEvent) => {
        const deps = await ready();
        return eachRecord(sqs, (record) => handleRecord(record, sendDeadline(context), deps));
      },
      eventbridge: send,
      sns: send,
      direct: send,
    };
  },
);

/**
 * Time kept after the send for recording its outcome (DynamoDB) and answering. A send still running when
 * the invocation is killed would leave a link posted or not, with nothing recorded: a redelivery would post
 * it again. So no attempt starts that could end later than this before the invocation's end.
 */
const AFTER_SEND_MS = 3_000;

/** When the send must have its answer: the invocation's end less the time to record and answer. */
function sendDeadline(context: Context): number {
  return Date.now() + context.getRemainingTimeInMillis() - AFTER_SEND_MS;
}

async function handleHttp(event: HttpEvent, context: Context, deps: SendLinkEventDeps): Promise<HttpResult> {
  try {
    const { id, request } = await receiveWebhook(
      event,
      deps.webhook,
      sendLinkRequestSchema,
      "send-link request",
    );
    const result = answerOf(await deps.sendLinkOnce({ key: id, request, deadline: sendDeadline(context) }));
    countMetric("LinksSent");
    logger.info("link sent", { webhookId: id, spaceId: request.spaceId, dentryId: request.dentryId });
    return jsonResponse(200, result);
  } catch (error) {
    countMetricBy("LinksFailed", "Code", toAppError(error).code);
    return errorResponse(error, context.awsRequestId);
  }
}

async function handleRecord(
  record: SQSRecord,
  deadline: number,
  deps: SendLinkEventDeps,
): Promise<SendFileLinkResult | { status: "dead-lettered"; reason: string }> {
  try {
    const message = unwrapMessageBody(record.body);
    return await sendParsed(message.payload, message.id ?? record.messageId, deadline, deps);
  } catch (error) {
    const appError = toAppError(error);
    const failure = { code: appError.code, message: appError.message, requestId: appError.requestId };
    countMetricBy("LinksFailed", "Code", appError.code);
    if (dispositionOf(failureOfAppError(appError)).kind === "deadLetter" && deps.deadLetter) {
      // Retrying cannot fix bad input or DingTalk's "no", and must not repeat a send of unknown outcome:
      // park it with its reason (a person decides) instead of spending quota.
      await enqueue(deps.deadLetter.sqs, deps.deadLetter.queueUrl, { body: record.body, error: failure });
      logger.warn("send-link message dead-lettered", { messageId: record.messageId, error: failure });
      return { status: "dead-lettered", reason: appError.message };
    }
    // retryNow, or retryLater (throttled): this path has no delayed requeue; the queue redelivers the
    // message after its visibility timeout.
    logger.warn("send-link message failed; the queue will retry", {
      messageId: record.messageId,
      error: failure,
    });
    throw appError;
  }
}

async function sendParsed(
  payload: unknown,
  key: string,
  deadline: number,
  deps: SendLinkEventDeps,
): Promise<SendFileLinkResult> {
  const request = parseOrThrow(sendLinkRequestSchema, payload, "send-link request");
  const result = answerOf(await deps.sendLinkOnce({ key, request, deadline }));
  countMetric("LinksSent");
  return result;
}
