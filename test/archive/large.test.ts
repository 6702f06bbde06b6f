/**
 * One large file end to end (the only one in the suite: fauxqs holds a multipart object in memory, ~2× its
 * size, until it is completed). Also checks the Lambda path's S3 checkpoint store on the way.
 */
import { expect, it } from "vitest";
import { archiveFile } from "../../lib/archive";
import { s3CheckpointStore } from "../../lib/transfer";
import { sha256OfGenerated } from "../../sandbox/content";
import { useWorld } from "../support/use-world";
import { BUCKET, MiB, seedOf, sha256OfObject, startArchiveWorld } from "./helpers";

const world = useWorld(startArchiveWorld);

it("archives a 320 MiB file byte-exact in 8 MiB parts", { timeout: 180_000 }, async () => {
  const size = 320 * MiB + 12_345;
  const dentryId = world.sandbox.putGeneratedFile({ name: "large 大文件.bin", size, parentPath: "large" });
  const deps = world.deps({
    transfer: { ...world.deps().transfer, partSize: 8 * MiB, concurrency: 4 },
    checkpoints: s3CheckpointStore({ s3: world.s3, bucket: BUCKET }),
  });
  const result = await archiveFile({ spaceId: world.sandbox.options.spaceId, dentryId }, deps);
  expect(result).toMatchObject({ status: "archived", size, bytesResent: 0, resumedParts: 0 });
  expect(world.sandbox.calls().file).toBe(Math.ceil(size / (8 * MiB)));
  expect(await sha256OfObject(world.s3, result.key)).toEqual({
    sha256: await sha256OfGenerated(seedOf(world.sandbox, "large/large 大文件.bin", 1), size),
    bytes: size,
  });
});
