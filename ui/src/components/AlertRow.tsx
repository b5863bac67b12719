import { useUi } from '../context';
import { flag } from '../i18n';
import type { AlertView, Scope } from '../types';
import { IgnoreMenu } from './IgnoreMenu';

export const PHASE_LABEL = { new: 'alert-new', update: 'alert-ongoing', end: 'alert-ended' } as const;

export function KindBadge({ kind }: { kind: AlertView['kind'] }) {
  const { tr } = useUi();
  return (
    <span class={`badge kind-${kind}`} title={tr.t(`kind-${kind}-desc`)}>
      {tr.t(`kind-${kind}`)}
    </span>
  );
}

export function Program({ a }: { a: AlertView }) {
  const { tr } = useUi();
  if (!a.process) return <span class="muted">{tr.t('unknown-program')}</span>;
  return (
    <>
      <span class="prog-name">{a.process.name}</span>{' '}
      <span class="muted">{tr.t('ui-pid', { pid: String(a.process.pid) })}</span>
      {a.process.exe && (
        <span class="exe mono" title={a.process.exe}>
          {a.process.exe}
        </span>
      )}
    </>
  );
}

/** `[2001:db8::1]:443` or `1.2.3.4:443`. */
export function ipPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function Destination({ a }: { a: AlertView }) {
  const { tr } = useUi();
  const f = flag(a.country);
  return (
    <>
      <span class="host">{a.hostname ?? ipPort(a.dstip, a.dstport)}</span>
      <span class="dest-meta">
        {a.orgname ? <span>{a.orgname}</span> : <span class="muted">{tr.t('ui-unknown-owner')}</span>}
        {a.country && (
          <span class="country" title={tr.t('label-country')}>
            {f && <span aria-hidden="true">{f} </span>}
            {a.country.toUpperCase()}
          </span>
        )}
        {a.hostname && <span class="mono">{ipPort(a.dstip, a.dstport)}</span>}
      </span>
    </>
  );
}

interface RowProps {
  a: AlertView;
  onIgnore(id: number, scope: Scope): void;
  onDetails(id: number): void;
}

export function AlertRow({ a, onIgnore, onDetails }: RowProps) {
  const { tr, now } = useUi();
  return (
    <li class={`alert-row${a.ignored ? ' is-ignored' : ''}`} data-testid="alert-row" data-alert-id={String(a.id)} data-ignored={String(a.ignored)}>
      <div class="col-kind">
        <KindBadge kind={a.kind} />
        <span class={`phase phase-${a.phase}`}>{tr.t(PHASE_LABEL[a.phase])}</span>
        {a.ignored && <span class="badge ignored">{tr.t('alert-ignored')}</span>}
      </div>
      <div class="col-program" data-testid="alert-program">
        <Program a={a} />
      </div>
      <div class="col-dest" data-testid="alert-destination">
        <Destination a={a} />
      </div>
      <div class="col-amount" data-testid="alert-amount">
        <span class="amount">{tr.size(a.bytes)}</span>
        <span class="muted">{tr.t('ui-in-duration', { duration: tr.duration(a.duration_s) })}</span>
      </div>
      <div class="col-time">
        <time dateTime={a.at} title={tr.dateTime(a.at)}>
          {tr.time(a.started)}
        </time>
        <span class="muted">{tr.ago(a.at, now)}</span>
      </div>
      <div class="col-actions">
        <button type="button" class="btn link" data-testid="details-button" onClick={() => onDetails(a.id)}>
          {tr.t('action-show')}
        </button>
        <IgnoreMenu alertId={a.id} disabled={a.ignored} onIgnore={(scope) => onIgnore(a.id, scope)} />
      </div>
    </li>
  );
}

interface ListProps {
  alerts: AlertView[];
  onIgnore(id: number, scope: Scope): void;
  onDetails(id: number): void;
}

export function AlertList({ alerts, onIgnore, onDetails }: ListProps) {
  const { tr } = useUi();
  if (!alerts.length) return <p class="empty" data-testid="alerts-empty">{tr.t('no-alerts')}</p>;
  return (
    <ul class="alert-list" aria-label={tr.t('ui-alerts-heading')}>
      {alerts.map((a) => (
        <AlertRow key={a.id} a={a} onIgnore={onIgnore} onDetails={onDetails} />
      ))}
    </ul>
  );
}
