import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { LiveConnections, programOf, searchRows, type ConnRow } from '../connections';
import { useUi } from '../context';
import { programLabel } from '../history';
import { flag } from '../i18n';

/** How often the view asks for the open flows (ms). */
export const CONNECTIONS_EVERY_MS = 1000;

/**
 * Connections now: the open flows with program, destination (host name, owner, country),
 * protocol, rates and totals, asked for once a second. While the pointer or the keyboard focus is
 * in the table its rows stay in place (no reflow under the pointer); released, they sort by rate.
 */
export function ConnectionsPage({ onProgram }: { onProgram?(program: string): void }) {
  const { tr } = useUi();
  const model = useRef(new LiveConnections());
  const [rows, setRows] = useState<ConnRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const hover = useRef(false);
  const focus = useRef(false);

  useEffect(() => {
    let gone = false;
    const poll = async () => {
      try {
        const snap = await api.connectionsNow();
        if (gone) return;
        setRows([...model.current.update(snap, hover.current || focus.current)]);
        setError(null);
      } catch (e) {
        if (!gone) setError(errorText(e));
      }
    };
    poll();
    const timer = setInterval(poll, CONNECTIONS_EVERY_MS);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, []);

  const shown = useMemo(() => searchRows(rows, search), [rows, search]);
  const open = model.current.open;

  return (
    <section class="page" aria-labelledby="conn-h">
      <div class="page-head">
        <h1 id="conn-h">{tr.t('ui-conn-heading')}</h1>
        <span class="muted" data-testid="conn-count" aria-live="polite">
          {tr.t('ui-conn-count', { count: open, shown: rows.filter((r) => !r.closed).length })}
        </span>
        <input
          type="search"
          data-testid="conn-search"
          placeholder={tr.t('ui-conn-search')}
          aria-label={tr.t('ui-conn-search')}
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
      </div>
      {error && (
        <p class="error" role="alert" data-testid="conn-error">
          {tr.t('ui-error-backend', { error })}
        </p>
      )}
      <p class="hint">{tr.t('ui-conn-hint')}</p>
      <div
        class="table-wrap"
        onPointerEnter={() => (hover.current = true)}
        onPointerLeave={() => (hover.current = false)}
        onFocusIn={() => (focus.current = true)}
        onFocusOut={() => (focus.current = false)}
      >
        <table class="table conn-table" data-testid="conn-table" aria-describedby="conn-h">
          <caption class="sr-only">{tr.t('ui-conn-caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{tr.t('ui-col-program')}</th>
              <th scope="col">{tr.t('ui-col-destination')}</th>
              <th scope="col">{tr.t('ui-col-proto')}</th>
              <th scope="col" class="num">{tr.t('ui-col-up')}</th>
              <th scope="col" class="num">{tr.t('ui-col-down')}</th>
              <th scope="col" class="num">{tr.t('ui-col-sent')}</th>
              <th scope="col" class="num">{tr.t('ui-col-received')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => {
              const f = r.flow;
              const program = programOf(f);
              return (
                <tr key={r.key} data-testid="conn-row" data-key={r.key} data-program={program} class={r.closed ? 'closed' : undefined}>
                  <td>
                    {onProgram ? (
                      <button type="button" class="btn link cell-link" title={program} onClick={() => onProgram(program)}>
                        {f.process ? programLabel(program) : tr.t('ui-program-unknown')}
                      </button>
                    ) : (
                      <span title={program}>{f.process ? programLabel(program) : tr.t('ui-program-unknown')}</span>
                    )}
                    {f.process && <span class="muted small"> {tr.t('ui-pid', { pid: f.process.pid })}</span>}
                  </td>
                  <td>
                    <span class="host">{f.hostname ?? f.remote}</span>
                    <span class="dest-meta">
                      {f.hostname && <span class="mono">{f.remote}</span>}
                      <span>{f.orgname ?? tr.t('ui-unknown-owner')}</span>
                      {f.country && (
                        <span>
                          <span aria-hidden="true">{flag(f.country)}</span> {f.country}
                        </span>
                      )}
                    </span>
                  </td>
                  <td class="mono">{f.proto}</td>
                  <td class="num" data-testid="conn-up">{r.closed ? tr.t('ui-conn-closed') : tr.rate(r.up)}</td>
                  <td class="num">{r.closed ? '' : tr.rate(r.down)}</td>
                  <td class="num" data-testid="conn-sent" data-bytes={f.payload_out}>{tr.size(f.payload_out)}</td>
                  <td class="num" data-bytes={f.payload_in}>{tr.size(f.payload_in)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {shown.length === 0 && !error && <p class="empty">{tr.t('ui-conn-empty')}</p>}
    </section>
  );
}
