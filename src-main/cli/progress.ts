import { clockDuration, ellipsizeStart, humanBytes, termSafe } from './format.ts';

/** What an operation reports; `bytes*` drive the bar, rate and ETA when present, else `done/total`. */
export interface ProgressState {
  /** short phase label: "scanning", "uploading", "restoring", "reading packs" */
  label: string;
  bytesDone?: number;
  bytesTotal?: number;
  filesDone?: number;
  filesTotal?: number;
  /** generic counter when there are no bytes (verify: snapshots/packs) */
  done?: number;
  total?: number;
  /** false while the total still grows (backup scan): no ETA then */
  totalKnown?: boolean;
  currentPath?: string;
}

export interface ProgressStream {
  write(s: string): boolean;
  readonly columns?: number;
}

const INTERVAL_MS = 250;
const RATE_WINDOW_MS = 5000;
const BAR_WIDTH = 20;

/** Renders one progress line (pure; exported for tests). `rate` in bytes/s, undefined if unknown. */
export function renderProgress(s: ProgressState, rate: number | undefined, width: number): string {
  const parts: string[] = [s.label.padEnd(10)];
  const hasBytes = s.bytesTotal !== undefined && s.bytesDone !== undefined;
  const done = hasBytes ? (s.bytesDone ?? 0) : (s.done ?? 0);
  const total = hasBytes ? (s.bytesTotal ?? 0) : (s.total ?? 0);
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * BAR_WIDTH);
  parts.push(
    `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%`,
  );
  if (hasBytes) parts.push(`${humanBytes(done)}/${humanBytes(total)}`);
  else if (s.total !== undefined) parts.push(`${done}/${total}`);
  if (s.filesTotal !== undefined) parts.push(`${s.filesDone ?? 0}/${s.filesTotal} files`);
  if (hasBytes && rate !== undefined) parts.push(`${(rate / (1024 * 1024)).toFixed(1)} MiB/s`);
  if (hasBytes && rate !== undefined && rate > 0 && s.totalKnown !== false) {
    parts.push(`ETA ${clockDuration((total - done) / rate)}`);
  }
  let line = parts.join('  ');
  if (s.currentPath && line.length + 2 < width - 10)
    line += `  ${ellipsizeStart(termSafe(s.currentPath), width - line.length - 3)}`;
  return line.length >= width ? line.slice(0, Math.max(0, width - 1)) : line;
}

/**
 * A single status line on a terminal, redrawn in place at most ~4 times a second. Disabled (every call a
 * no-op) when the stream is not a terminal or the user asked for --quiet.
 */
export class ProgressLine {
  private readonly stream: ProgressStream;
  private readonly enabled: boolean;
  private readonly now: () => number;
  private lastDraw = -Infinity;
  private shown = false;
  private latest: ProgressState | undefined;
  private samples: { t: number; bytes: number }[] = [];

  constructor(stream: ProgressStream, enabled: boolean, now: () => number = () => performance.now()) {
    this.stream = stream;
    this.enabled = enabled;
    this.now = now;
  }

  update(s: ProgressState): void {
    if (!this.enabled) return;
    this.latest = s;
    const t = this.now();
    if (s.bytesDone !== undefined) {
      this.samples.push({ t, bytes: s.bytesDone });
      while (this.samples.length > 2 && (this.samples[0]?.t ?? t) < t - RATE_WINDOW_MS) this.samples.shift();
    }
    if (t - this.lastDraw < INTERVAL_MS) return;
    this.draw(t);
  }

  private rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.t - first.t < 500) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }

  private draw(t: number): void {
    if (!this.latest) return;
    this.lastDraw = t;
    const width = this.stream.columns && this.stream.columns > 20 ? this.stream.columns : 80;
    this.stream.write(`\r\x1b[2K${renderProgress(this.latest, this.rate(), width)}`);
    this.shown = true;
  }

  /** Erases the line (before other output); the next update draws it again. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
    this.lastDraw = -Infinity;
  }

  /** Erases the line for good. */
  stop(): void {
    this.clear();
    this.latest = undefined;
  }
}
