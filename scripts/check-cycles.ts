/**
 * Import cycles in lib/ (type-only imports included): prints each cycle found and exits 1, or says none.
 * Run: node --import tsx scripts/check-cycles.ts [folder]   (test/cycles.test.ts runs it on lib/)
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const IMPORT = /(?:import|export)\s[^"';]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function target(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec.replace(/\.js$/, ""));
  return [`${base}.ts`, join(base, "index.ts")].find((path) => existsSync(path));
}

/** Every cycle of relative imports among the .ts files under `root`, each as the list of files on it. */
export function findCycles(root: string): string[][] {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(root)) {
    const found = [...readFileSync(file, "utf8").matchAll(IMPORT)].map((m) =>
      target(file, m[1] ?? m[2] ?? ""),
    );
    graph.set(
      file,
      found.filter((path): path is string => path !== undefined),
    );
  }
  const state = new Map<string, "open" | "done">();
  const cycles: string[][] = [];
  const visit = (file: string, stack: string[]): void => {
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), file, next]);
      else if (!state.has(next)) visit(next, [...stack, file]);
    }
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, []);
  return cycles;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = resolve(process.argv[2] ?? "lib");
  const cycles = findCycles(root);
  for (const cycle of cycles)
    console.log(`cycle: ${cycle.map((path) => relative(process.cwd(), path)).join(" -> ")}`);
  console.log(
    cycles.length === 0
      ? `no import cycles in ${relative(process.cwd(), root)}/`
      : `${cycles.length} cycle(s)`,
  );
  process.exit(cycles.length === 0 ? 0 : 1);
}
