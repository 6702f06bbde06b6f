/**
 * The chart, as a hand-made SVG (no dependency): throughput vs concurrency for the throttled and the
 * unthrottled source (engine lines per part size; baselines, rclone and ceilings as horizontal lines), and
 * peak RSS vs file size (engine c8 and the baselines).
 */
import type { Row } from "./harness.js";
import { MiB, sizeLabel } from "./plan.js";

interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: Array<[number, number]>;
}

const W = 1260;
const H = 440;
const PANEL_W = 380;
const PANEL_H = 260;
const TOP = 60;
const LEFTS = [60, 480, 900];
const COLORS = [
  "#1f77b4",
  "#17becf",
  "#d62728",
  "#ff7f0e",
  "#9467bd",
  "#2ca02c",
  "#8c564b",
  "#7f7f7f",
  "#e377c2",
];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panel(
  left: number,
  title: string,
  xLabel: string,
  yLabel: string,
  xs: number[],
  xTick: (x: number) => string,
  series: Series[],
): string {
  const parts: string[] = [];
  const yMax = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.05);
  // x: evenly spaced categories (concurrency 1, 4, 8, 16 or sizes), by index.
  const xi = (x: number) => {
    const i = xs.indexOf(x);
    return left + (xs.length === 1 ? PANEL_W / 2 : (i / (xs.length - 1)) * PANEL_W);
  };
  const y = (v: number) => TOP + PANEL_H - (v / yMax) * PANEL_H;
  parts.push(`<text x="${left + PANEL_W / 2}" y="${TOP - 22}" class="title">${esc(title)}</text>`);
  parts.push(`<rect x="${left}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" class="frame"/>`);
  for (let k = 0; k <= 5; k++) {
    const v = (yMax * k) / 5;
    parts.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`);
    parts.push(
      `<text x="${left - 6}" y="${y(v) + 4}" class="ytick">${v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 0 : 1)}</text>`,
    );
  }
  for (const x of xs) {
    parts.push(`<text x="${xi(x)}" y="${TOP + PANEL_H + 16}" class="xtick">${esc(xTick(x))}</text>`);
  }
  parts.push(`<text x="${left + PANEL_W / 2}" y="${TOP + PANEL_H + 34}" class="axis">${esc(xLabel)}</text>`);
  parts.push(
    `<text transform="translate(${left - 42},${TOP + PANEL_H / 2}) rotate(-90)" class="axis">${esc(yLabel)}</text>`,
  );
  for (const s of series) {
    if (s.points.length === 0) continue;
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    if (s.points.length === 1 && s.dashed) {
      // A horizontal reference line across the panel.
      const v = (s.points[0] as [number, number])[1];
      parts.push(
        `<line x1="${left}" x2="${left + PANEL_W}" y1="${y(v)}" y2="${y(v)}" stroke="${s.color}" stroke-width="1.5"${dash}/>`,
      );
      continue;
    }
    const d = s.points
      .map(([px, py], i) => `${i ? "L" : "M"}${xi(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const [px, py] of s.points) {
      parts.push(`<circle cx="${xi(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
  }
  // Legend under the panel.
  series.forEach((s, i) => {
    const ly = TOP + PANEL_H + 52 + i * 14;
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    parts.push(
      `<line x1="${left}" x2="${left + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${left + 28}" y="${ly}" class="legend">${esc(s.label)}</text>`);
  });
  return parts.join("\n");
}

function throughputPanel(rows: Row[], source: "throttled" | "unthrottled", left: number): string {
  const engine = rows.filter(
    (r) =>
      r.kind === "engine" && !r.id.includes("-plain-") && r.source === source && r.sink === "sink" && r.ok,
  );
  // The comparison size: the one with several concurrencies.
  const size = [...new Set(engine.map((r) => r.size))].find(
    (s) => new Set(engine.filter((r) => r.size === s).map((r) => r.concurrency)).size > 1,
  );
  if (size === undefined) return "";
  const at = engine.filter((r) => r.size === size);
  const xs = [...new Set(at.map((r) => r.concurrency as number))].sort((a, b) => a - b);
  const partSizes = [...new Set(at.map((r) => r.partSize as number))].sort((a, b) => a - b);
  let color = 0;
  const series: Series[] = partSizes.map((p) => ({
    label: `engine, ${p / MiB} MiB parts`,
    color: COLORS[color++ % COLORS.length] as string,
    points: at
      .filter((r) => r.partSize === p)
      .sort((a, b) => (a.concurrency as number) - (b.concurrency as number))
      .map((r) => [r.concurrency as number, r.mibps as number] as [number, number]),
  }));
  const refs = rows.filter(
    (r) =>
      r.ok &&
      r.kind !== "engine" &&
      r.size === size &&
      (r.source === source || r.kind === "upload-only") &&
      r.sink !== "fauxqs",
  );
  color = 2;
  for (const r of refs) {
    series.push({
      label: `${shortLabel(r)}: ${(r.mibps as number).toFixed(0)} MiB/s`,
      color: COLORS[color++ % COLORS.length] as string,
      dashed: true,
      points: [[xs[0] as number, r.mibps as number]],
    });
  }
  const title =
    source === "throttled" ? "Throttled source (per-connection limit)" : "Unthrottled source (loopback)";
  return panel(
    left,
    `${title}, ${sizeLabel(size)}`,
    "concurrency (parts in flight)",
    "MiB/s (median)",
    xs,
    String,
    series,
  );
}

/** A legend-sized name for a peer or a ceiling. */
function shortLabel(r: Row): string {
  switch (r.kind) {
    case "baseline":
      return r.queueSize
        ? `lib-storage q${r.queueSize} / ${(r.partSize ?? 0) / MiB} MiB`
        : "lib-storage defaults";
    case "rclone":
      return r.concurrency ? `rclone c${r.concurrency} / ${(r.partSize ?? 0) / MiB} MiB` : "rclone defaults";
    case "curl":
      return "ceiling: curl, one GET";
    case "curl-ranges":
      return `ceiling: curl, ${r.concurrency} ranges`;
    case "upload-only":
      return "ceiling: upload only";
    default:
      return r.label;
  }
}

function rssPanel(rows: Row[], left: number): string {
  const pick = (prefix: string) =>
    rows
      .filter((r) => r.id.startsWith(`${prefix}-unthrottled-`) && !r.id.endsWith("fauxqs") && r.ok)
      .sort((a, b) => a.size - b.size);
  const groups: Array<[string, Row[]]> = [
    ["engine c8 · 8 MiB parts (as deployed)", pick("engine-c8-p8")],
    ["engine c8, node without NODE_OPTIONS", pick("engine-c8-p8-plain")],
    ["lib-storage defaults", pick("baseline-default")],
    ["lib-storage queueSize 8 / 16 MiB", pick("baseline-q8")],
  ];
  const xs = [...new Set(groups.flatMap(([, rs]) => rs.map((r) => r.size)))].sort((a, b) => a - b);
  const series: Series[] = groups.map(([label, rs], i) => ({
    label,
    color: COLORS[[0, 1, 2, 3][i] as number] as string,
    points: rs.map((r) => [r.size, r.peakRssMiB as number] as [number, number]),
  }));
  series.push({ label: "target 120 MiB", color: "#999999", dashed: true, points: [[xs[0] ?? 0, 120]] });
  return panel(
    left,
    "Peak RSS vs file size (unthrottled, into the sink)",
    "file size",
    "peak RSS, MiB",
    xs,
    sizeLabel,
    series,
  );
}

export function renderChart(rows: Row[], caption: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 60}" viewBox="0 0 ${W} ${H + 60}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${esc(caption)}: throughput vs concurrency (throttled and unthrottled source), peak RSS vs file size</title>`,
    "<style>",
    ".title{font-size:14px;font-weight:bold;text-anchor:middle}.axis{font-size:12px;text-anchor:middle}",
    ".xtick{font-size:11px;text-anchor:middle}.ytick{font-size:11px;text-anchor:end}.legend{font-size:11px}",
    ".frame{fill:none;stroke:#333}.grid{stroke:#ddd}",
    "</style>",
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="18" class="title">${esc(caption)}</text>`,
    throughputPanel(rows, "throttled", LEFTS[0] as number),
    throughputPanel(rows, "unthrottled", LEFTS[1] as number),
    rssPanel(rows, LEFTS[2] as number),
    "</svg>",
    "",
  ].join("\n");
}
