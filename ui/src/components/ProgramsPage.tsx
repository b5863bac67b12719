import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { programOf } from '../connections';
import { useUi } from '../context';
import { programLabel, stack } from '../history';
import { flag } from '../i18n';
import {
  PERIODS,
  fromFlows,
  fromHistory,
  hasPath,
  historyRange,
  periodStart,
  searchLines,
  sortLines,
  type ProgramLine,
  type SortDir,
  type SortKey,
} from '../programs';
import type { AlertView, FlowView, Period, Scope, UploadsView } from '../types';
import { CONNECTIONS_EVERY_MS } from './ConnectionsPage';
import { DestinationsTable } from './DestinationsTable';
import { HistoryChart } from './HistoryChart';
import { IgnoreMenu } from './IgnoreMenu';

const COLUMNS: { key: SortKey; id: string; num: boolean }[] = [
  { key: 'program', id: 'ui-col-program', num: false },
  { key: 'sent', id: 'ui-col-sent', num: true },
  { key: 'received', id: 'ui-col-received', num: true },
  { key: 'destinations', id: 'ui-col-destinations', num: true },
  { key: 'countries', id: 'ui-col-countries', num: false },
  { key: 'first', id: 'ui-col-first', num: false },
  { key: 'last', id: 'ui-col-last', num: false },
  { key: 'alerts', id: 'ui-col-alerts', num: true },
];

interface Props {
  /** Live alerts (their count per program for "now"). */
  alerts: AlertView[];
  /** Programs announced as first-time senders in this run. */
  newPrograms?: ReadonlySet<string>;
  /** A program to open at once (chosen in the Connections view). */
  initialProgram?: string | null;
  onIgnored?(): void;
}

/**
 * Programs: every program that sent data in the chosen period (now: the open connections;
 * otherwise stored history), sortable and searchable; a click opens the program.
 */
const NONE: ReadonlySet<string> = new Set();

