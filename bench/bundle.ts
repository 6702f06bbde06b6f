/**
 * Bundle code the way serverless-esbuild bundles the functions: the options are read from serverless.yml's
 * `custom.esbuild` section (bundle, minify, sourcemap, format, target, platform, outputFileExtension,
 * mainFields, exclude, banner), so the benchmark measures what is deployed.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { ROOT } from "./services.js";

/** The scalar and flow-list values of `custom.esbuild` (and its `banner.js`), as text. */
export async function serverlessEsbuildSection(): Promise<Record<string, string>> {
  const lines = (await readFile(join(ROOT, "serverless.yml"), "utf8")).split("\n");
  const start = lines.findIndex((l) => /^ {2}esbuild:\s*$/.test(l));
  if (start === -1) throw new Error("serverless.yml has no custom.esbuild section");
  const out: Record<string, string> = {};
  let parent = "";
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const m = /^( {4,})([A-Za-z]+):\s*(.*)$/.exec(line);
    if (!m) break; // back at the level of `esbuild:` or above
    const [, indent = "", name = "", value = ""] = m;
    if (indent.length === 4) {
      parent = value === "" ? name : "";
      if (value !== "") out[name] = value;
    } else if (parent) {
      out[`${parent}.${name}`] = value;
    }
  }
  return out;
}

const unquote = (v: string) => v.replace(/^(["'])(.*)\1$/, "$2");
const flowList = (v: string | undefined) =>
  (v ?? "[]")
    .replace(/^\[|\]$/g, "")
    .split(",")
    .map((s) => unquote(s.trim()))
    .filter(Boolean);

/** esbuild options equivalent to serverless-esbuild's for that section. */
export async function lambdaBuildOptions(): Promise<BuildOptions> {
  const s = await serverlessEsbuildSection();
  const ext = unquote(s.outputFileExtension ?? ".js");
  return {
    bundle: s.bundle === "true",
    minify: s.minify === "true",
    sourcemap: (unquote(s.sourcemap ?? "false") as BuildOptions["sourcemap"]) ?? false,
    format: unquote(s.format ?? "cjs") as BuildOptions["format"],
    target: unquote(s.target ?? "node24"),
    platform: unquote(s.platform ?? "node") as BuildOptions["platform"],
    outExtension: { ".js": ext },
    mainFields: flowList(s.mainFields),
    external: flowList(s.exclude),
    ...(s["banner.js"] ? { banner: { js: unquote(s["banner.js"]) } } : {}),
    logLevel: "error",
  };
}

/**
 * Bundle `entries` (paths relative to the repository root) into `outdir`, keeping their relative paths.
 * Returns the output .mjs/.js path of each entry, and esbuild's metafile.
 */
export async function bundle(
  entries: string[],
  outdir: string,
): Promise<{ outputs: Record<string, string>; metafile: Metafile }> {
  const options = await lambdaBuildOptions();
  const result = await build({
    ...options,
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir,
    outbase: ROOT,
    metafile: true,
  });
  const ext = (options.outExtension as Record<string, string>)[".js"] ?? ".js";
  return {
    outputs: Object.fromEntries(entries.map((e) => [e, join(outdir, e.replace(/\.ts$/, ext))])),
    metafile: result.metafile as Metafile,
  };
}

/** The packages (or project folders) that make up most of a bundled output, by bytes in the output. */
export function largestInputs(
  metafile: Metafile,
  output: string,
  top = 4,
): Array<{ name: string; bytes: number }> {
  const entry = Object.entries(metafile.outputs).find(
    ([path]) => output.endsWith(path) || path.endsWith(output),
  );
  const sizes = new Map<string, number>();
  for (const [path, input] of Object.entries(entry?.[1].inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split("/").slice(0, 2).join("/");
    sizes.set(pkg, (sizes.get(pkg) ?? 0) + input.bytesInOutput);
  }
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => ({ name, bytes }));
}
