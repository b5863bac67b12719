// Both languages complete: the ui-* block has the same ids in English and Russian, every id
// the UI uses exists, and the files parse.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleErrors, FTL_SOURCES, messageIds, translator } from '../src/i18n';

function sources(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.(tsx?)$/.test(e.name) ? readFileSync(join(dir, e.name), 'utf8') : ''))
    .join('\n');
}

describe('Fluent files', () => {
  const en = new Set(messageIds(FTL_SOURCES.en));
  const ru = new Set(messageIds(FTL_SOURCES.ru));

  it('parse without errors', () => {
    translator('en');
    translator('ru');
    expect(bundleErrors).toEqual([]);
  });

  it('define the same ids in both languages', () => {
    expect([...en].filter((id) => !ru.has(id))).toEqual([]);
    expect([...ru].filter((id) => !en.has(id))).toEqual([]);
  });

  it('define every ui- id the code uses, and every dynamic one', () => {
    const code = sources(join(__dirname, '..', 'src'));
    const used = new Set([...code.matchAll(/'(ui-[a-z0-9-]+[a-z0-9])'/g)].map((m) => m[1]));
    for (const s of ['watching', 'paused', 'no-permission', 'error']) used.add(`ui-status-${s}`);
    for (const l of ['en', 'ru']) used.add(`ui-language-${l}`);
    for (const r of ['1h', '24h', '7d', '30d']) used.add(`ui-history-range-${r}`);
    for (const p of ['now', '1h', 'today', '7d', '30d']) used.add(`ui-period-${p}`);
    for (const s of ['user', 'tray', 'legacy-socket']) used.add(`ui-source-${s}`);
    for (const k of ['sudden', 'active', 'passive']) used.add(`kind-${k}`).add(`kind-${k}-desc`);
    for (const m of ['paranoid', 'adequate', 'chill']) used.add(`mode-${m}`).add(`mode-${m}-desc`);
    expect(used.size).toBeGreaterThan(80);
    const missing = [...used].filter((id) => !en.has(id) || !ru.has(id));
    expect(missing).toEqual([]);
  });

  it('keep the ui- ids in one block, in the same order in both files', () => {
    const block = (src: string) => {
      const ids = messageIds(src);
      const first = ids.findIndex((id) => id.startsWith('ui-'));
      const last = ids.length - 1 - [...ids].reverse().findIndex((id) => id.startsWith('ui-'));
      expect(first).toBeGreaterThan(0);
      const inside = ids.slice(first, last + 1);
      expect(inside.every((id) => id.startsWith('ui-'))).toBe(true);
      return inside;
    };
    expect(block(FTL_SOURCES.ru)).toEqual(block(FTL_SOURCES.en));
  });

  it('Russian UI texts are Russian', () => {
    const ru = translator('ru');
    expect(ru.t('ui-nav-settings')).toBe('Настройки');
    expect(ru.t('ui-ignore-button')).toBe('Не показывать');
  });
});
