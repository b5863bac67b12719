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
  /** Seconds the stored history lies in the past (an old capture replayed with --history). */
  historyAge: 0,
  /** The open flows `connections_now` answers (tests change them between polls). */
  flows: liveFlows(0),
  /** Packet time of the engine, µs; advanced by one second at each `connections_now`. */
  nowUs: Date.UTC(2026, 11, 3, 10, 0, 0) * 1000,
};

/** Three programs' open flows, `step` seconds into a transfer. */
function liveFlows(step: number) {
  const f = (port: number, out: number, inc: number, exe: string | null, host: string | null, org: string, cc: string, remote = '203.0.113.7:443') => ({
    proto: 'tcp', local: `192.168.1.7:${port}`, remote, payload_out: out, payload_in: inc, bytes_out: out, bytes_in: inc,
    packets_out: 10, packets_in: 10, first: new Date(Date.now() - 60e3).toISOString(), last: new Date().toISOString(),
    hostname: host, orgname: org, country: cc, process: exe ? { pid: 4000 + port, name: exe.split('/').pop(), exe } : null,
  });
  return [
    f(50001, 100_000 + step * 50_000, 4000, '/usr/bin/curl', 'upload.example.org', 'Example Org', 'NL'),
    f(50002, 20_000 + step * 1000, 900_000, '/usr/lib/firefox/firefox', 'tracker.example.net', 'Other Net', 'DE', '[2001:db8::7]:443'),
    f(50003, 3000, 100, null, null, 'Example Org', 'NL', '198.51.100.9:8443'),
  ];
}
const calls: Call[] = [];

/** Stored history for the History tab: two programs over the last hours, two alerts. */
function historyFixture() {
  const now = Math.floor(Date.now() / 1000);
  const series = [];
  for (let m = 1; m <= 50; m++) {
    const start = now - m * 60 - (now % 60);
    series.push({ start, program: '/usr/bin/curl', bytes: 1000 * m });
    if (m % 2 === 0) series.push({ start, program: '/usr/lib/firefox/firefox', bytes: 5000 });
  }
  const alert = (id: number, program: string, host: string, ignored: string | null) => ({
    id, phase: 'end', kind: 'sudden', exciter: 'Upload', message: `${program} sent 1.0 MiB to ${host}`,
    process: { pid: 4000 + id, name: program, exe: `/usr/bin/${program}` }, dstip: '198.51.100.7', dstport: 443,
    srcport: 40000, hostname: host, orgname: 'Example Org', asn: 64500, country: 'NL', bytes: 1048576,
    started: new Date((now - 600 * id) * 1000).toISOString(), at: new Date((now - 590 * id) * 1000).toISOString(),
    duration_s: 10, pattern: null, callback_filter: '{}', ignored: ignored != null, ignored_scope: ignored,
    ignored_at: ignored ? new Date().toISOString() : null, updates: 2,
  });
  return { series, alerts: [alert(1, 'curl', 'upload.example.org', null), alert(2, 'firefox', 'tracker.example.net', 'always')] };
}
const history = historyFixture();
const SPANS: Record<string, number> = { '1h': 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400 };
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
    case 'history_uploads': {
      const until = args.until ?? Math.floor(Date.now() / 1000);
      const since = until - SPANS[args.range];
      const stored = history.series.map((p) => ({ ...p, start: p.start - state.historyAge }));
      const series = stored.filter((p) => p.start >= since && p.start < until);
      const mine = args.program ? series.filter((p) => p.program === args.program) : series;
      const total = mine.reduce((a, p) => a + p.bytes, 0);
      const top =
        total === 0
          ? []
          : args.by === 'destination'
            ? [{ key: 'Example Org', country: 'NL', bytes: Math.round(total * 0.8) }, { key: 'Other Net', country: 'DE', bytes: Math.round(total * 0.2) }]
            : [{ key: '/usr/bin/curl', country: null, bytes: total }];
      const newest = Math.max(...stored.map((p) => p.start));
      return { bucket_s: args.range === '1h' ? 60 : 900, since, until, series, top, newest };
    }
    case 'history_alerts': {
      const q = (args.query ?? '').toLowerCase();
      const until = (args.until ?? Math.floor(Date.now() / 1000)) * 1000;
      const since = args.since === 'all' ? -Infinity : until - SPANS[args.since] * 1000;
      return history.alerts.filter((a) => {
        const at = Date.parse(a.at) - state.historyAge * 1000;
        return (
          at >= since && at < until && (!args.program || a.process.exe === args.program) && (!q || JSON.stringify(a).toLowerCase().includes(q))
        );
      });
    }
    case 'connections_now':
      state.nowUs += 1e6;
      return { now: new Date(state.nowUs / 1000).toISOString(), now_us: state.nowUs, open: state.flows.length, flows: state.flows };
    case 'programs': {
      const until = args.until ?? Math.floor(Date.now() / 1000);
      const stored = history.series.map((p) => ({ ...p, start: p.start - state.historyAge }));
      const inRange = stored.filter((p) => p.start >= args.from && p.start < until);
      const by = new Map<string, { bytes: number; first: number; last: number }>();
      for (const p of inRange) {
        const a = by.get(p.program) ?? { bytes: 0, first: p.start, last: p.start + 60 };
        a.bytes += p.bytes;
        a.first = Math.min(a.first, p.start);
        a.last = Math.max(a.last, p.start + 60);
        by.set(p.program, a);
      }
      const programs = [...by.entries()]
        .map(([program, a]) => ({ program, bytes: a.bytes, destinations: 2, countries: ['DE', 'NL'], first: a.first, last: a.last, alerts: program.endsWith('curl') ? 1 : 0 }))
        .sort((x, y) => y.bytes - x.bytes);
      return { since: args.from, until, newest: Math.max(...stored.map((p) => p.start)), programs };
    }
    case 'ignore_program': {
      if (typeof args.exe !== 'string' || !args.exe.startsWith('/')) throw `exe: ${JSON.stringify(args.exe)} is not an executable's full path`;
      const id = state.nextIgnore++;
      state.ignores.push({ id, name: 'Ignore.Custom.Program', filter: JSON.stringify({ pattern: { exe: `^\\Q${args.exe}\\E$` } }), permanent: args.scope === 'always', until: null, source: 'user', created_at: new Date().toISOString() });
      return { ignore_id: id };
    }
    case 'export_history':
      if (args.format !== 'csv' && args.format !== 'json') throw `format: ${args.format} is not csv or json`;
      return `/home/user/leakwatch-history.${args.format}`;
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
  liveFlows,
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
