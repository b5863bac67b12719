// A mock backend for the built UI in a browser: the commands of docs/ui-contract.md answered
// through @tauri-apps/api/mocks (mockIPC), and events emitted through the same mocks. Bundled
// to one IIFE and injected with page.addInitScript before the app's own script runs.
import { emit } from '@tauri-apps/api/event';
import { mockIPC } from '@tauri-apps/api/mocks';
import type { AlertView, EngineStatus, IgnoreView, Settings } from '../src/types';
import { SAMPLE_IGNORES, SAMPLE_SETTINGS, SAMPLE_STATUS } from '../tests/fixtures';

interface Call {
  cmd: string;
  args: unknown;
}

const state = {
  alerts: [] as AlertView[],
  ignores: JSON.parse(JSON.stringify(SAMPLE_IGNORES)) as IgnoreView[],
  settings: { ...SAMPLE_SETTINGS } as Settings,
  status: { ...SAMPLE_STATUS } as EngineStatus,
  nextIgnore: 100,
};
const calls: Call[] = [];
/** cmd → rejection message for the next call of cmd. */
const failNext = new Map<string, string>();

function handle(cmd: string, args: any): unknown {
  switch (cmd) {
    case 'list_alerts':
      return state.alerts;
    case 'ignore_alert': {
      const a = state.alerts.find((x) => x.id === args.id);
      if (!a) throw `id: no alert ${args.id}`;
      const id = state.nextIgnore++;
      state.ignores.push({
        id,
        name: 'Ignore.Custom',
        filter: a.callback_filter,
        permanent: args.scope === 'always',
        until: args.scope.startsWith('for_') && args.scope !== 'for_now' ? new Date(Date.now() + 3600e3).toISOString() : null,
        source: 'user',
        created_at: new Date().toISOString(),
      });
      a.ignored = true;
      return { ignore_id: id };
    }
    case 'list_ignores':
      return state.ignores;
    case 'remove_ignore': {
      const n = state.ignores.length;
      state.ignores = state.ignores.filter((i) => i.id !== args.id);
      return state.ignores.length < n;
    }
    case 'get_settings':
      return state.settings;
    case 'set_settings':
      state.settings = { ...args.settings };
      return state.settings;
    case 'engine_status':
      return state.status;
    default:
      throw `unknown command ${cmd}`;
  }
}

mockIPC(
  (cmd, args) => {
    calls.push({ cmd, args: JSON.parse(JSON.stringify(args ?? {})) });
    const fail = failNext.get(cmd);
    if (fail !== undefined) {
      failNext.delete(cmd);
      return Promise.reject(fail);
    }
    try {
      return handle(cmd, args);
    } catch (e) {
      return Promise.reject(e);
    }
  },
  { shouldMockEvents: true },
);

const lw = {
  state,
  calls,
  fail(cmd: string, message: string) {
    failNext.set(cmd, message);
  },
  /** Emits a backend event; `alert` and `alert-updated` also update the mock's alert list. */
  async emit(event: string, payload: unknown) {
    if (event === 'alert' || event === 'alert-updated') {
      const a = payload as AlertView;
      const i = state.alerts.findIndex((x) => x.id === a.id);
      if (i >= 0) state.alerts[i] = a;
      else state.alerts.unshift(a);
    }
    if (event === 'engine-status') state.status = payload as EngineStatus;
    await emit(event, payload);
  },
  /** The app subscribes to its events first, then asks for its settings: ready after that. */
  ready() {
    return calls.some((c) => c.cmd === 'get_settings');
  },
};
(window as any).__lw = lw;
