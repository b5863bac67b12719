// The data model of the upload chart: per-second samples of `stats` events for the last
// 10 minutes, folded into the top N programs (by bytes in the window) and "other".
import type { StatsEvent } from './types';

export const WINDOW_S = 600;
export const TOP_N = 5;
export const OTHER_KEY = '\u0000other';

interface Sample {
  t: number; // unix seconds
  bytes: Map<string, number>;
}

export interface Series {
  key: string;
  label: string;
  total: number;
}

export interface ChartData {
  /** x values: unix seconds, one per second of the window, oldest first. */
  xs: number[];
  series: Series[];
  /** ys[i][j]: bytes per second of series i at xs[j]. */
  ys: number[][];
}

export class UploadHistory {
  private samples: Sample[] = [];
  private names = new Map<string, string>();

  constructor(readonly windowS = WINDOW_S) {}

  /** Adds one `stats` event (bytes uploaded in that second per program). */
  add(ev: StatsEvent): void {
    const t = Math.floor(Date.parse(ev.at) / 1000);
    if (!Number.isFinite(t)) return;
    const bytes = new Map<string, number>();
    for (const p of ev.programs) {
      if (!(p.bytes > 0)) continue;
      bytes.set(p.key, (bytes.get(p.key) ?? 0) + p.bytes);
      this.names.set(p.key, p.pid != null ? `${p.name} (${p.pid})` : p.name);
    }
    const last = this.samples[this.samples.length - 1];
    if (last && last.t === t) {
      for (const [k, v] of bytes) last.bytes.set(k, (last.bytes.get(k) ?? 0) + v);
    } else if (!last || t > last.t) {
      this.samples.push({ t, bytes });
    } else {
      // Out of order (rare): insert where it belongs.
      const i = this.samples.findIndex((s) => s.t >= t);
      if (this.samples[i].t === t) for (const [k, v] of bytes) this.samples[i].bytes.set(k, (this.samples[i].bytes.get(k) ?? 0) + v);
      else this.samples.splice(i, 0, { t, bytes });
    }
    this.prune(this.samples[this.samples.length - 1].t);
  }

  /** Drops samples older than the window ending at `nowS` (and names no sample uses). */
  prune(nowS: number): void {
    const from = nowS - this.windowS + 1;
    let k = 0;
    while (k < this.samples.length && this.samples[k].t < from) k++;
    if (k > 0) {
      this.samples.splice(0, k);
      const used = new Set<string>();
      for (const s of this.samples) for (const key of s.bytes.keys()) used.add(key);
      for (const key of [...this.names.keys()]) if (!used.has(key)) this.names.delete(key);
    }
  }

  get size(): number {
    return this.samples.length;
  }

  /**
   * The chart for the window ending at `nowS` (default: the newest sample): one x per second
   * (seconds without a sample are 0), the `topN` programs with the most bytes in the window,
   * then "other" (the rest, only when there is a rest).
   */
  data(topN = TOP_N, nowS?: number): ChartData {
    const end = nowS ?? (this.samples.length ? this.samples[this.samples.length - 1].t : 0);
    const start = end - this.windowS + 1;
    const inWindow = this.samples.filter((s) => s.t >= start && s.t <= end);
    const totals = new Map<string, number>();
    for (const s of inWindow) for (const [k, v] of s.bytes) totals.set(k, (totals.get(k) ?? 0) + v);
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const top = ranked.slice(0, topN);
    const rest = ranked.slice(topN);
    const series: Series[] = top.map(([key, total]) => ({ key, label: this.names.get(key) ?? key, total }));
    if (rest.length) series.push({ key: OTHER_KEY, label: '', total: rest.reduce((a, [, v]) => a + v, 0) });
    const index = new Map(series.map((s, i) => [s.key, i]));
    const xs: number[] = [];
    for (let t = start; t <= end; t++) xs.push(t);
    const ys = series.map(() => new Array<number>(xs.length).fill(0));
    for (const s of inWindow) {
      const j = s.t - start;
      for (const [k, v] of s.bytes) {
        const i = index.get(k) ?? index.get(OTHER_KEY);
        if (i !== undefined) ys[i][j] += v;
      }
    }
    return { xs, series, ys };
  }
}
