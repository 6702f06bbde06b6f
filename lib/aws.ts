import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { logger } from "./logging";

/**
 * The SDK's own warnings and errors (e.g. a failed streaming request) go to our structured log instead
 * of the console; its info lines (one per request, with the input) are dropped as noise.
 */
const sdkLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => logger.warn("AWS SDK warning", { detail: content.map(String).join(" ") }),
  error: (...content: unknown[]) => logger.error("AWS SDK error", { detail: content.map(String).join(" ") }),
};

/**
 * AWS clients configured as production's: region and endpoints from the SDK's own variables
 * (AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS). A custom S3 endpoint (the local emulator)
 * needs path-style addressing, since `bucket.127.0.0.1` does not resolve.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
    logger: sdkLogger,
  });
}

export function createSqsClient(): SQSClient {
  return new SQSClient({ logger: sdkLogger });
}
