import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { ChartData } from '../chart';
import { OTHER_KEY } from '../chart';
import { useUi } from '../context';

/** Line colours readable on light and dark backgrounds (the last is "other"). */
export const PALETTE = ['#2f7ed8', '#e8590c', '#2b9348', '#c2255c', '#7048e8', '#0c8599', '#a61e4d', '#5c940d'];
export const OTHER_COLOR = '#868e96';

let canvasOk: boolean | undefined;
/** Whether this webview can draw on a canvas (not so in DOM-only test environments). */
export function canDraw(): boolean {
  if (canvasOk === undefined) {
    try {
      canvasOk = !!document.createElement('canvas').getContext('2d');
    } catch {
      canvasOk = false;
    }
  }
  return canvasOk;
}

export function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

/** The live chart of upload rate per program (last 10 minutes), drawn by uPlot. */
export function UploadChart({ data }: { data: ChartData }) {
  const { tr } = useUi();
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef('');
  const [dark, setDark] = useState(() => window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false);

  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!mq) return;
    const on = () => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);

  // (Re)create the plot when the set of series, the language or the theme changes; else just
  // give it the new data.
  useEffect(() => {
    const el = host.current;
    if (!el || !canDraw()) return;
    const labels = data.series.map((s) => (s.key === OTHER_KEY ? tr.t('ui-chart-other') : s.label));
    const key = `${tr.locale}|${dark}|${data.series.map((s) => s.key).join('|')}|${labels.join('|')}`;
    const aligned = [data.xs, ...data.ys] as uPlot.AlignedData;
    if (plot.current && shape.current === key) {
      plot.current.setData(aligned);
      return;
    }
    plot.current?.destroy();
    shape.current = key;
    const fg = cssVar(el, '--fg-muted', dark ? '#adb5bd' : '#495057');
    const grid = cssVar(el, '--grid', dark ? '#343a40' : '#e9ecef');
    const width = Math.max(300, el.clientWidth || 600);
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const hhmm = new Intl.DateTimeFormat(tr.locale, { hour: '2-digit', minute: '2-digit', hour12: false });
    const opts: uPlot.Options = {
      width,
      height: 200,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1024, max * 1.1)] } },
      axes: [
        { ...axis, values: (_u, vals) => vals.map((v) => hhmm.format(new Date(v * 1000))) },
        { ...axis, size: 100, values: (_u, vals) => vals.map((v) => tr.rate(v)) },
      ],
      series: [
        { label: tr.t('ui-chart-time'), value: (_u: uPlot, v: number | null) => (v == null ? '' : tr.time(new Date(v * 1000).toISOString())) },
        ...data.series.map((s, i) => ({
          label: labels[i],
          stroke: s.key === OTHER_KEY ? OTHER_COLOR : PALETTE[i % PALETTE.length],
          width: 1.5,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v == null ? '' : tr.rate(v)),
        })),
      ],
    };
    plot.current = new uPlot(opts, aligned, el);
  }, [data, tr, dark]);

  useEffect(() => {
    const el = host.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (plot.current && el.clientWidth > 0) plot.current.setSize({ width: el.clientWidth, height: 200 });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => () => plot.current?.destroy(), []);

  const empty = data.series.length === 0;
  return (
    <figure class="chart" data-testid="upload-chart" aria-label={tr.t('ui-chart-title')}>
      <figcaption>
        <h2>{tr.t('ui-chart-title')}</h2>
        {empty && <span class="muted"> — {tr.t('ui-chart-empty')}</span>}
      </figcaption>
      <div class="chart-host" ref={host} role="img" aria-label={summary(data, tr.t('ui-chart-other')) || `${tr.t('ui-chart-title')}: ${tr.t('ui-chart-empty')}`} />
    </figure>
  );
}

/** A text alternative for screen readers: the series and their totals. */
function summary(data: ChartData, other: string): string {
  return data.series.map((s) => (s.key === OTHER_KEY ? other : s.label)).join(', ');
}
