/**
 * The obvious baseline: ask DingTalk for the download info, one streamed GET (fetch), piped into
 * @aws-sdk/lib-storage's Upload — with its defaults, or with the queueSize and partSize under test.
 */
import { Readable } from "node:stream";
import { Upload } from "@aws-sdk/lib-storage";
import { dingTalkClient, measure, SANDBOX, s3Client, spec } from "./common.js";

const s3 = s3Client();
await measure(async () => {
  const info = await dingTalkClient().getFileDownloadInfo({
    unionId: SANDBOX.unionId,
    spaceId: spec.spaceId as string,
    dentryId: spec.dentryId as string,
  });
  const { resourceUrls, headers } = info.headerSignatureInfo;
  const res = await fetch(resourceUrls[0] as string, { headers });
  if (!res.ok || !res.body) throw new Error(`GET answered ${res.status}`);
  const upload = new Upload({
    client: s3,
    params: { Bucket: spec.bucket, Key: spec.key, Body: Readable.fromWeb(res.body) },
    ...(spec.queueSize ? { queueSize: spec.queueSize } : {}),
    ...(spec.partSize ? { partSize: spec.partSize } : {}),
  });
  await upload.done();
  return { key: spec.key, bytes: Number(res.headers.get("content-length")) };
});
