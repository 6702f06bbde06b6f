/**
 * DingTalk counts an org's API calls per calendar month in China time (UTC+8, no daylight saving), so the
 * budget's month turns at 00:00 on the 1st in Beijing: 16:00 UTC on the last day of the month before.
 */
const CHINA_OFFSET_MS = 8 * 3600_000;

/** "2026-11": the China-time month `nowMs` falls in. */
export function chinaMonth(nowMs: number): string {
  return new Date(nowMs + CHINA_OFFSET_MS).toISOString().slice(0, 7);
}

/** When the next China-time month starts, ms since the epoch. */
export function nextChinaMonthStart(nowMs: number): number {
  const china = new Date(nowMs + CHINA_OFFSET_MS);
  return Date.UTC(china.getUTCFullYear(), china.getUTCMonth() + 1, 1) - CHINA_OFFSET_MS;
}
