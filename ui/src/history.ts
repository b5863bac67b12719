// The data model of the History tab's chart: stored per-program totals (history_uploads) laid
// out as a stacked area: one x per bucket from `since` to now (empty buckets are 0), the top N
// programs by bytes in the range, then "other".
import { OTHER_KEY } from './chart';
import type { UploadsView } from './types';

export const HISTORY_TOP_N = 6;

export interface StackedSeries {
  key: string;
  label: string;
  total: number;
}

export interface StackedData {
  /** Bucket starts, Unix seconds, oldest first. */
  xs: number[];
  series: StackedSeries[];
  /** raw[i][j]: bytes of series i in bucket j. */
  raw: number[][];
  /** stacked[i][j]: bytes of series 0..=i in bucket j (what the areas are drawn to). */
  stacked: number[][];
}

/** A program's short name: the file name of its executable path. */
export function programLabel(program: string): string {
  const parts = program.split(/[\\/]/);
  return parts[parts.length - 1] || program;
}

export function stack(view: UploadsView, nowS: number, topN = HISTORY_TOP_N): StackedData {
  const bucket = Math.max(1, view.bucket_s);
  const first = view.since - (((view.since % bucket) + bucket) % bucket);
  const xs: number[] = [];
  for (let t = first; t <= nowS && xs.length < 10_000; t += bucket) xs.push(t);
  const totals = new Map<string, number>();
  for (const p of view.series) totals.set(p.program, (totals.get(p.program) ?? 0) + p.bytes);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const series: StackedSeries[] = ranked.slice(0, topN).map(([key, total]) => ({ key, label: programLabel(key), total }));
  const rest = ranked.slice(topN);
  if (rest.length) series.push({ key: OTHER_KEY, label: '', total: rest.reduce((a, [, v]) => a + v, 0) });
  const index = new Map(series.map((s, i) => [s.key, i]));
  const raw = series.map(() => new Array<number>(xs.length).fill(0));
  for (const p of view.series) {
    const j = Math.floor((p.start - first) / bucket);
    if (j < 0 || j >= xs.length) continue;
    const i = index.get(p.program) ?? index.get(OTHER_KEY);
    if (i !== undefined) raw[i][j] += p.bytes;
  }
  const stacked = raw.map((row) => row.slice());
  for (let i = 1; i < stacked.length; i++) for (let j = 0; j < xs.length; j++) stacked[i][j] += stacked[i - 1][j];
  return { xs, series, raw, stacked };
}

/** Programs seen in the range, largest first (for the program picker). */
export function programs(view: UploadsView): string[] {
  const totals = new Map<string, number>();
  for (const p of view.series) totals.set(p.program, (totals.get(p.program) ?? 0) + p.bytes);
  return [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
}
