// Sample payloads in the shapes of docs/ui-contract.md, shared by Vitest and the browser tests.
import type { AlertView, EngineStatus, IgnoreView, Settings, StatsEvent } from '../src/types';

export function alertView(over: Partial<AlertView> = {}): AlertView {
  return {
    id: 1,
    phase: 'new',
    kind: 'sudden',
    exciter: 'Upload to Google',
    message: 'curl (PID 4242) sent 1.5 MiB to Google in 3.2 s. Server: www.google.com (142.250.74.36, port 443).',
    process: { pid: 4242, name: 'curl', exe: '/usr/bin/curl' },
    dstip: '142.250.74.36',
    dstport: 443,
    srcport: 51234,
    hostname: 'www.google.com',
    orgname: 'Google LLC',
    asn: 15169,
    country: 'US',
    bytes: 1572864,
    started: '2026-11-28T02:00:00Z',
    at: '2026-11-28T02:00:03.2Z',
    duration_s: 3.2,
    pattern: 'Pattern.Google',
    callback_filter:
      '{"pattern":{"processname":"^\\\\Qcurl\\\\E$","dstip":"^\\\\Q142.250.74.36\\\\E$"},"name":"Ignore.Custom.Pattern.Google","related-patterns":"^\\\\QPattern.Google\\\\E$","relation-mode":"all"}',
    ignored: false,
    ...over,
  };
}

export const SAMPLE_ALERTS: AlertView[] = [
  alertView(),
  alertView({
    id: 2,
    kind: 'active',
    exciter: 'Upload through Cloudflare',
    message: 'rsync (PID 777) has been sending data steadily: 48.0 MiB in 1 min 5 s to backup.example.net.',
    process: { pid: 777, name: 'rsync', exe: '/usr/bin/rsync' },
    dstip: '2606:4700::6810:84e5',
    dstport: 873,
    hostname: 'backup.example.net',
    orgname: 'Cloudflare, Inc.',
    asn: 13335,
    country: 'DE',
    bytes: 50331648,
    started: '2026-11-28T01:58:00Z',
    at: '2026-11-28T01:59:05Z',
    duration_s: 65,
    pattern: 'Pattern.Cloudflare',
    phase: 'update',
  }),
  alertView({
    id: 3,
    kind: 'passive',
    exciter: 'Upload from an unknown program',
    message: 'Something on your computer sent 40.0 KiB in 2 min to 203.0.113.9, port 8443.',
    process: null,
    dstip: '203.0.113.9',
    dstport: 8443,
    hostname: null,
    orgname: null,
    asn: null,
    country: null,
    bytes: 40960,
    started: '2026-11-28T01:50:00Z',
    at: '2026-11-28T01:52:00Z',
    duration_s: 120,
    pattern: null,
    phase: 'end',
    callback_filter: '{"pattern":{"dstip":"^\\\\Q203.0.113.9\\\\E$"},"name":"Ignore.Custom.Pattern.Port","related-patterns":"^\\\\QPattern.Port\\\\E$","relation-mode":"all"}',
  }),
];

export const SAMPLE_IGNORES: IgnoreView[] = [
  { id: 10, name: 'Ignore.Custom.Pattern.Google', filter: SAMPLE_ALERTS[0].callback_filter, permanent: true, until: null, source: 'user', created_at: '2026-11-20T09:30:00Z' },
  { id: 11, name: 'Ignore.Custom.Pattern.IP', filter: '{"pattern":{"dstip":"^\\\\Q198.51.100.7\\\\E$"}}', permanent: false, until: '2026-11-28T03:15:00Z', source: 'tray', created_at: '2026-11-28T03:00:00Z' },
  { id: 12, name: null, filter: '{"pattern":{"processname":"^\\\\Qtelemetryd\\\\E$"}}', permanent: true, until: null, source: 'legacy-socket', created_at: '2026-11-27T22:10:00Z' },
  { id: 13, name: 'Ignore.Custom.Pattern.Port', filter: '{"pattern":{"dstport":"^\\\\Q8443\\\\E$"}}', permanent: false, until: null, source: null, created_at: null },
];

export const SAMPLE_SETTINGS: Settings = {
  mode: 'adequate',
  max_traffic_during_10_sec: 102400,
  min_leak_size: 32768,
  realert_after_s: 600,
  locale: 'en',
  interfaces: [],
  legacy_enabled: true,
  start_at_login: false,
  first_senders: null,
};

export const SAMPLE_STATUS: EngineStatus = {
  state: 'watching',
  paused_until: null,
  interfaces: ['eth0', 'wlan0'],
  packets_per_s: 1234,
  dropped_packets: 0,
  dropped_batches: 0,
  attributed_share: 0.97,
  legacy_port: 5000,
  message: null,
  version: '0.1.0',
  source: 'service',
  connection_tracing: true,
  uploaded_last_minute: 250_000,
  attributed_last_minute: 0.98,
  problems: [],
  health: '2 interfaces · 98 % of the last minute attributed · connection tracing on',
};

/** Tracing off and packets dropped, as the service reports them. */
export const UNHEALTHY_STATUS: EngineStatus = {
  ...SAMPLE_STATUS,
  dropped_packets: 12,
  dropped_batches: 0,
  connection_tracing: false,
  attributed_last_minute: 0.42,
  problems: [
    { id: 'tracing-off', text: 'Connection tracing is off (tracefs is root-only): the uploads of programs that live only a moment may have no program.', fix: 'The service needs root (or cap_perfmon) and the tracing file system; restart it and read its log (journalctl -u leakwatch):', command: 'sudo systemctl restart leakwatch' },
    { id: 'drops', text: 'The system dropped 12 packets because the capture buffer was full. Some uploads were not counted.', fix: 'Watch fewer interfaces.', command: null },
  ],
};

export const NO_PERMISSION_STATUS: EngineStatus = {
  ...SAMPLE_STATUS,
  state: 'no_permission',
  packets_per_s: 0,
  attributed_share: null,
  message: 'sudo setcap cap_net_raw,cap_net_admin+eip /usr/bin/leakwatch-app',
};

/** `stats` events for `seconds` seconds ending at `endIso`, with the given per-program rates. */
export function statsSeries(endIso: string, seconds: number, programs: { key: string; name: string; pid: number | null; bytes: number }[]): StatsEvent[] {
  const end = Date.parse(endIso);
  const out: StatsEvent[] = [];
  for (let i = seconds - 1; i >= 0; i--) {
    const at = new Date(end - i * 1000).toISOString();
    out.push({ at, programs: programs.map((p, j) => ({ ...p, bytes: Math.round(p.bytes * (1 + 0.5 * Math.sin((i + j * 7) / 9))) })) });
  }
  return out;
}
