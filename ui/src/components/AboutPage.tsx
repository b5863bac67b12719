import { useUi } from '../context';
import type { EngineStatus } from '../types';

export function StatusText({ status }: { status: EngineStatus | null }) {
  const { tr } = useUi();
  if (!status) return <span class="muted">{tr.t('ui-loading')}</span>;
  return (
    <span class={`state state-${status.state}`}>
      {status.state === 'paused' && status.paused_until
        ? tr.t('ui-status-paused-until', { time: tr.dateTime(status.paused_until) })
        : tr.t(`ui-status-${status.state.replace('_', '-')}`)}
    </span>
  );
}

/** The exact fix or error text the backend sent (e.g. the setcap command), shown verbatim. */
export function StatusMessage({ status }: { status: EngineStatus | null }) {
  const { tr } = useUi();
  if (!status?.message) return null;
  return (
    <div class={`status-message state-${status.state}`}>
      {status.state === 'no_permission' && <p>{tr.t('ui-status-no-permission-fix')}</p>}
      <pre class="mono" data-testid="status-message">
        {status.message}
      </pre>
    </div>
  );
}

export function AboutPage({ status, uiVersion }: { status: EngineStatus | null; uiVersion: string }) {
  const { tr } = useUi();
  return (
    <section class="page about" aria-labelledby="about-h">
      <h1 id="about-h">{tr.t('ui-about-title')}</h1>
      <p>{tr.t('ui-about-tagline')}</p>
      <dl class="fields">
        <dt>{tr.t('ui-about-version')}</dt>
        <dd data-testid="about-version">{status?.version ?? uiVersion}</dd>
        <dt>{tr.t('ui-about-status')}</dt>
        <dd data-testid="about-status">
          <StatusText status={status} />
          <StatusMessage status={status} />
        </dd>
        {status && (
          <>
            <dt>{tr.t('ui-about-interfaces')}</dt>
            <dd>{status.interfaces.length ? status.interfaces.join(', ') : <span class="muted">{tr.t('unknown')}</span>}</dd>
            <dt>{tr.t('ui-about-packets')}</dt>
            <dd>{tr.t('ui-about-packets-value', { rate: tr.int(status.packets_per_s), packets: tr.int(status.dropped_packets), batches: tr.int(status.dropped_batches) })}</dd>
            <dt>{tr.t('ui-about-attributed')}</dt>
            <dd>{status.attributed_share != null ? `${tr.int(Math.round(status.attributed_share * 100))} %` : <span class="muted">{tr.t('unknown')}</span>}</dd>
            <dt>{tr.t('ui-about-legacy')}</dt>
            <dd>{status.legacy_port != null ? tr.t('ui-settings-legacy-port', { port: String(status.legacy_port) }) : tr.t('ui-settings-legacy-off')}</dd>
          </>
        )}
      </dl>
      <h2>{tr.t('ui-about-rights-title')}</h2>
      <p>{tr.t('ui-about-rights')}</p>
      <h2>{tr.t('ui-about-data-title')}</h2>
      <ul class="attribution" data-testid="about-attribution">
        <li>{tr.t('ui-about-data-dbip')}</li>
        <li>{tr.t('ui-about-data-routeviews')}</li>
        <li>{tr.t('ui-about-data-nro')}</li>
        <li>{tr.t('ui-about-data-merge')}</li>
        <li>{tr.t('ui-about-data-license')}</li>
      </ul>
    </section>
  );
}
