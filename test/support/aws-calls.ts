/**
 * Records every AWS API call the code makes, through an SDK middleware on each client: the SDK classes'
 * `send` attaches it once per client (the functions build their clients themselves), and it notes the
 * command, its input and how it ended. `iamRequestsOf` then says which IAM actions on which resources the
 * call needs, as AWS documents them per operation; an operation not listed there throws, so a new kind of
 * call cannot go unchecked.
 */

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Request } from "./iam-policy";

export interface RecordedCall {
  /** The function whose code made the call (set by `recorder.as`). */
  fn: string;
  client: string;
  command: string;
  input: Record<string, unknown>;
  /** The error's name when the call failed (HeadObject's NotFound changes what it needs). */
  error?: string;
}

interface Sendable {
  send: (...args: unknown[]) => Promise<unknown>;
  middlewareStack: {
    add: (middleware: unknown, options: { step: string; name: string }) => void;
  };
}

const CLIENTS = [S3Client, SQSClient, SSMClient, DynamoDBClient, DynamoDBDocumentClient] as unknown as Array<{
  prototype: Sendable;
}>;

export function recordAwsCalls() {
  const calls: RecordedCall[] = [];
  let current = "(none)";
  const attached = new WeakSet<object>();
  const originals = CLIENTS.map((Client) => {
    const original = Client.prototype.send;
    const hadOwn = Object.hasOwn(Client.prototype, "send");
    Client.prototype.send = function (this: Sendable, ...args: unknown[]) {
      if (!attached.has(this.middlewareStack)) {
        attached.add(this.middlewareStack);
        this.middlewareStack.add(
          (
            next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
            context: Record<string, string>,
          ) =>
            async (args: { input: Record<string, unknown> }) => {
              const call: RecordedCall = {
                fn: current,
                client: context.clientName ?? "?",
                command: (context.commandName ?? "?").replace(/Command$/, ""),
                input: args.input,
              };
              calls.push(call);
              try {
                return await next(args);
              } catch (error) {
                call.error = (error as Error).name;
                throw error;
              }
            },
          { step: "initialize", name: "recordAwsCalls" },
        );
      }
      return original.apply(this, args);
    };
    return { Client, original, hadOwn };
  });
  return {
    calls,
    /** Attribute the calls from now on to this function. */
    as(fn: string) {
      current = fn;
    },
    stop() {
      for (const { Client, original, hadOwn } of originals) {
        if (hadOwn) Client.prototype.send = original;
        else delete (Client.prototype as Partial<Sendable>).send;
      }
    },
  };
}

export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";

const queueArn = (url: unknown) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${String(url).split("/").pop()}`;
const objectArn = (bucket: unknown, key: unknown) => `arn:aws:s3:::${String(bucket)}/${String(key)}`;

/** The IAM requests one call makes (per the service authorization reference of each operation). */
export function iamRequestsOf(call: RecordedCall): Request[] {
  const input = call.input;
  const object = () => objectArn(input.Bucket, input.Key);
  const versioned = input.VersionId !== undefined;
  switch (`${call.client}:${call.command}`) {
    case "S3Client:HeadObject":
    case "S3Client:GetObject": {
      const read = { action: versioned ? "s3:GetObjectVersion" : "s3:GetObject", resource: object() };
      // S3 answers 404 for a missing key only to a caller that may list the bucket (else 403).
      return call.error === "NotFound" || call.error === "NoSuchKey"
        ? [read, { action: "s3:ListBucket", resource: `arn:aws:s3:::${String(input.Bucket)}` }]
        : [read];
    }
    case "S3Client:PutObject":
    case "S3Client:CreateMultipartUpload":
    case "S3Client:UploadPart":
    case "S3Client:CompleteMultipartUpload":
      return [{ action: "s3:PutObject", resource: object() }];
    case "S3Client:CopyObject":
    case "S3Client:UploadPartCopy": {
      const [source, version] = decodeURIComponent(String(input.CopySource)).split("?versionId=");
      return [
        { action: "s3:PutObject", resource: object() },
        { action: version ? "s3:GetObjectVersion" : "s3:GetObject", resource: `arn:aws:s3:::${source}` },
      ];
    }
    case "S3Client:AbortMultipartUpload":
      return [{ action: "s3:AbortMultipartUpload", resource: object() }];
    case "S3Client:ListParts":
      return [{ action: "s3:ListMultipartUploadParts", resource: object() }];
    case "S3Client:DeleteObject":
      return [{ action: versioned ? "s3:DeleteObjectVersion" : "s3:DeleteObject", resource: object() }];
    case "S3Client:ListObjectsV2":
    case "S3Client:ListObjects":
      return [
        {
          action: "s3:ListBucket",
          resource: `arn:aws:s3:::${String(input.Bucket)}`,
          context: { "s3:prefix": String(input.Prefix ?? "") },
        },
      ];
    case "SQSClient:SendMessage":
    case "SQSClient:SendMessageBatch":
      return [{ action: "sqs:SendMessage", resource: queueArn(input.QueueUrl) }];
    case "DynamoDBClient:GetItem":
    case "DynamoDBClient:PutItem":
    case "DynamoDBClient:UpdateItem":
    case "DynamoDBClient:DeleteItem":
      return [
        {
          action: `dynamodb:${call.command}`,
          resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${String(input.TableName)}`,
        },
      ];
    case "SSMClient:GetParameter":
      return [
        {
          action: "ssm:GetParameter",
          resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${String(input.Name)}`,
        },
      ];
    case "SSMClient:GetParameters":
      return (input.Names as string[]).map((name) => ({
        action: "ssm:GetParameters",
        resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`,
      }));
    default:
      throw new Error(
        `no IAM mapping for ${call.client}:${call.command}: add it to test/support/aws-calls.ts`,
      );
  }
}
