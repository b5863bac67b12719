import { describe, expect, it } from 'vitest';
import { guardNavigatorLanguage, usableLanguage } from '../src/locale-guard';

describe('locale guard', () => {
  it('keeps real language tags and replaces POSIX locale names', () => {
    expect(usableLanguage('ru-RU')).toBe('ru-RU');
    expect(usableLanguage('en')).toBe('en');
    expect(usableLanguage('C')).toBe('en-US');
    // "POSIX" has the shape of a language subtag: kept, and Intl accepts it.
    expect(() => new Intl.NumberFormat(usableLanguage('POSIX'))).not.toThrow();
    expect(usableLanguage('C.UTF-8')).toBe('en-US');
    expect(usableLanguage('')).toBe('en-US');
    expect(usableLanguage(undefined)).toBe('en-US');
  });

  it('redefines an unusable navigator.language so Intl accepts it', () => {
    const nav = { language: 'C', languages: ['C', 'ru-RU'] } as unknown as Navigator;
    expect(() => new Intl.NumberFormat(nav.language)).toThrow();
    guardNavigatorLanguage(nav);
    expect(nav.language).toBe('en-US');
    expect(nav.languages).toEqual(['en-US', 'ru-RU']);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
  });

  it('leaves a usable navigator.language alone', () => {
    const nav = { language: 'ru-RU', languages: ['ru-RU'] } as unknown as Navigator;
    guardNavigatorLanguage(nav);
    expect(nav.language).toBe('ru-RU');
  });
});
