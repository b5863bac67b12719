import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { prettyFilter } from '../alerts';
import { useUi } from '../context';
import { flag } from '../i18n';
import type { AlertView, Scope } from '../types';
import { Destination, ipPort, KindBadge, PHASE_LABEL } from './AlertRow';
import { IgnoreMenu } from './IgnoreMenu';

interface Props {
  alert: AlertView | null;
  id: number | null;
  onBack(): void;
  onIgnore(id: number, scope: Scope): void;
}

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

export function DetailsPage({ alert: a, id, onBack, onIgnore }: Props) {
  const { tr } = useUi();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [id]);
  const none = <span class="muted">{tr.t('unknown')}</span>;

  return (
    <section class="page details" data-testid="alert-details" aria-labelledby="details-h">
      <button type="button" class="btn link back" data-testid="details-back" onClick={onBack}>
        ← {tr.t('ui-back-to-live')}
      </button>
      <h1 id="details-h" tabIndex={-1} ref={heading}>
        {tr.t('ui-details-title', { id: String(id ?? '') })}
      </h1>
      {!a ? (
        <p class="empty">{tr.t('ui-details-missing', { id: String(id ?? '') })}</p>
      ) : (
        <>
          <div class="details-head">
            <KindBadge kind={a.kind} />
            <span class={`phase phase-${a.phase}`}>{tr.t(PHASE_LABEL[a.phase])}</span>
            {a.ignored && <span class="badge ignored">{tr.t('alert-ignored')}</span>}
            <span class="spacer" />
            <IgnoreMenu alertId={a.id} disabled={a.ignored} onIgnore={(s) => onIgnore(a.id, s)} />
          </div>
          <p class="exciter">{a.exciter}</p>
          <p class="message">{a.message}</p>
          <dl class="fields">
            <Row label={tr.t('label-kind')}>
              {tr.t(`kind-${a.kind}`)} — {tr.t(`kind-${a.kind}-desc`)}
            </Row>
            <Row label={tr.t('label-program')}>{a.process ? <strong>{a.process.name}</strong> : <span class="muted">{tr.t('unknown-program')}</span>}</Row>
            <Row label={tr.t('label-pid')}>{a.process ? a.process.pid : none}</Row>
            <Row label={tr.t('ui-field-exe')}>{a.process?.exe ? <span class="mono">{a.process.exe}</span> : none}</Row>
            <Row label={tr.t('label-destination')}>
              <Destination a={a} />
            </Row>
            <Row label={tr.t('ui-field-hostname')}>{a.hostname ?? none}</Row>
            <Row label={tr.t('ui-field-address')}>
              <span class="mono">{ipPort(a.dstip, a.dstport)}</span>
            </Row>
            <Row label={tr.t('ui-field-srcport')}>{a.srcport}</Row>
            <Row label={tr.t('label-owner')}>{a.orgname ?? none}</Row>
            <Row label={tr.t('ui-field-asn')}>{a.asn != null ? `AS${a.asn}` : none}</Row>
            <Row label={tr.t('label-country')}>
              {a.country ? `${flag(a.country)} ${a.country.toUpperCase()}`.trim() : none}
            </Row>
            <Row label={tr.t('label-amount')}>
              {tr.size(a.bytes)} <span class="muted">({tr.t('ui-bytes-exact', { n: tr.int(a.bytes), count: a.bytes })})</span>
            </Row>
            <Row label={tr.t('label-duration')}>{tr.duration(a.duration_s)}</Row>
            <Row label={tr.t('ui-field-started')}>{tr.dateTime(a.started)}</Row>
            <Row label={tr.t('ui-field-at')}>{tr.dateTime(a.at)}</Row>
            <Row label={tr.t('ui-field-pattern')}>
              {a.pattern ? <span class="mono" data-testid="details-pattern">{a.pattern}</span> : <span class="muted">{tr.t('ui-no-pattern')}</span>}
            </Row>
            <Row label={tr.t('ui-field-id')}>{a.id}</Row>
          </dl>
          <h2>{tr.t('ui-details-filter-title')}</h2>
          <p class="hint">{tr.t('ui-details-filter-hint')}</p>
          <pre class="filter mono" data-testid="details-filter" data-filter={a.callback_filter} tabIndex={0}>
            {prettyFilter(a.callback_filter)}
          </pre>
        </>
      )}
    </section>
  );
}
