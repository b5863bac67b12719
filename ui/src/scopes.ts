import type { Scope } from './types';

/** The ignore scopes in menu order, with the engine's message for each. */
export const SCOPES: { scope: Scope; label: string }[] = [
  { scope: 'for_now', label: 'action-ignore-now' },
  { scope: 'for_15m', label: 'action-ignore-15min' },
  { scope: 'for_1h', label: 'action-ignore-1h' },
  { scope: 'for_24h', label: 'action-ignore-24h' },
  { scope: 'always', label: 'action-ignore-always' },
];

/** The arguments of `ignore_alert` for a scope. */
export function ignoreArgs(id: number, scope: Scope): { id: number; scope: Scope } {
  return { id, scope };
}
