import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { translator, type Translator } from './i18n';

export interface UiContext {
  tr: Translator;
  /** Wall-clock ms, refreshed every few seconds (for "3 min ago"). */
  now: number;
}

export const Ctx = createContext<UiContext>({ tr: translator('en'), now: Date.now() });
export const useUi = () => useContext(Ctx);
