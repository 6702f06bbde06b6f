/**
 * The project's engine, as the archive Lambda runs it: archiveFile (getDentry, HeadObject, download info,
 * transferToS3 with an S3 checkpoint store) with the part size and concurrency under test.
 */
import { archiveFile } from "../../lib/archive/index.js";
import { s3CheckpointStore } from "../../lib/transfer/index.js";
import { dingTalkClient, measure, SANDBOX, s3Client, spec } from "./common.js";

const s3 = s3Client();
const prefix = `${spec.key}/`;
await measure(async () => {
  const result = await archiveFile(
    { spaceId: spec.spaceId as string, dentryId: spec.dentryId as string, unionId: SANDBOX.unionId },
    {
      dingtalk: dingTalkClient(),
      s3,
      archive: { bucket: spec.bucket, prefix },
      transfer: {
        partSize: spec.partSize ?? 8 * 1024 * 1024,
        concurrency: spec.concurrency ?? 8,
        downloadAllowedHosts: [spec.fileHost as string],
        allowHttpHosts: [spec.fileHost as string],
      },
      checkpoints: s3CheckpointStore({ s3, bucket: spec.bucket, prefix: `${prefix}.checkpoints/` }),
    },
  );
  if (result.status !== "archived") throw new Error(`archiveFile: ${result.status}`);
  return { key: result.key, bytes: result.size };
});
