import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { addAlert, fromList, markIgnored, updateAlert } from '../alerts';
import { api, errorText, subscribe } from '../api';
import { UploadHistory } from '../chart';
import { Ctx } from '../context';
import { isLocale, translator } from '../i18n';
import type { AlertView, EngineStatus, LocaleId, Scope, Settings } from '../types';
import { AboutPage, StatusMessage, StatusText } from './AboutPage';
import { AlertList } from './AlertRow';
import { DetailsPage } from './DetailsPage';
import { HealthPage } from './HealthPage';
import { HistoryPage } from './HistoryPage';
import { ConnectionsPage } from './ConnectionsPage';
import { IgnoresPage } from './IgnoresPage';
import { ProgramsPage } from './ProgramsPage';
import { SettingsPage } from './SettingsPage';
import { UploadChart } from './UploadChart';

export type Page = 'live' | 'details' | 'programs' | 'connections' | 'health' | 'history' | 'ignores' | 'settings' | 'about';
const NAV: { page: Page; id: string; testid: string }[] = [
  { page: 'live', id: 'ui-nav-live', testid: 'nav-live' },
  { page: 'programs', id: 'ui-nav-programs', testid: 'nav-programs' },
  { page: 'connections', id: 'ui-nav-connections', testid: 'nav-connections' },
  { page: 'health', id: 'ui-nav-health', testid: 'nav-health' },
  { page: 'history', id: 'ui-nav-history', testid: 'nav-history' },
  { page: 'ignores', id: 'ui-nav-ignores', testid: 'nav-ignores' },
  { page: 'settings', id: 'ui-nav-settings', testid: 'nav-settings' },
  { page: 'about', id: 'ui-nav-about', testid: 'nav-about' },
];

declare const __UI_VERSION__: string;

