import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { useUi } from '../context';
import { programLabel, programs, stack } from '../history';
import type { HistoryAlert, HistoryRange, UploadsView } from '../types';
import { DestinationsTable } from './DestinationsTable';
import { HistoryChart } from './HistoryChart';

const RANGES: HistoryRange[] = ['1h', '24h', '7d', '30d'];
const EMPTY: UploadsView = { bucket_s: 60, since: 0, until: 0, newest: null, series: [], top: [] };

/** The History tab: uploads per program over time, top destinations, the alert log, export. */
export function HistoryPage() {
  const { tr } = useUi();
  const [range, setRange] = useState<HistoryRange>('24h');
  const [program, setProgram] = useState('');
  const [search, setSearch] = useState('');
  const [view, setView] = useState<UploadsView>(EMPTY);
  const [dests, setDests] = useState<UploadsView>(EMPTY);
  const [alerts, setAlerts] = useState<HistoryAlert[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [nowS, setNowS] = useState(() => Math.floor(Date.now() / 1000));
  /** End of the shown period (Unix seconds, excluded); null: now. */
  const [until, setUntil] = useState<number | null>(null);

  useEffect(() => {
    let gone = false;
    setNowS(Math.floor(Date.now() / 1000));
    Promise.all([api.historyUploads(range, 'program', null, until), api.historyUploads(range, 'destination', program || null, until)])
      .then(([v, d]) => {
        if (gone) return;
        setView(v);
        setDests(d);
        setError(null);
      })
      .catch((e) => !gone && setError(errorText(e)));
    return () => {
      gone = true;
    };
  }, [range, program, until]);

  useEffect(() => {
    let gone = false;
    const timer = setTimeout(() => {
      api
        .historyAlerts(range, program || null, search.trim() || null, until)
        .then((l) => !gone && setAlerts(l))
        .catch((e) => !gone && setError(errorText(e)));
    }, 150);
    return () => {
      gone = true;
      clearTimeout(timer);
    };
  }, [range, program, search, until]);

  const data = useMemo(() => stack(view, until ?? nowS), [view, until, nowS]);
  // Nothing in the period, but older records exist (e.g. a capture replayed with --history).
  const older = until === null && view.series.length === 0 && view.newest !== null && view.newest < view.since ? view.newest : null;
  const isoOf = (s: number) => new Date(s * 1000).toISOString();
  const names = useMemo(() => programs(view), [view]);

  const doExport = async (format: 'csv' | 'json') => {
    try {
      const path = await api.exportHistory(format);
      setExported(path == null ? tr.t('ui-history-export-cancelled') : tr.t('ui-history-exported', { path }));
    } catch (e) {
      setExported(tr.t('ui-history-export-failed', { error: errorText(e) }));
    }
  };

  return (
    <section class="page" aria-labelledby="history-h">
      <div class="page-head">
        <h1 id="history-h">{tr.t('ui-history-heading')}</h1>
        <label>
          {tr.t('ui-history-range')}{' '}
          <select data-testid="history-range" value={range} onChange={(e) => setRange(e.currentTarget.value as HistoryRange)}>
            {RANGES.map((r) => (
              <option key={r} value={r}>
                {tr.t(`ui-history-range-${r}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {tr.t('ui-history-program')}{' '}
          <select data-testid="history-program" value={program} onChange={(e) => setProgram(e.currentTarget.value)}>
            <option value="">{tr.t('ui-history-all-programs')}</option>
            {(program && !names.includes(program) ? [program, ...names] : names).map((p) => (
              <option key={p} value={p} title={p}>
                {programLabel(p)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p class="error" role="alert" data-testid="history-error">
          {tr.t('ui-error-backend', { error })}
        </p>
      )}
      {older !== null && (
        <p class="muted" role="status" data-testid="history-older">
          {tr.t('ui-history-older', { date: tr.dateTime(isoOf(older)) })}{' '}
          <button type="button" class="btn" data-testid="history-show-newest" onClick={() => setUntil(older + 60)}>
            {tr.t('ui-history-show-newest')}
          </button>
        </p>
      )}
      {until !== null && (
        <p class="muted" role="status" data-testid="history-anchored">
          {tr.t('ui-history-anchored', { date: tr.dateTime(isoOf(until)) })}{' '}
          <button type="button" class="btn" data-testid="history-back-to-now" onClick={() => setUntil(null)}>
            {tr.t('ui-history-back-to-now')}
          </button>
        </p>
      )}
      <HistoryChart data={data} />

      <h2>{program ? tr.t('ui-history-destinations-of', { program: programLabel(program) }) : tr.t('ui-history-destinations')}</h2>
      <DestinationsTable rows={dests.top} testid="history-destinations" rowTestid="history-destination-row" />

      <div class="page-head">
        <h2>{tr.t('ui-history-alerts')}</h2>
        <input
          type="search"
          data-testid="history-search"
          placeholder={tr.t('ui-history-search')}
          aria-label={tr.t('ui-history-search')}
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <button type="button" class="btn" data-testid="history-export-csv" onClick={() => doExport('csv')}>
          {tr.t('ui-history-export-csv')}
        </button>
        <button type="button" class="btn" data-testid="history-export-json" onClick={() => doExport('json')}>
          {tr.t('ui-history-export-json')}
        </button>
      </div>
      {exported && (
        <p class="muted" role="status" data-testid="history-export-result">
          {exported}
        </p>
      )}
      {alerts.length === 0 && <p class="muted">{tr.t('ui-history-no-alerts')}</p>}
      <ul class="history-alerts">
        {alerts.map((a) => (
          <li key={`${a.id}|${a.started}`} data-testid="history-alert-row" data-alert-id={a.id}>
            <span class="muted">{tr.dateTime(a.at)}</span> <strong>{tr.t(`kind-${a.kind}`)}</strong> {a.message}
            {a.ignored && (
              <span class="badge" data-testid="history-ignored">
                {' '}
                {tr.t('ui-history-ignored', { scope: a.ignored_scope ?? '' })}
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
