import { describe, expect, it } from 'vitest';
import { translator } from '../src/i18n';
import { BOUNDS, fieldErrorText, parseInterfaces, toForm, validate, type SettingsForm } from '../src/validate';
import { SAMPLE_SETTINGS } from './fixtures';

const base = (): SettingsForm => toForm(SAMPLE_SETTINGS);
const errorsOf = (f: SettingsForm) => {
  const r = validate(f);
  return 'errors' in r ? r.errors : [];
};
const en = translator('en');
const ru = translator('ru');

describe('settings validation', () => {
  it('the saved settings pass unchanged', () => {
    expect(validate(base())).toEqual({ settings: SAMPLE_SETTINGS });
  });

  for (const [field, label, labelRu] of [
    ['max_traffic_during_10_sec', 'Most data in 10 seconds (bytes)', 'Наибольший объём за 10 секунд (байт)'],
    ['min_leak_size', 'Smallest leak (bytes)', 'Наименьшая утечка (байт)'],
    ['realert_after_s', 'Re-alert cool-down (seconds)', 'Пауза перед повторным предупреждением (секунд)'],
  ] as const) {
    const { min, max } = BOUNDS[field];
    it(`${field}: bounds ${min}..${max}, and the message names the field`, () => {
      expect(errorsOf({ ...base(), [field]: String(min) })).toEqual([]);
      expect(errorsOf({ ...base(), [field]: String(max) })).toEqual([]);
      expect(errorsOf({ ...base(), [field]: ` ${min} ` })).toEqual([]);
      if (min > 0) {
        const [e] = errorsOf({ ...base(), [field]: String(min - 1) });
        expect(e).toMatchObject({ field, id: 'ui-error-out-of-range' });
        expect(fieldErrorText(en, e)).toBe(`${label}: must be from ${en.int(min)} to ${en.int(max)}.`);
        expect(fieldErrorText(ru, e)).toContain(`${labelRu}: значение должно быть от`);
      }
      const [over] = errorsOf({ ...base(), [field]: String(max + 1) });
      expect(over).toMatchObject({ field, id: 'ui-error-out-of-range' });
      for (const bad of ['', 'abc', '-5', '1.5', '1e6', '0x400']) {
        const [e] = errorsOf({ ...base(), [field]: bad });
        expect(e, bad).toMatchObject({ field, id: 'ui-error-not-whole-number' });
        expect(fieldErrorText(en, e)).toMatch(new RegExp(`^${label.replace(/[()]/g, '\\$&')}: enter a whole number from`));
      }
    });
  }

  it('realert 0 (no cool-down) is allowed', () => {
    expect(errorsOf({ ...base(), realert_after_s: '0' })).toEqual([]);
  });

  it('mode and locale must be one of the listed values', () => {
    const [m] = errorsOf({ ...base(), mode: 'loud' });
    expect(m).toMatchObject({ field: 'mode', id: 'ui-error-choose-one' });
    expect(fieldErrorText(en, m)).toBe('Mode: choose one of the listed values.');
    const [l] = errorsOf({ ...base(), locale: 'de' });
    expect(fieldErrorText(en, l)).toBe('Language: choose one of the listed values.');
    expect(fieldErrorText(ru, l)).toBe('Язык: выберите одно из предложенных значений.');
  });

  it('interfaces: names split on commas and spaces; empty means all; bad names named', () => {
    expect(parseInterfaces(' eth0, wlan0  lo ')).toEqual(['eth0', 'wlan0', 'lo']);
    expect(parseInterfaces('')).toEqual([]);
    const ok = validate({ ...base(), interfaces: 'eth0, br-lan.10, wg0@if3' });
    expect('settings' in ok && ok.settings.interfaces).toEqual(['eth0', 'br-lan.10', 'wg0@if3']);
    const [e] = errorsOf({ ...base(), interfaces: 'eth0, eth0;rm' });
    expect(e).toMatchObject({ field: 'interfaces', id: 'ui-error-bad-interface' });
    expect(fieldErrorText(en, e)).toContain('Network interfaces: “eth0;rm” is not an interface name');
    const [long] = errorsOf({ ...base(), interfaces: 'a234567890123456' });
    expect(long.field).toBe('interfaces');
    expect(errorsOf({ ...base(), interfaces: 'a23456789012345' })).toEqual([]);
    const many = Array.from({ length: 65 }, (_, i) => `e${i}`).join(',');
    expect(errorsOf({ ...base(), interfaces: many })[0]).toMatchObject({ field: 'interfaces', id: 'ui-error-too-many-interfaces' });
  });

  it('reports every bad field at once, in form order', () => {
    expect(errorsOf({ ...base(), mode: 'x', min_leak_size: '1', realert_after_s: 'y', interfaces: '/' }).map((e) => e.field)).toEqual([
      'mode',
      'min_leak_size',
      'realert_after_s',
      'interfaces',
    ]);
  });

  it('check boxes pass through', () => {
    const r = validate({ ...base(), legacy_enabled: false, start_at_login: true });
    expect('settings' in r && [r.settings.legacy_enabled, r.settings.start_at_login]).toEqual([false, true]);
  });
});
