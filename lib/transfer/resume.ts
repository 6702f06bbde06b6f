/** The checkpoint's lifecycle within one call: load it and keep it only if it matches, or forget it. */
import type { Checkpoint } from "./checkpoint.js";
import { describe } from "./errors.js";
import type { PartPlan } from "./plan.js";
import type { Run } from "./run.js";
import { abortMultipart } from "./upload.js";

/**
 * Load the checkpoint for this bucket/key. Keep it only if it describes the same transfer (size, part size,
 * algorithm, source version, part lengths); otherwise abort its upload and delete it.
 */
export async function dropStaleCheckpoint(
  run: Run,
  plan: PartPlan | undefined,
): Promise<Checkpoint | undefined> {
  const store = run.opts.checkpoint;
  if (!store) return undefined;
  const ref = { bucket: run.opts.bucket, key: run.opts.key };
  let cp: Checkpoint | undefined;
  try {
    cp = await store.load(ref);
  } catch (err) {
    run.opts.onEvent?.({ type: "checkpointError", error: `loading the checkpoint failed: ${describe(err)}` });
    return undefined;
  }
  if (!cp) return undefined;
  const version = run.opts.sourceVersion === undefined ? undefined : String(run.opts.sourceVersion);
  const matches =
    plan !== undefined &&
    cp.bucket === ref.bucket &&
    cp.key === ref.key &&
    cp.size === plan.size &&
    cp.partSize === plan.partSize &&
    cp.checksumAlgorithm === run.algorithm &&
    cp.sourceVersion === version &&
    cp.parts.every((p) => plan.parts[p.partNumber - 1]?.length === p.length);
  if (matches) return cp;
  run.opts.onEvent?.({ type: "restart", reason: "the checkpoint describes another transfer of this key" });
  await abortMultipart({ ...run.target }, cp.uploadId);
  await forgetCheckpoint(run);
  return undefined;
}

export async function forgetCheckpoint(run: Run): Promise<void> {
  try {
    await run.opts.checkpoint?.delete({ bucket: run.opts.bucket, key: run.opts.key });
  } catch (err) {
    run.opts.onEvent?.({
      type: "checkpointError",
      error: `deleting the checkpoint failed: ${describe(err)}`,
    });
  }
}
