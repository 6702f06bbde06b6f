/**
 * Bundle code the way serverless-esbuild bundles the functions: the options are read from serverless.yml's
 * `custom.esbuild` section (bundle, minify, sourcemap, format, target, platform, outputFileExtension,
 * mainFields, exclude, banner, splitting, chunkNames), so the benchmark measures what is deployed. Like
 * serverless-esbuild, each entry is built on its own into the folder of its path, so its chunks (code
 * reached only through a dynamic import()) are its own.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
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
    ...(s.splitting === "true" ? { splitting: true } : {}),
    ...(s.chunkNames ? { chunkNames: unquote(s.chunkNames) } : {}),
    logLevel: "error",
  };
}

/** One entry's build: its entry file, and every file it wrote (chunks and maps included). */
export interface BuiltEntry {
  /** The output .mjs/.js file of the entry. */
  file: string;
  /** Every output file, absolute paths. */
  files: string[];
  /** What loads when the entry is imported: it and the chunks it imports statically, bytes (no maps). */
  initialBytes: number;
  /** All the code it can load, deferred chunks included, bytes (no maps). */
  totalBytes: number;
  /** The output JS files loaded at import (entry first), absolute paths. */
  initialFiles: string[];
  /** The output JS files loaded only on first use (dynamic import()), absolute paths. */
  deferredFiles: string[];
  metafile: Metafile;
}

/**
 * Bundle `entries` (paths relative to the repository root) into `outdir`, keeping their relative paths,
 * each in a build of its own (as serverless-esbuild does). Returns the output .mjs/.js path of each entry,
 * and each entry's build.
 */
export async function bundle(
  entries: string[],
  outdir: string,
): Promise<{ outputs: Record<string, string>; builds: Record<string, BuiltEntry> }> {
  const options = await lambdaBuildOptions();
  const ext = (options.outExtension as Record<string, string>)[".js"] ?? ".js";
  const builds: Record<string, BuiltEntry> = {};
  for (const entry of entries) {
    const dir = join(outdir, dirname(entry));
    const result = await build({
      ...options,
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outdir: dir,
      metafile: true,
    });
    const metafile = result.metafile as Metafile;
    const file = join(outdir, entry.replace(/\.ts$/, ext));
    // Metafile output paths are relative to the working directory (ROOT).
    const abs = (path: string) => join(ROOT, path);
    const js = Object.keys(metafile.outputs).filter((path) => !path.endsWith(".map"));
    const initial = new Set<string>();
    const visit = (path: string) => {
      if (initial.has(path)) return;
      initial.add(path);
      for (const i of metafile.outputs[path]?.imports ?? [])
        if (i.kind === "import-statement" && !i.external) visit(i.path);
    };
    const entryOut = js.find((path) => abs(path) === file);
    if (!entryOut) throw new Error(`esbuild wrote no ${relative(ROOT, file)}`);
    visit(entryOut);
    const bytes = (paths: string[]) =>
      paths.reduce((sum, path) => sum + (metafile.outputs[path]?.bytes ?? 0), 0);
    builds[entry] = {
      file,
      files: Object.keys(metafile.outputs).map(abs),
      initialBytes: bytes([...initial]),
      totalBytes: bytes(js),
      initialFiles: [...initial].map(abs),
      deferredFiles: js.filter((path) => !initial.has(path)).map(abs),
      metafile,
    };
  }
  return { outputs: Object.fromEntries(entries.map((e) => [e, builds[e]?.file as string])), builds };
}

/** The packages (or project folders) that make up most of some output files of a build, by bytes in them. */
export function largestInputs(
  built: Pick<BuiltEntry, "metafile">,
  files: string[],
  top = 4,
): Array<{ name: string; bytes: number }> {
  const sizes = new Map<string, number>();
  for (const [path, output] of Object.entries(built.metafile.outputs)) {
    if (!files.includes(join(ROOT, path))) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split("/").slice(0, 2).join("/");
      sizes.set(pkg, (sizes.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => ({ name, bytes }));
}
