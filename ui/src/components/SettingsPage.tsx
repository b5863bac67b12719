import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { useUi } from '../context';
import { isLocale, LOCALES } from '../i18n';
import type { EngineStatus, LocaleId, Settings } from '../types';
import { BOUNDS, fieldErrorText, MODES, toForm, validate, type Field, type FieldError, type SettingsForm } from '../validate';

type NumberKey = 'max_traffic_during_10_sec' | 'min_leak_size' | 'realert_after_s';

interface Props {
  saved: Settings | null;
  status: EngineStatus | null;
  onSaved(s: Settings): void;
  /** Switches the UI language at once and stores it; resolves to an error text or null. */
  onLocale(l: LocaleId): Promise<string | null>;
}

export function SettingsPage({ saved, status, onSaved, onLocale }: Props) {
  const { tr } = useUi();
  const [form, setForm] = useState<SettingsForm | null>(saved ? toForm(saved) : null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [backendError, setBackendError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (saved && !form) setForm(toForm(saved));
  }, [saved]);

  if (!form) {
    return (
      <section class="page" aria-labelledby="settings-h">
        <h1 id="settings-h">{tr.t('ui-nav-settings')}</h1>
        {backendError ? <p class="error" role="alert" data-testid="settings-error">{backendError}</p> : <p class="muted">{tr.t('ui-loading')}</p>}
      </section>
    );
  }

  const set = <K extends Field>(k: K, v: SettingsForm[K]) => {
    setForm({ ...form, [k]: v });
    setNotice(null);
    if (errors.some((e) => e.field === k)) setErrors(errors.filter((e) => e.field !== k));
  };
  const errFor = (f: Field) => errors.find((e) => e.field === f);
  const invalid = (f: Field) => (errFor(f) ? { 'aria-invalid': true, 'aria-describedby': `err-${f}` } : {});
  const inlineError = (f: Field) => {
    const e = errFor(f);
    return e ? (
      <span class="field-error" id={`err-${f}`}>
        {fieldErrorText(tr, e)}
      </span>
    ) : null;
  };

  const save = async (ev: Event) => {
    ev.preventDefault();
    setNotice(null);
    setBackendError(null);
    const r = validate(form);
    if ('errors' in r) {
      setErrors(r.errors);
      const first = document.getElementById(`f-${r.errors[0].field}`);
      first?.focus();
      return;
    }
    setErrors([]);
    setBusy(true);
    try {
      const stored = await api.setSettings(r.settings);
      onSaved(stored);
      setForm(toForm(stored));
      setNotice(tr.t('ui-settings-saved'));
    } catch (e) {
      setBackendError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const changeLocale = async (v: string) => {
    if (!isLocale(v)) return;
    set('locale', v);
    setBackendError(await onLocale(v));
  };

  const messages = [...errors.map((e) => fieldErrorText(tr, e)), ...(backendError ? [backendError] : [])];
  const bytesHint = (v: string) => (/^\d+$/.test(v.trim()) ? `= ${tr.size(Number(v))}` : '');
  /** One numeric threshold: label, input, hint and its inline error. */
  const numberField = (key: NumberKey, testid: string, label: string, hint: ComponentChildren) => (
    <div class="field">
      <label for={`f-${key}`}>{tr.t(label)}</label>
      <input
        id={`f-${key}`}
        data-testid={testid}
        inputMode="numeric"
        value={form[key]}
        onInput={(e) => set(key, e.currentTarget.value)}
        {...invalid(key)}
      />
      <span class="hint">{hint}</span>
      {inlineError(key)}
    </div>
  );

  return (
    <section class="page" aria-labelledby="settings-h">
      <h1 id="settings-h">{tr.t('ui-nav-settings')}</h1>
      <form class="settings" onSubmit={save} noValidate>
        <div class="field">
          <label for="f-mode">{tr.t('ui-settings-mode')}</label>
          <select id="f-mode" data-testid="settings-mode" value={form.mode} onChange={(e) => set('mode', e.currentTarget.value)} {...invalid('mode')}>
            {MODES.map((m) => (
              <option key={m} value={m}>
                {tr.t(`mode-${m}`)}
              </option>
            ))}
          </select>
          <span class="hint">{tr.has(`mode-${form.mode}-desc`) ? tr.t(`mode-${form.mode}-desc`) : ''}</span>
          {inlineError('mode')}
        </div>

        <fieldset>
          <legend>{tr.t('ui-settings-thresholds')}</legend>
          {numberField('max_traffic_during_10_sec', 'settings-max-10s', 'ui-settings-max-10s', <>
            {tr.t('ui-settings-max-10s-hint', { min: tr.int(BOUNDS.max_traffic_during_10_sec.min) })} {bytesHint(form.max_traffic_during_10_sec)}
          </>)}
          {numberField('min_leak_size', 'settings-min-leak', 'ui-settings-min-leak', <>
            {tr.t('ui-settings-min-leak-hint')} {bytesHint(form.min_leak_size)}
          </>)}
          {numberField('realert_after_s', 'settings-realert', 'ui-settings-realert', <>
            {tr.t('ui-settings-realert-hint')} {/^\d+$/.test(form.realert_after_s.trim()) ? `= ${tr.duration(Number(form.realert_after_s))}` : ''}
          </>)}
        </fieldset>

        <div class="field">
          <label for="f-locale">{tr.t('ui-settings-language')}</label>
          <select id="f-locale" data-testid="settings-locale" value={form.locale} onChange={(e) => changeLocale(e.currentTarget.value)} {...invalid('locale')}>
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {tr.t(`ui-language-${l}`)}
              </option>
            ))}
          </select>
          <span class="hint">{tr.t('ui-settings-language-hint')}</span>
          {inlineError('locale')}
        </div>

        <div class="field">
          <label for="f-interfaces">{tr.t('ui-settings-interfaces')}</label>
          <input
            id="f-interfaces"
            data-testid="settings-interfaces"
            value={form.interfaces}
            placeholder={tr.t('ui-settings-interfaces-all')}
            onInput={(e) => set('interfaces', e.currentTarget.value)}
            {...invalid('interfaces')}
          />
          <span class="hint">
            {tr.t('ui-settings-interfaces-hint')}
            {status && status.interfaces.length > 0 && ` ${tr.t('ui-settings-interfaces-now', { list: status.interfaces.join(', ') })}`}
          </span>
          {inlineError('interfaces')}
        </div>

        <div class="field check">
          <input id="f-legacy_enabled" type="checkbox" data-testid="settings-legacy" checked={form.legacy_enabled} onChange={(e) => set('legacy_enabled', e.currentTarget.checked)} />
          <label for="f-legacy_enabled">{tr.t('ui-settings-legacy')}</label>
          <span class="hint">
            {status?.legacy_port != null ? tr.t('ui-settings-legacy-port', { port: String(status.legacy_port) }) : tr.t('ui-settings-legacy-off')}{' '}
            {tr.t('ui-settings-legacy-hint')}
          </span>
        </div>

        <div class="field">
          <label for="f-first_senders">{tr.t('ui-settings-first-senders')}</label>
          <select
            id="f-first_senders"
            data-testid="settings-first-senders"
            value={form.first_senders}
            onChange={(e) => set('first_senders', e.currentTarget.value as SettingsForm['first_senders'])}
          >
            <option value="auto">{tr.t('ui-settings-first-senders-auto')}</option>
            <option value="on">{tr.t('ui-settings-first-senders-on')}</option>
            <option value="off">{tr.t('ui-settings-first-senders-off')}</option>
          </select>
          <span class="hint">{tr.t('ui-settings-first-senders-hint')}</span>
        </div>

        <div class="field check">
          <input id="f-start_at_login" type="checkbox" data-testid="settings-autostart" checked={form.start_at_login} onChange={(e) => set('start_at_login', e.currentTarget.checked)} />
          <label for="f-start_at_login">{tr.t('ui-settings-autostart')}</label>
        </div>

        <div class="form-foot">
          <button type="submit" class="btn primary" data-testid="settings-save" disabled={busy}>
            {tr.t('ui-settings-save')}
          </button>
          <button type="button" class="btn" disabled={busy || !saved} onClick={() => saved && (setForm(toForm(saved)), setErrors([]), setBackendError(null), setNotice(null))}>
            {tr.t('ui-settings-revert')}
          </button>
          {notice && (
            <span class="notice" role="status" data-testid="settings-saved">
              {notice}
            </span>
          )}
        </div>
        <div class="error" role="alert" data-testid="settings-error" hidden={messages.length === 0}>
          {messages.map((m, i) => (
            <p key={i}>{m}</p>
          ))}
        </div>
      </form>
    </section>
  );
}
