// UI texts from the same Fluent files as the engine (../locales/*/leakwatch.ftl), plus the
// number, size, duration and time formats of the engine (src/i18n.rs), localised with Intl.
import { FluentBundle, FluentResource, type FluentVariable } from '@fluent/bundle';
import enFtl from '../../locales/en/leakwatch.ftl?raw';
import ruFtl from '../../locales/ru/leakwatch.ftl?raw';
import type { LocaleId } from './types';

export const LOCALES: LocaleId[] = ['en', 'ru'];
const SOURCES: Record<LocaleId, string> = { en: enFtl, ru: ruFtl };
const bundles = new Map<LocaleId, FluentBundle>();

/** The bundle of a locale (built once). Parse errors are kept in `bundleErrors`. */
export const bundleErrors: string[] = [];
function bundle(locale: LocaleId): FluentBundle {
  let b = bundles.get(locale);
  if (!b) {
    b = new FluentBundle(locale, { useIsolating: false });
    const errs = b.addResource(new FluentResource(SOURCES[locale]));
    for (const e of errs) bundleErrors.push(`${locale}: ${e.message}`);
    bundles.set(locale, b);
  }
  return b;
}

export function isLocale(s: unknown): s is LocaleId {
  return s === 'en' || s === 'ru';
}

export type Args = Record<string, FluentVariable>;

export interface Translator {
  locale: LocaleId;
  /** The text of message `id`; a missing message shows its id (and is logged once). */
  t(id: string, args?: Args): string;
  has(id: string): boolean;
  /** An integer with the locale's grouping. */
  int(n: number): string;
  /** Bytes for people, as the engine: `700 B`, `1.5 KiB`, `10.0 MiB` (Russian: `1,5 КиБ`). */
  size(bytes: number): string;
  /** A rate in bytes per second: `1.5 KiB/s`. */
  rate(bytesPerSecond: number): string;
  /** A duration as the engine: `0.4 s`, `8 s`, `1 min 1 s`, `1 h 5 min`. */
  duration(secs: number): string;
  /** How long ago `iso` was, seen at `nowMs`: `just now`, `12 s ago`, `3 min ago`, `2 h ago`. */
  ago(iso: string, nowMs: number): string;
  /** Local wall-clock time `14:03:07`. */
  time(iso: string): string;
  /** Local date and time. */
  dateTime(iso: string): string;
}

const warned = new Set<string>();

export function translator(locale: LocaleId): Translator {
  const b = bundle(locale);
  const intFmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const oneDecimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const timeFmt = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const dateTimeFmt = new Intl.DateTimeFormat(locale, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  });

  const t = (id: string, args?: Args): string => {
    const msg = b.getMessage(id);
    if (!msg || !msg.value) {
      if (!warned.has(`${locale}:${id}`)) {
        warned.add(`${locale}:${id}`);
        console.warn(`leakwatch-ui: no message ${id} in ${locale}`);
      }
      return id;
    }
    return b.formatPattern(msg.value, args ?? null);
  };
  const tenths = (n: number) => oneDecimal.format(n / 10);

  const size = (bytes: number): string => {
    const n = Math.max(0, Math.floor(Number.isFinite(bytes) ? bytes : 0));
    if (n < 1024) return t('size-bytes', { n: intFmt.format(n) });
    const units: [string, number][] = [['size-kib', 1024], ['size-mib', 1024 ** 2], ['size-gib', 1024 ** 3]];
    for (let i = 0; i < units.length; i++) {
      const [id, unit] = units[i];
      const tn = Math.floor((n * 20 + unit) / (unit * 2)); // tenths, rounded half up
      if (tn < 10240 || i === units.length - 1) return t(id, { n: tenths(tn) });
    }
    return '';
  };

  const duration = (secsIn: number): string => {
    const secs = Number.isFinite(secsIn) && secsIn > 0 ? secsIn : 0;
    const tn = Math.round(secs * 10);
    if (tn < 100) return t('duration-seconds', { s: tn % 10 === 0 ? intFmt.format(tn / 10) : tenths(tn) });
    const whole = Math.round(secs);
    if (whole < 60) return t('duration-seconds', { s: intFmt.format(whole) });
    if (whole < 3600) {
      const min = intFmt.format(Math.floor(whole / 60));
      return whole % 60 === 0 ? t('duration-minutes', { min }) : t('duration-minutes-seconds', { min, s: intFmt.format(whole % 60) });
    }
    const h = intFmt.format(Math.floor(whole / 3600));
    const m = Math.floor((whole % 3600) / 60);
    return m === 0 ? t('duration-hours', { h }) : t('duration-hours-minutes', { h, min: intFmt.format(m) });
  };

  const ago = (iso: string, nowMs: number): string => {
    const then = Date.parse(iso);
    if (!Number.isFinite(then)) return t('unknown');
    const s = Math.floor((nowMs - then) / 1000);
    if (s < 5) return t('ui-time-just-now');
    let d: string;
    if (s < 60) d = t('duration-seconds', { s: intFmt.format(s) });
    else if (s < 3600) d = t('duration-minutes', { min: intFmt.format(Math.floor(s / 60)) });
    else if (s < 86400) d = t('duration-hours', { h: intFmt.format(Math.floor(s / 3600)) });
    else return dateTime(iso);
    return t('ui-time-ago', { duration: d });
  };
  const dateTime = (iso: string): string => {
    const d = new Date(iso);
    return Number.isFinite(d.getTime()) ? dateTimeFmt.format(d) : t('unknown');
  };
  const time = (iso: string): string => {
    const d = new Date(iso);
    return Number.isFinite(d.getTime()) ? timeFmt.format(d) : t('unknown');
  };

  return {
    locale,
    t,
    has: (id) => b.hasMessage(id),
    int: (n) => intFmt.format(n),
    size,
    rate: (bps) => t('ui-rate', { size: size(bps) }),
    duration,
    ago,
    time,
    dateTime,
  };
}

/** A flag emoji from an ISO 3166 alpha-2 code (`DE` → 🇩🇪); empty for anything else. */
export function flag(country: string | null | undefined): string {
  if (!country || !/^[A-Za-z]{2}$/.test(country)) return '';
  const base = 0x1f1e6 - 65;
  const cc = country.toUpperCase();
  return String.fromCodePoint(base + cc.charCodeAt(0), base + cc.charCodeAt(1));
}

/** The ids of every message in a Fluent text (for the completeness test). */
export function messageIds(ftl: string): string[] {
  return new FluentResource(ftl).body.map((m) => m.id).filter((id) => !id.startsWith('-'));
}

export const FTL_SOURCES = SOURCES;
