/** One line of progress for a terminal (the CLI redraws it with "\r"). Pure, so it is tested without a TTY. */
import type { TransferProgress } from "../transfer";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 0 B, 512 B, 1.5 KiB, 120.0 MiB... */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `[########--------]  50.0%  60.0 MiB/120.0 MiB  12.3 MiB/s  parts 12/24` */
export function formatProgress(progress: TransferProgress, size: number, barWidth = 24): string {
  const fraction = size > 0 ? Math.min(1, progress.bytesDone / size) : 1;
  const filled = Math.round(fraction * barWidth);
  const bar = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`;
  const percent = `${(fraction * 100).toFixed(1).padStart(5)}%`;
  const rate = `${formatBytes(Math.round(progress.bytesPerSecond))}/s`;
  return `${bar} ${percent}  ${formatBytes(progress.bytesDone)}/${formatBytes(size)}  ${rate}  parts ${progress.partsDone}/${progress.partsTotal}`;
}
