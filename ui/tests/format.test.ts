import { describe, expect, it } from 'vitest';
import { flag, translator } from '../src/i18n';

const en = translator('en');
const ru = translator('ru');

describe('sizes (as the engine: one decimal, half up, localised)', () => {
  it('English', () => {
    expect(en.size(0)).toBe('0 B');
    expect(en.size(700)).toBe('700 B');
    expect(en.size(1023)).toBe('1,023 B');
    expect(en.size(1024)).toBe('1.0 KiB');
    expect(en.size(1280)).toBe('1.3 KiB');
    expect(en.size(1536)).toBe('1.5 KiB');
    expect(en.size(1048575)).toBe('1.0 MiB');
    expect(en.size(1572864)).toBe('1.5 MiB');
    expect(en.size(10 * 1024 ** 3)).toBe('10.0 GiB');
    expect(en.size(-5)).toBe('0 B');
    expect(en.size(NaN)).toBe('0 B');
  });
  it('Russian: comma, Cyrillic units', () => {
    expect(ru.size(700)).toBe('700 Б');
    expect(ru.size(1536)).toBe('1,5 КиБ');
    expect(ru.size(50331648)).toBe('48,0 МиБ');
  });
  it('large numbers are grouped the locale’s way', () => {
    expect(en.size(20000 * 1024 ** 3)).toBe('20,000.0 GiB');
    expect(ru.size(20000 * 1024 ** 3).replace(/\s/g, ' ')).toBe('20 000,0 ГиБ');
  });
  it('rates', () => {
    expect(en.rate(1536)).toBe('1.5 KiB/s');
    expect(ru.rate(1536)).toBe('1,5 КиБ/с');
  });
});

describe('durations (as the engine)', () => {
  it('English', () => {
    expect(en.duration(0)).toBe('0 s');
    expect(en.duration(-1)).toBe('0 s');
    expect(en.duration(0.4)).toBe('0.4 s');
    expect(en.duration(8)).toBe('8 s');
    expect(en.duration(8.25)).toBe('8.3 s');
    expect(en.duration(9.96)).toBe('10 s');
    expect(en.duration(59.4)).toBe('59 s');
    expect(en.duration(60)).toBe('1 min');
    expect(en.duration(61)).toBe('1 min 1 s');
    expect(en.duration(120)).toBe('2 min');
    expect(en.duration(3600)).toBe('1 h');
    expect(en.duration(3900)).toBe('1 h 5 min');
  });
  it('Russian', () => {
    expect(ru.duration(3.2)).toBe('3,2 с');
    expect(ru.duration(65)).toBe('1 мин 5 с');
    expect(ru.duration(7200)).toBe('2 ч');
    expect(ru.duration(3900)).toBe('1 ч 5 мин');
  });
});

describe('relative times', () => {
  const at = '2026-11-28T02:00:00Z';
  const now = Date.parse(at);
  it('English', () => {
    expect(en.ago(at, now)).toBe('just now');
    expect(en.ago(at, now + 4_000)).toBe('just now');
    expect(en.ago(at, now + 12_000)).toBe('12 s ago');
    expect(en.ago(at, now + 200_000)).toBe('3 min ago');
    expect(en.ago(at, now + 2 * 3600_000 + 5_000)).toBe('2 h ago');
    expect(en.ago(at, now + 3 * 86400_000)).toMatch(/Nov 28, 2026/);
    expect(en.ago('not a time', now)).toBe('unknown');
  });
  it('Russian', () => {
    expect(ru.ago(at, now + 1_000)).toBe('только что');
    expect(ru.ago(at, now + 12_000)).toBe('12 с назад');
    expect(ru.ago(at, now + 200_000)).toBe('3 мин назад');
    expect(ru.ago(at, now + 2 * 3600_000)).toBe('2 ч назад');
  });
  it('wall-clock time in UTC is 24-hour', () => {
    const t = en.time('2026-11-28T14:03:07Z');
    expect(t).toMatch(/^\d\d:03:07$/);
  });
});

describe('plurals and words from the engine’s files', () => {
  it('counts', () => {
    expect(en.t('alerts-count', { count: 1 })).toBe('1 alert');
    expect(en.t('alerts-count', { count: 3 })).toBe('3 alerts');
    expect(ru.t('alerts-count', { count: 1 })).toBe('1 предупреждение');
    expect(ru.t('alerts-count', { count: 3 })).toBe('3 предупреждения');
    expect(ru.t('alerts-count', { count: 5 })).toBe('5 предупреждений');
  });
  it('a missing id shows the id', () => {
    expect(en.t('ui-no-such-message')).toBe('ui-no-such-message');
  });
});

describe('flags', () => {
  it('regional indicators from ISO codes', () => {
    expect(flag('DE')).toBe('🇩🇪');
    expect(flag('us')).toBe('🇺🇸');
    expect(flag(null)).toBe('');
    expect(flag('EU1')).toBe('');
  });
});

describe('exact byte counts', () => {
  it('plural forms', () => {
    const n = (tr: typeof en, c: number) => tr.t('ui-bytes-exact', { n: tr.int(c), count: c });
    expect(n(en, 1)).toBe('1 byte');
    expect(n(en, 1572864)).toBe('1,572,864 bytes');
    expect(n(ru, 1)).toBe('1 байт');
    expect(n(ru, 22)).toBe('22 байта');
    expect(n(ru, 25)).toBe('25 байт');
  });
});
