// One module per client, so a CLI that needs only S3 does not load the SQS client.
export { createS3Client } from "./s3";
export { createSqsClient } from "./sqs";
