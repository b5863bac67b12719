// Client-side checks of the settings form, with the same bounds as the backend
// (src-tauri/src/settings.rs). Each error names the field (a Fluent id plus arguments).
import type { Args } from './i18n';
import type { Mode, Settings } from './types';

export const BOUNDS = {
  max_traffic_during_10_sec: { min: 1024, max: 2 ** 40 },
  min_leak_size: { min: 1024, max: 2 ** 40 },
  realert_after_s: { min: 0, max: 7 * 24 * 3600 },
} as const;
export const MAX_IFACE_LEN = 15;
export const MAX_IFACES = 64;
export const MODES: Mode[] = ['paranoid', 'adequate', 'chill'];

/** The form as typed: numbers and the interface list are text until checked. */
export interface SettingsForm {
  mode: string;
  max_traffic_during_10_sec: string;
  min_leak_size: string;
  realert_after_s: string;
  locale: string;
  interfaces: string;
  legacy_enabled: boolean;
  start_at_login: boolean;
  /** `auto` (by mode), `on` or `off`. */
  first_senders: 'auto' | 'on' | 'off';
}

export type Field = keyof SettingsForm;

/** A validation problem: the field, the Fluent id of the message and its arguments. */
export interface FieldError {
  field: Field;
  id: string;
  args: Args;
}

/** The Fluent id of each field's label (used inside the messages). */
export const FIELD_LABEL: Record<Field, string> = {
  mode: 'ui-settings-mode',
  max_traffic_during_10_sec: 'ui-settings-max-10s',
  min_leak_size: 'ui-settings-min-leak',
  realert_after_s: 'ui-settings-realert',
  locale: 'ui-settings-language',
  interfaces: 'ui-settings-interfaces',
  legacy_enabled: 'ui-settings-legacy',
  start_at_login: 'ui-settings-autostart',
  first_senders: 'ui-settings-first-senders',
};

export function toForm(s: Settings): SettingsForm {
  return {
    mode: s.mode,
    max_traffic_during_10_sec: String(s.max_traffic_during_10_sec),
    min_leak_size: String(s.min_leak_size),
    realert_after_s: String(s.realert_after_s),
    locale: s.locale,
    interfaces: s.interfaces.join(', '),
    legacy_enabled: s.legacy_enabled,
    start_at_login: s.start_at_login,
    first_senders: s.first_senders == null ? 'auto' : s.first_senders ? 'on' : 'off',
  };
}

/** Interface names from the text field: separated by commas or white space, empty = all. */
export function parseInterfaces(text: string): string[] {
  return text.split(/[\s,]+/).filter((x) => x.length > 0);
}

function wholeNumber(field: 'max_traffic_during_10_sec' | 'min_leak_size' | 'realert_after_s', text: string): number | FieldError {
  const { min, max } = BOUNDS[field];
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { field, id: 'ui-error-not-whole-number', args: { min, max } };
  const n = Number(trimmed);
  if (!Number.isSafeInteger(n) || n < min || n > max) return { field, id: 'ui-error-out-of-range', args: { min, max } };
  return n;
}

/** Checks the form: the settings to send, or every problem found (in form order). */
export function validate(form: SettingsForm): { settings: Settings } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!MODES.includes(form.mode as Mode)) errors.push({ field: 'mode', id: 'ui-error-choose-one', args: {} });
  const nums = {} as Record<'max_traffic_during_10_sec' | 'min_leak_size' | 'realert_after_s', number>;
  for (const f of ['max_traffic_during_10_sec', 'min_leak_size', 'realert_after_s'] as const) {
    const r = wholeNumber(f, form[f]);
    if (typeof r === 'number') nums[f] = r;
    else errors.push(r);
  }
  if (form.locale !== 'en' && form.locale !== 'ru') errors.push({ field: 'locale', id: 'ui-error-choose-one', args: {} });
  const interfaces = parseInterfaces(form.interfaces);
  if (interfaces.length > MAX_IFACES) {
    errors.push({ field: 'interfaces', id: 'ui-error-too-many-interfaces', args: { max: MAX_IFACES } });
  } else {
    const bad = interfaces.find((n) => n.length > MAX_IFACE_LEN || !/^[A-Za-z0-9._@:-]+$/.test(n));
    if (bad !== undefined) errors.push({ field: 'interfaces', id: 'ui-error-bad-interface', args: { name: bad, max: MAX_IFACE_LEN } });
  }
  if (errors.length) return { errors };
  return {
    settings: {
      mode: form.mode as Mode,
      max_traffic_during_10_sec: nums.max_traffic_during_10_sec,
      min_leak_size: nums.min_leak_size,
      realert_after_s: nums.realert_after_s,
      locale: form.locale as 'en' | 'ru',
      interfaces,
      legacy_enabled: form.legacy_enabled,
      start_at_login: form.start_at_login,
      first_senders: form.first_senders === 'auto' ? null : form.first_senders === 'on',
    },
  };
}

/** The text of a validation problem, naming the field in the current language. */
export function fieldErrorText(tr: { t(id: string, args?: Args): string; int(n: number): string }, e: FieldError): string {
  const args: Args = { field: tr.t(FIELD_LABEL[e.field]) };
  for (const [k, v] of Object.entries(e.args)) args[k] = typeof v === 'number' ? tr.int(v) : v;
  return tr.t(e.id, args);
}
