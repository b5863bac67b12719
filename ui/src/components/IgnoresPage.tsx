import { useCallback, useEffect, useState } from 'preact/hooks';
import { prettyFilter } from '../alerts';
import { api, errorText } from '../api';
import { useUi } from '../context';
import type { IgnoreView } from '../types';

/** How long an ignore lasts, in words: always / until <time> / until Leakwatch restarts. */
export function scopeText(tr: ReturnType<typeof useUi>['tr'], ig: IgnoreView): string {
  if (ig.permanent) return tr.t('ui-scope-always');
  if (ig.until) return tr.t('ui-scope-until', { time: tr.dateTime(ig.until) });
  return tr.t('ui-scope-for-now');
}

export function IgnoresPage({ refreshKey }: { refreshKey: number }) {
  const { tr } = useUi();
  const [list, setList] = useState<IgnoreView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(() => {
    api
      .listIgnores()
      .then((l) => {
        setList(l);
        setError(null);
      })
      .catch((e) => setError(errorText(e)));
  }, []);
  useEffect(load, [load, refreshKey]);

  const remove = async (ig: IgnoreView) => {
    try {
      const ok = await api.removeIgnore(ig.id);
      setNotice(ok ? tr.t('ui-ignore-removed', { id: String(ig.id) }) : tr.t('ui-ignore-already-gone', { id: String(ig.id) }));
      setError(null);
      load();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section class="page" aria-labelledby="ignores-h">
      <div class="page-head">
        <h1 id="ignores-h">{tr.t('ui-nav-ignores')}</h1>
        <button type="button" class="btn" onClick={load}>
          {tr.t('ui-refresh')}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {list === null ? (
        <p class="muted">{tr.t('ui-loading')}</p>
      ) : list.length === 0 ? (
        <p class="empty">{tr.t('ui-ignores-empty')}</p>
      ) : (
        <ul class="ignore-list">
          {list.map((ig) => (
            <li key={ig.id} class={`ignore-row${ig.source === 'legacy-socket' ? ' from-legacy' : ''}`} data-testid="ignore-row" data-ignore-id={String(ig.id)}>
              <div class="ignore-main">
                <span class="ignore-name">{ig.name ?? tr.t('ui-ignore-unnamed')}</span>
                <span class={`badge ${ig.permanent ? 'scope-always' : 'scope-temp'}`}>{scopeText(tr, ig)}</span>
              </div>
              <dl class="ignore-meta">
                <dt>{tr.t('ui-ignore-created')}</dt>
                <dd data-testid="ignore-created">
                  {ig.created_at ? tr.dateTime(ig.created_at) : <span class="muted">{tr.t('ui-created-unknown')}</span>}
                </dd>
                <dt>{tr.t('ui-ignore-expires')}</dt>
                <dd>{ig.permanent ? tr.t('ui-expires-never') : ig.until ? tr.dateTime(ig.until) : tr.t('ui-expires-restart')}</dd>
                <dt>{tr.t('ui-ignore-source')}</dt>
                <dd>
                  {ig.source === 'legacy-socket' ? (
                    <strong class="warn" data-testid="ignore-source-legacy">
                      ⚠ {tr.t('ui-source-legacy-socket')}
                    </strong>
                  ) : ig.source ? (
                    tr.has(`ui-source-${ig.source}`) ? tr.t(`ui-source-${ig.source}`) : ig.source
                  ) : (
                    <span class="muted">{tr.t('unknown')}</span>
                  )}
                </dd>
              </dl>
              <details>
                <summary>{tr.t('ui-ignore-filter')}</summary>
                <pre class="filter mono">{prettyFilter(ig.filter)}</pre>
              </details>
              <button
                type="button"
                class="btn danger"
                data-testid="ignore-remove"
                aria-label={tr.t('ui-ignore-remove-label', { name: ig.name ?? String(ig.id) })}
                onClick={() => remove(ig)}
              >
                {tr.t('ui-ignore-remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