export function App({ initialLocale }: { initialLocale: LocaleId }) {
  const [locale, setLocale] = useState<LocaleId>(initialLocale);
  const tr = useMemo(() => translator(locale), [locale]);
  const [now, setNow] = useState(Date.now());
  const [page, setPage] = useState<Page>('live');
  const [detailsId, setDetailsId] = useState<number | null>(null);
  const [alerts, setAlerts] = useState<AlertView[]>([]);
  const [status, setStatus] = useState<EngineStatus | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const history = useRef(new UploadHistory());
  const [chartTick, setChartTick] = useState(0);
  const [ignoresKey, setIgnoresKey] = useState(0);
  /** A program chosen in the Connections view, opened in the Programs view. */
  const [program, setProgram] = useState<string | null>(null);
  /** Programs announced as first-time senders in this run (marked new). */
  const [newPrograms, setNewPrograms] = useState<ReadonlySet<string>>(new Set());

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = tr.t('ui-app-title');
  }, [locale, tr]);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(timer);
  }, []);

  const openDetails = useCallback((id: number) => {
    setDetailsId(id);
    setPage('details');
  }, []);

  useEffect(() => {
    let off: (() => void) | undefined;
    let gone = false;
    (async () => {
      try {
        off = await subscribe({
          alert: (a) => setAlerts((l) => addAlert(l, a)),
          alertUpdated: (a) => setAlerts((l) => updateAlert(l, a)),
          stats: (s) => {
            history.current.add(s);
            setChartTick((n) => n + 1);
          },
          engineStatus: setStatus,
          showProgram: ({ program: p }) => {
            setProgram(p);
            setPage('programs');
          },
          firstSender: ({ program: p }) => setNewPrograms((s) => new Set([...s, p])),
          showAlert: ({ id }) => {
            openDetails(id);
            // An alert the list has not seen yet (e.g. the window was just created): ask for it.
            api.listAlerts().then((l) => setAlerts((cur) => cur.reduce(updateAlert, fromList(l)))).catch(() => {});
          },
        });
        if (gone) off();
        api.firstSenders().then((l) => setNewPrograms((s) => new Set([...s, ...l]))).catch(() => {});
      } catch (e) {
        setError(tr.t('ui-error-backend', { error: errorText(e) }));
      }
      const results = await Promise.allSettled([api.listAlerts(), api.engineStatus(), api.getSettings()]);
      const [l, st, se] = results;
      // Events that arrived meanwhile are newer than the list: they win.
      if (l.status === 'fulfilled') setAlerts((cur) => cur.reduce(updateAlert, fromList(l.value)));
      if (st.status === 'fulfilled') setStatus((cur) => cur ?? st.value);
      if (se.status === 'fulfilled') {
        setSettings(se.value);
        if (isLocale(se.value.locale)) setLocale(se.value.locale);
      }
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) setError(tr.t('ui-error-backend', { error: errorText(failed.reason) }));
    })();
    return () => {
      gone = true;
      off?.();
    };
  }, []);

  const ignore = useCallback(
    async (id: number, scope: Scope) => {
      try {
        await api.ignoreAlert(id, scope);
        setAlerts((l) => markIgnored(l, id));
        setIgnoresKey((k) => k + 1);
        setError(null);
      } catch (e) {
        setError(errorText(e));
      }
    },
    [],
  );

  const changeLocale = useCallback(
    async (l: LocaleId): Promise<string | null> => {
      setLocale(l);
      if (!settings) return null;
      try {
        setSettings(await api.setSettings({ ...settings, locale: l }));
        return null;
      } catch (e) {
        return errorText(e);
      }
    },
    [settings],
  );

  const chartData = useMemo(() => history.current.data(), [chartTick]);
  const current = detailsId != null ? alerts.find((a) => a.id === detailsId) ?? null : null;
  const navPage = page === 'details' ? 'live' : page;
  const ignoredCount = alerts.filter((a) => a.ignored).length;

  return (
    <Ctx.Provider value={{ tr, now }}>
      <header class="top">
        <span class="brand">Leakwatch</span>
        <nav aria-label={tr.t('ui-nav-label')}>
          {NAV.map((n) => (
            <button
              key={n.page}
              type="button"
              class={`nav-btn${navPage === n.page ? ' active' : ''}`}
              data-testid={n.testid}
              aria-current={navPage === n.page ? 'page' : undefined}
              onClick={() => {
                setProgram(null);
                setPage(n.page);
              }}
            >
              {tr.t(n.id)}
            </button>
          ))}
        </nav>
        <button type="button" class="top-status btn link" data-testid="top-status" onClick={() => setPage('health')}>
          <StatusText status={status} />
          {(status?.problems?.length ?? 0) > 0 && (
            <span class="badge warn" data-testid="top-problems">
              {' '}
              {tr.t('ui-health-problems-badge', { count: status?.problems?.length ?? 0 })}
            </span>
          )}
        </button>
      </header>
      <main>
        {error && (
          <p class="error banner" role="alert" data-testid="app-error">
            {error}{' '}
            <button type="button" class="btn link" onClick={() => setError(null)}>
              {tr.t('ui-dismiss')}
            </button>
          </p>
        )}
        {page === 'live' && (
          <section class="page" aria-labelledby="live-h">
            {status && status.state !== 'watching' && (
              <div class={`banner state-${status.state}`}>
                <StatusText status={status} />
                <StatusMessage status={status} />
              </div>
            )}
            <UploadChart data={chartData} />
            <div class="page-head">
              <h1 id="live-h">{tr.t('ui-alerts-heading')}</h1>
              <span class="muted">
                {tr.t('alerts-count', { count: alerts.length })}
                {ignoredCount > 0 && `, ${tr.t('alerts-ignored-count', { count: ignoredCount })}`}
              </span>
            </div>
            <AlertList alerts={alerts} onIgnore={ignore} onDetails={openDetails} />
          </section>
        )}
        {page === 'details' && <DetailsPage alert={current} id={detailsId} onBack={() => setPage('live')} onIgnore={ignore} />}
        {page === 'programs' && (
          <ProgramsPage alerts={alerts} newPrograms={newPrograms} initialProgram={program} onIgnored={() => setIgnoresKey((k) => k + 1)} />
        )}
        {page === 'connections' && (
          <ConnectionsPage
            onProgram={(p) => {
              setProgram(p);
              setPage('programs');
            }}
          />
        )}
        {page === 'health' && <HealthPage status={status} />}
        {page === 'history' && <HistoryPage />}
        {page === 'ignores' && <IgnoresPage refreshKey={ignoresKey} />}
        {page === 'settings' && <SettingsPage saved={settings} status={status} onSaved={setSettings} onLocale={changeLocale} />}
        {page === 'about' && <AboutPage status={status} uiVersion={__UI_VERSION__} />}
      </main>
    </Ctx.Provider>
  );
}
