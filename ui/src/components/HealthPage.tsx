import { useUi } from '../context';
import type { EngineStatus } from '../types';
import { StatusMessage, StatusText } from './AboutPage';

/**
 * Health: whether Leakwatch sees everything — its state and source, the interfaces it watches,
 * connection tracing, the attributed share of the last minute's uploads, dropped packets — and
 * each problem with the one command or setting that fixes it (computed by the backend).
 */
export function HealthPage({ status }: { status: EngineStatus | null }) {
  const { tr } = useUi();
  if (!status) return <p class="muted">{tr.t('ui-loading')}</p>;
  const problems = status.problems ?? [];
  const pct = (x: number | null | undefined) => (x == null ? null : `${tr.int(Math.round(x * 100))} %`);
  const tracing = status.connection_tracing;
  return (
    <section class="page health" aria-labelledby="health-h">
      <h1 id="health-h">{tr.t('ui-health-heading')}</h1>
      <p data-testid="health-verdict" class={problems.length ? 'warn' : 'notice'} role="status">
        {problems.length ? tr.t('ui-health-problems', { count: problems.length }) : tr.t('ui-health-all-good')}
      </p>
      {problems.length > 0 && (
        <ul class="problems" data-testid="health-problems">
          {problems.map((p) => (
            <li key={p.id} data-testid="health-problem" data-problem={p.id}>
              <p class="problem-text">{p.text}</p>
              <p class="problem-fix">
                <span class="muted">{tr.t('ui-health-fix')}</span> {p.fix}
              </p>
              {p.command && (
                <pre class="mono" aria-label={tr.t('ui-health-command')}>
                  {p.command}
                </pre>
              )}
            </li>
          ))}
        </ul>
      )}
      <dl class="fields" data-testid="health-fields">
        <dt>{tr.t('ui-about-status')}</dt>
        <dd>
          <StatusText status={status} />
          <StatusMessage status={status} />
        </dd>
        <dt>{tr.t('ui-health-source')}</dt>
        <dd data-testid="health-source">{tr.t(`ui-health-source-${status.source ?? 'service'}`)}</dd>
        <dt>{tr.t('ui-about-interfaces')}</dt>
        <dd data-testid="health-interfaces">
          {status.interfaces.length ? status.interfaces.join(', ') : <span class="muted">{tr.t('ui-health-none')}</span>}
        </dd>
        <dt>{tr.t('ui-health-tracing')}</dt>
        <dd data-testid="health-tracing" data-on={tracing == null ? 'unknown' : String(tracing)}>
          {tracing == null ? <span class="muted">{tr.t('ui-health-not-applicable')}</span> : tracing ? tr.t('ui-health-on') : <strong class="error">{tr.t('ui-health-off')}</strong>}
        </dd>
        <dt>{tr.t('ui-health-attributed')}</dt>
        <dd data-testid="health-attributed">
          {pct(status.attributed_last_minute) ?? <span class="muted">{tr.t('ui-health-nothing-sent')}</span>}
          {status.uploaded_last_minute != null && status.uploaded_last_minute > 0 && (
            <span class="muted"> {tr.t('ui-health-of', { size: tr.size(status.uploaded_last_minute) })}</span>
          )}
        </dd>
        <dt>{tr.t('ui-about-packets')}</dt>
        <dd data-testid="health-packets">{tr.t('ui-about-packets-value', { rate: tr.int(status.packets_per_s), packets: tr.int(status.dropped_packets), batches: tr.int(status.dropped_batches) })}</dd>
      </dl>
    </section>
  );
}
