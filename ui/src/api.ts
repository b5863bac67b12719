// The only place that talks to the backend: the commands and events of docs/ui-contract.md.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AlertView,
  EngineStatus,
  FlowsNow,
  GroupBy,
  HistoryAlert,
  HistoryRange,
  IgnoreView,
  ProgramsView,
  Scope,
  Settings,
  StatsEvent,
  UploadsView,
} from './types';

export const api = {
  listAlerts: () => invoke<AlertView[]>('list_alerts'),
  ignoreAlert: (id: number, scope: Scope) => invoke<{ ignore_id: number }>('ignore_alert', { id, scope }),
  listIgnores: () => invoke<IgnoreView[]>('list_ignores'),
  removeIgnore: (id: number) => invoke<boolean>('remove_ignore', { id }),
  getSettings: () => invoke<Settings>('get_settings'),
  setSettings: (settings: Settings) => invoke<Settings>('set_settings', { settings }),
  engineStatus: () => invoke<EngineStatus>('engine_status'),
  /** `until`: end of the range (Unix seconds, excluded); null: now. */
  historyUploads: (range: HistoryRange, by: GroupBy, program: string | null, until: number | null = null) =>
    invoke<UploadsView>('history_uploads', { range, by, program, until }),
  historyAlerts: (since: HistoryRange | 'all', program: string | null, query: string | null, until: number | null = null) =>
    invoke<HistoryAlert[]>('history_alerts', { since, program, query, until }),
  /** The most recently active open flows (the Connections view asks once a second). */
  connectionsNow: () => invoke<FlowsNow>('connections_now'),
  /** Per-program totals from `from` up to `until` (Unix seconds; null: now). */
  programs: (from: number, until: number | null = null) => invoke<ProgramsView>('programs', { from, until }),
  /** Programs announced as first-time senders in this run. */
  firstSenders: () => invoke<string[]>('first_senders'),
  /** Ignores every upload of the program with this executable path. */
  ignoreProgram: (exe: string, scope: Scope) => invoke<{ ignore_id: number }>('ignore_program', { exe, scope }),
  /** Resolves to the saved file's path, or null when the user cancelled the save dialog. */
  exportHistory: (format: 'csv' | 'json') => invoke<string | null>('export_history', { format, path: null }),
};

export interface EventHandlers {
  alert(a: AlertView): void;
  alertUpdated(a: AlertView): void;
  stats(s: StatsEvent): void;
  engineStatus(s: EngineStatus): void;
  showAlert(p: { id: number }): void;
  /** A first-time sender's notification was clicked: open the program. */
  showProgram?(p: { program: string }): void;
  /** A program never seen sending before sent more than a few KB. */
  firstSender?(p: { program: string; name: string; pid: number }): void;
}

/** Subscribes to every backend event; resolves to one function that unsubscribes them all. */
export async function subscribe(h: EventHandlers): Promise<UnlistenFn> {
  const offs = await Promise.all([
    listen<AlertView>('alert', (e) => h.alert(e.payload)),
    listen<AlertView>('alert-updated', (e) => h.alertUpdated(e.payload)),
    listen<StatsEvent>('stats', (e) => h.stats(e.payload)),
    listen<EngineStatus>('engine-status', (e) => h.engineStatus(e.payload)),
    listen<{ id: number }>('show-alert', (e) => h.showAlert(e.payload)),
    listen<{ program: string }>('show-program', (e) => h.showProgram?.(e.payload)),
    listen<{ program: string; name: string; pid: number }>('first-sender', (e) => h.firstSender?.(e.payload)),
  ]);
  return () => offs.forEach((off) => off());
}

/** A rejected command's message (the backend rejects with a human string naming the field). */
export function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return JSON.stringify(e);
}
