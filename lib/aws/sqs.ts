import { SQSClient } from "@aws-sdk/client-sqs";
import { sdkLogger } from "./sdk-logger";

/** An SQS client configured as production's (AWS_REGION, AWS_ENDPOINT_URL_SQS). */
export function createSqsClient(): SQSClient {
  return new SQSClient({ logger: sdkLogger });
}