export function ProgramsPage({ alerts, newPrograms = NONE, initialProgram = null, onIgnored }: Props) {
  const { tr } = useUi();
  const [period, setPeriod] = useState<Period>('today');
  const [lines, setLines] = useState<ProgramLine[]>([]);
  const [flows, setFlows] = useState<FlowView[]>([]);
  const [sortKey, setSortKey] = useState<SortKey>('sent');
  const [sortDir, setSortDir] = useState<SortDir>('desc');
  const [search, setSearch] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(initialProgram);
  const [until, setUntil] = useState<number | null>(null);
  const [older, setOlder] = useState<number | null>(null);

  useEffect(() => setSelected(initialProgram), [initialProgram]);

  // "Now" (and a program's live destinations): the open flows, once a second.
  useEffect(() => {
    let gone = false;
    const poll = () =>
      api
        .connectionsNow()
        .then((s) => {
          if (gone) return;
          setFlows(s.flows);
          if (period === 'now') {
            setLines(fromFlows(s.flows, alerts, newPrograms));
            setError(null);
          }
        })
        .catch((e) => !gone && period === 'now' && setError(errorText(e)));
    poll();
    const timer = setInterval(poll, CONNECTIONS_EVERY_MS);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, [period, alerts, newPrograms]);

  useEffect(() => {
    if (period === 'now') {
      setOlder(null);
      return;
    }
    let gone = false;
    const end = until ?? Math.floor(Date.now() / 1000);
    api
      .programs(periodStart(period, end), until)
      .then((v) => {
        if (gone) return;
        setLines(fromHistory(v, newPrograms));
        setOlder(until === null && v.programs.length === 0 && v.newest !== null && v.newest < v.since ? v.newest : null);
        setError(null);
      })
      .catch((e) => !gone && setError(errorText(e)));
    return () => {
      gone = true;
    };
  }, [period, until, newPrograms]);

  const shown = useMemo(() => sortLines(searchLines(lines, search), sortKey, sortDir), [lines, search, sortKey, sortDir]);
  const sortBy = (k: SortKey) => {
    if (k === sortKey) setSortDir((d) => (d === 'asc' ? 'desc' : 'asc'));
    else {
      setSortKey(k);
      setSortDir(k === 'program' ? 'asc' : 'desc');
    }
  };
  const when = (s: number) => tr.dateTime(new Date(s * 1000).toISOString());

  if (selected !== null) {
    return (
      <ProgramDetails
        program={selected}
        period={period}
        until={until}
        flows={flows.filter((f) => programOf(f) === selected)}
        onBack={() => setSelected(null)}
        onIgnored={onIgnored}
      />
    );
  }

  return (
    <section class="page" aria-labelledby="programs-h">
      <div class="page-head">
        <h1 id="programs-h">{tr.t('ui-programs-heading')}</h1>
        <label>
          {tr.t('ui-history-range')}{' '}
          <select data-testid="programs-period" value={period} onChange={(e) => setPeriod(e.currentTarget.value as Period)}>
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                {tr.t(`ui-period-${p}`)}
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          data-testid="programs-search"
          placeholder={tr.t('ui-programs-search')}
          aria-label={tr.t('ui-programs-search')}
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
      </div>
      {error && (
        <p class="error" role="alert" data-testid="programs-error">
          {tr.t('ui-error-backend', { error })}
        </p>
      )}
      <p class="hint">{period === 'now' ? tr.t('ui-programs-hint-now') : tr.t('ui-programs-hint-history')}</p>
      {older !== null && (
        <p class="muted" role="status" data-testid="programs-older">
          {tr.t('ui-history-older', { date: when(older) })}{' '}
          <button type="button" class="btn" data-testid="programs-show-newest" onClick={() => setUntil(older + 60)}>
            {tr.t('ui-history-show-newest')}
          </button>
        </p>
      )}
      {until !== null && (
        <p class="muted" role="status" data-testid="programs-anchored">
          {tr.t('ui-history-anchored', { date: when(until) })}{' '}
          <button type="button" class="btn" onClick={() => setUntil(null)}>
            {tr.t('ui-history-back-to-now')}
          </button>
        </p>
      )}
      <table class="table programs-table" data-testid="programs-table">
        <caption class="sr-only">{tr.t('ui-programs-caption')}</caption>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th
                key={c.key}
                scope="col"
                class={c.num ? 'num' : undefined}
                aria-sort={sortKey === c.key ? (sortDir === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                <button type="button" class="sort-btn" data-testid={`programs-sort-${c.key}`} onClick={() => sortBy(c.key)}>
                  {tr.t(c.id)}
                  <span aria-hidden="true">{sortKey === c.key ? (sortDir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((l) => (
            <tr key={l.program} data-testid="programs-row" data-program={l.program} data-sent={l.sent} data-received={l.received ?? ''}>
              <td>
                <button type="button" class="btn link cell-link" title={l.program} data-testid="programs-open" onClick={() => setSelected(l.program)}>
                  {l.program === 'unknown' ? tr.t('ui-program-unknown') : programLabel(l.program)}
                </button>
                {l.isNew && (
                  <span class="badge new" data-testid="programs-new" title={tr.t('ui-programs-new-title')}>
                    {tr.t('ui-programs-new')}
                  </span>
                )}
                {l.program !== 'unknown' && programLabel(l.program) !== l.program && <span class="exe">{l.program}</span>}
              </td>
              <td class="num" data-testid="programs-sent">{tr.size(l.sent)}</td>
              <td class="num">{l.received === null ? <span title={tr.t('ui-programs-no-received')}>—</span> : tr.size(l.received)}</td>
              <td class="num">{tr.int(l.destinations)}</td>
              <td>
                {l.countries.map((c) => (
                  <span key={c} class="cc">
                    <span aria-hidden="true">{flag(c)}</span> {c}
                  </span>
                ))}
              </td>
              <td>{when(l.first)}</td>
              <td>{when(l.last)}</td>
              <td class="num">{l.alerts > 0 ? <strong>{tr.int(l.alerts)}</strong> : '0'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length === 0 && !error && <p class="empty">{tr.t('ui-programs-empty')}</p>}
    </section>
  );
}

const EMPTY: UploadsView = { bucket_s: 60, since: 0, until: 0, newest: null, series: [], top: [] };

interface DetailsProps {
  program: string;
  period: Period;
  until: number | null;
  /** The program's open flows now. */
  flows: FlowView[];
  onBack(): void;
  onIgnored?(): void;
}

/** One program: its destinations now (host names) and in the period, its upload chart, its ignores. */
function ProgramDetails({ program, period, until, flows, onBack, onIgnored }: DetailsProps) {
  const { tr } = useUi();
  const [view, setView] = useState<UploadsView>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const range = historyRange(period);

  useEffect(() => {
    let gone = false;
    api
      .historyUploads(range, 'destination', program, until)
      .then((v) => !gone && setView(v))
      .catch((e) => !gone && setError(errorText(e)));
    return () => {
      gone = true;
    };
  }, [program, range, until]);

  const mine = useMemo(() => ({ ...view, series: view.series.filter((p) => p.program === program) }), [view, program]);
  const data = useMemo(() => stack(mine, until ?? Math.floor(Date.now() / 1000)), [mine, until]);
  const live = useMemo(() => [...flows].sort((a, b) => b.payload_out - a.payload_out), [flows]);
  const name = program === 'unknown' ? tr.t('ui-program-unknown') : programLabel(program);

  const ignore = async (scope: Scope) => {
    try {
      await api.ignoreProgram(program, scope);
      setDone(tr.t('ui-program-ignored', { program: name }));
      setError(null);
      onIgnored?.();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section class="page" aria-labelledby="program-h">
      <div class="details-head">
        <button type="button" class="btn" data-testid="program-back" onClick={onBack}>
          <span aria-hidden="true">← </span>
          {tr.t('ui-back')}
        </button>
        <h1 id="program-h">{name}</h1>
        <span class="spacer" />
        {hasPath(program) ? (
          <IgnoreMenu label={tr.t('ui-program-ignore-label', { program: name })} onIgnore={ignore} />
        ) : (
          <span class="muted small">{tr.t('ui-program-no-path')}</span>
        )}
      </div>
      {program !== name && <p class="exe mono">{program}</p>}
      {done && (
        <p class="notice" role="status" data-testid="program-ignored">
          {done}
        </p>
      )}
      {error && (
        <p class="error" role="alert" data-testid="program-error">
          {tr.t('ui-error-backend', { error })}
        </p>
      )}
      <HistoryChart data={data} />
      <h2>{tr.t('ui-program-now')}</h2>
      {live.length === 0 ? (
        <p class="muted">{tr.t('ui-program-no-connections')}</p>
      ) : (
        <table class="table" data-testid="program-live">
          <thead>
            <tr>
              <th scope="col">{tr.t('ui-col-destination')}</th>
              <th scope="col">{tr.t('ui-history-col-organisation')}</th>
              <th scope="col">{tr.t('ui-history-col-country')}</th>
              <th scope="col" class="num">{tr.t('ui-col-sent')}</th>
              <th scope="col" class="num">{tr.t('ui-col-received')}</th>
            </tr>
          </thead>
          <tbody>
            {live.map((f) => (
              <tr key={`${f.proto}|${f.local}|${f.remote}`}>
                <td>
                  {f.hostname ?? ''} <span class="mono muted">{f.remote}</span>
                </td>
                <td>{f.orgname ?? tr.t('ui-unknown-owner')}</td>
                <td>{f.country ? `${flag(f.country)} ${f.country}` : '—'}</td>
                <td class="num">{tr.size(f.payload_out)}</td>
                <td class="num">{tr.size(f.payload_in)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{tr.t('ui-program-destinations', { period: tr.t(`ui-history-range-${range}`) })}</h2>
      <DestinationsTable rows={view.top} testid="program-destinations" rowTestid="program-destination-row" />
    </section>
  );
}
