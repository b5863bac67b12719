import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { OTHER_KEY } from '../chart';
import { useUi } from '../context';
import type { StackedData } from '../history';
import { OTHER_COLOR, PALETTE, canDraw, cssVar } from './UploadChart';

/** The History tab's stacked area chart of bytes per program per bucket, drawn by uPlot. */
export function HistoryChart({ data }: { data: StackedData }) {
  const { tr } = useUi();
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current;
    plot.current?.destroy();
    plot.current = null;
    if (!el || !canDraw() || data.series.length === 0) return;
    const labels = data.series.map((s) => (s.key === OTHER_KEY ? tr.t('ui-chart-other') : s.label));
    const fg = cssVar(el, '--fg-muted', '#495057');
    const grid = cssVar(el, '--grid', '#e9ecef');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    // uPlot fills each series down to zero: draw the tallest stack first, the lowest last.
    const order = data.series.map((_, i) => i).reverse();
    const color = (i: number) => (data.series[i].key === OTHER_KEY ? OTHER_COLOR : PALETTE[i % PALETTE.length]);
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth || 600),
      height: 220,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1024, max * 1.1)] } },
      axes: [axis, { ...axis, size: 90, values: (_u, vals) => vals.map((v) => tr.size(v)) }],
      series: [
        { label: tr.t('ui-chart-time'), value: (_u: uPlot, v: number | null) => (v == null ? '' : tr.dateTime(new Date(v * 1000).toISOString())) },
        ...order.map((i) => ({
          label: labels[i],
          stroke: color(i),
          fill: `${color(i)}99`,
          width: 1,
          points: { show: false },
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => (idx == null ? '' : tr.size(data.raw[i][idx] ?? 0)),
        })),
      ],
    };
    const aligned = [data.xs, ...order.map((i) => data.stacked[i])] as uPlot.AlignedData;
    plot.current = new uPlot(opts, aligned, el);
  }, [data, tr]);

  useEffect(() => () => plot.current?.destroy(), []);

  const empty = data.series.length === 0;
  return (
    <figure class="chart" data-testid="history-chart" aria-label={tr.t('ui-history-chart-title')}>
      <figcaption>
        <h2>{tr.t('ui-history-chart-title')}</h2>
        {empty && <span class="muted"> — {tr.t('ui-history-empty')}</span>}
      </figcaption>
      <div
        class="chart-host"
        ref={host}
        role="img"
        aria-label={
          data.series.map((s) => `${s.key === OTHER_KEY ? tr.t('ui-chart-other') : s.label}: ${tr.size(s.total)}`).join(', ') ||
          `${tr.t('ui-history-chart-title')}: ${tr.t('ui-history-empty')}`
        }
      />
    </figure>
  );
}
