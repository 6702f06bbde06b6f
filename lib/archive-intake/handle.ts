import type { Context } from "aws-lambda";
import { type ArchiveRequest, archiveRequestSchema } from "../archive/request";
import { type HttpEvent, type HttpResult, jsonResponse } from "../http/api-gateway";
import { errorResponse } from "../http/errors";
import type { Idempotent } from "../idempotency";
import { logger } from "../logging";
import { countMetric } from "../metrics";
import { receiveWebhook, type WebhookSettings } from "../signatures/receive";
import { triggerHandler } from "../triggers/dispatch";
import { unionIdRefusal } from "../union-ids";

export interface ArchiveIntakeDeps {
  webhook: WebhookSettings;
  /** Queue a webhook's job at most once per webhook-id; answers the job id. */
  enqueueOnce: Idempotent<ArchiveRequest, { jobId: string }>;
  /** ALLOWED_UNION_IDS: a request naming another union id gets 403 unionIdNotAllowed and queues nothing. */
  allowedUnionIds: readonly string[];
}

/**
 * `POST /webhooks/archive`: verify the signature, validate the request, queue the job once per webhook-id
 * and answer 202 with its id. Nothing is archived here: the queue-only worker does that, and this function
 * holds no S3 right.
 */
export const handleArchiveIntake = triggerHandler(
  "archive-intake",
  (context, getDeps: () => Promise<ArchiveIntakeDeps>) => ({
    http: (http: HttpEvent) => intake(http, context, getDeps),
  }),
);

async function intake(
  event: HttpEvent,
  context: Context,
  getDeps: () => Promise<ArchiveIntakeDeps>,
): Promise<HttpResult> {
  try {
    const deps = await getDeps();
    deps.enqueueOnce.registerLambdaContext(context);
    const { id, request } = await receiveWebhook(
      event,
      deps.webhook,
      archiveRequestSchema,
      "archive request",
    );
    const refusal = unionIdRefusal(request.unionId, deps.allowedUnionIds);
    if (refusal) throw refusal;
    const { jobId } = await deps.enqueueOnce({ key: id, request });
    countMetric("ArchiveRequestsQueued");
    logger.info("archive job queued", {
      webhookId: id,
      jobId,
      spaceId: request.spaceId,
      dentryId: request.dentryId,
    });
    return jsonResponse(202, { jobId, status: "queued" });
  } catch (error) {
    return errorResponse(error, context.awsRequestId);
  }
}
