import { S3Client } from "@aws-sdk/client-s3";
import { sdkLogger } from "./sdk-logger";

/**
 * An S3 client configured as production's: region and endpoint from the SDK's own variables
 * (AWS_REGION, AWS_ENDPOINT_URL_S3). A custom endpoint (the local emulator) needs path-style addressing,
 * since `bucket.127.0.0.1` does not resolve.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
    logger: sdkLogger,
  });
}
