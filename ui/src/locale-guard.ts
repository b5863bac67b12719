// Imported first by main.tsx, before any library: under a POSIX locale (LANG=C, common on
// minimal Debian installs and containers) WebKitGTK reports navigator.language as "C", which is
// no BCP 47 tag, and uPlot's module code (new Intl.NumberFormat(navigator.language)) throws, so
// the window stayed blank. Such a value is replaced by en-US before anything reads it.

/** `tag` if Intl accepts it as a language tag, else `fallback`. */
export function usableLanguage(tag: string | undefined | null, fallback = 'en-US'): string {
  if (!tag) return fallback;
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? fallback;
  } catch {
    return fallback;
  }
}

/** Makes navigator.language / languages usable tags (no-op when they already are). */
export function guardNavigatorLanguage(nav: Navigator = navigator): void {
  const lang = usableLanguage(nav.language);
  if (lang === nav.language) return;
  const langs = [lang, ...(nav.languages ?? []).map((l) => usableLanguage(l, '')).filter(Boolean)];
  try {
    Object.defineProperty(nav, 'language', { get: () => lang, configurable: true });
    Object.defineProperty(nav, 'languages', { get: () => Object.freeze([...new Set(langs)]), configurable: true });
  } catch {
    // Not redefinable here: the libraries then see the raw value, as before.
  }
}

guardNavigatorLanguage();
