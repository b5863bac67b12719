// The Programs and Connections views' models: rates from successive snapshots, rows that stay put
// while frozen, per-program totals of the open flows and of history, sorting and searching.
import { describe, expect, it } from 'vitest';
import { LiveConnections, flowKey, programOf, searchRows } from '../src/connections';
import { fromFlows, fromHistory, hasPath, historyRange, periodStart, remoteIp, searchLines, sortLines } from '../src/programs';
import type { FlowView, FlowsNow } from '../src/types';

function flow(port: number, out: number, inc: number, exe: string | null, extra: Partial<FlowView> = {}): FlowView {
  return {
    proto: 'tcp', local: `192.168.1.7:${port}`, remote: '203.0.113.7:443', payload_out: out, payload_in: inc,
    bytes_out: out + 40, bytes_in: inc + 40, packets_out: 1, packets_in: 1,
    first: '2026-12-03T10:00:00.000Z', last: '2026-12-03T10:00:05.000Z', hostname: 'upload.example.org',
    orgname: 'Example Org', country: 'NL', process: exe ? { pid: 42, name: exe.split('/').pop()!, exe } : null, ...extra,
  };
}
const snap = (nowS: number, flows: FlowView[]): FlowsNow => ({ now: null, now_us: nowS * 1e6, open: flows.length, flows });

describe('LiveConnections', () => {
  it('measures rates in packet time between snapshots', () => {
    const m = new LiveConnections();
    m.update(snap(100, [flow(1, 1000, 10, '/usr/bin/curl')]), false);
    const rows = m.update(snap(102, [flow(1, 5000, 210, '/usr/bin/curl')]), false);
    expect(rows[0].up).toBe(2000);
    expect(rows[0].down).toBe(100);
  });

  it('sorts by rate when free, and keeps rows in place while frozen', () => {
    const m = new LiveConnections();
    m.update(snap(0, [flow(1, 0, 0, '/a'), flow(2, 0, 0, '/b')]), false);
    let rows = m.update(snap(1, [flow(1, 100, 0, '/a'), flow(2, 900, 0, '/b')]), false);
    expect(rows.map((r) => r.flow.local)).toEqual(['192.168.1.7:2', '192.168.1.7:1']);
    // Frozen: /a speeds up and a new flow arrives, /b closes: nothing moves, /b stays marked.
    rows = m.update(snap(2, [flow(1, 10_000, 0, '/a'), flow(3, 50, 0, '/c')]), true);
    expect(rows.map((r) => r.flow.local)).toEqual(['192.168.1.7:2', '192.168.1.7:1', '192.168.1.7:3']);
    expect(rows[0].closed).toBe(true);
    // Released: closed rows go, the rest sort by rate.
    rows = m.update(snap(3, [flow(1, 10_000, 0, '/a'), flow(3, 5050, 0, '/c')]), false);
    expect(rows.map((r) => r.flow.local)).toEqual(['192.168.1.7:3', '192.168.1.7:1']);
  });

  it('keys flows by protocol and both ends, and finds them by any name', () => {
    const f = flow(1, 1, 1, '/usr/bin/curl');
    expect(flowKey(f)).toBe('tcp|192.168.1.7:1|203.0.113.7:443');
    expect(programOf(f)).toBe('/usr/bin/curl');
    expect(programOf(flow(1, 1, 1, null))).toBe('unknown');
    const m = new LiveConnections();
    const rows = m.update(snap(1, [f, flow(2, 1, 1, '/usr/bin/ssh', { hostname: 'git.example', country: 'DE' })]), false);
    expect(searchRows(rows, 'GIT.ex').map((r) => programOf(r.flow))).toEqual(['/usr/bin/ssh']);
    expect(searchRows(rows, '  ').length).toBe(2);
  });
});

describe('programs', () => {
  it('totals the open flows per program', () => {
    const lines = fromFlows(
      [
        flow(1, 1000, 50, '/usr/bin/curl'),
        flow(2, 3000, 0, '/usr/bin/curl', { remote: '[2001:db8::1]:443', country: 'DE' }),
        flow(3, 10, 10, null),
        flow(4, 0, 0, '/usr/bin/idle'),
      ],
      [],
    );
    expect(lines.map((l) => [l.program, l.sent, l.received, l.destinations])).toEqual([
      ['/usr/bin/curl', 4000, 50, 2],
      ['unknown', 10, 10, 1],
    ]);
    expect(lines[0].countries).toEqual(['DE', 'NL']);
  });

  it('takes history rows with and without received bytes, and marks programs first seen in the period new', () => {
    const view = { since: 100, until: 200, newest: 150, programs: [
      { program: '/usr/bin/curl', bytes: 7, destinations: 1, countries: ['NL'], first: 101, last: 102, alerts: 3, first_ever: 50 },
      { program: '/opt/new', bytes: 5, destinations: 1, countries: [], first: 120, last: 180, alerts: 0, first_ever: 120, received: 4096 },
    ] };
    const lines = fromHistory(view);
    expect(lines[1].received).toBe(4096);
    expect(lines[0]).toMatchObject({ program: '/usr/bin/curl', sent: 7, received: null, alerts: 3, isNew: false });
    expect(lines[1].isNew).toBe(true);
    expect(fromHistory(view, new Set(['/usr/bin/curl']))[0].isNew).toBe(true);
    expect(fromFlows([flow(1, 5, 5, '/usr/bin/curl')], [], new Set(['/usr/bin/curl']))[0].isNew).toBe(true);
  });

  it('sorts either way with a stable tie-break, and searches paths and countries', () => {
    const base = { received: null, destinations: 1, countries: [] as string[], first: 0, last: 0, alerts: 0, isNew: false };
    const lines = [
      { ...base, program: '/b', sent: 5, countries: ['DE'] },
      { ...base, program: '/a', sent: 5 },
      { ...base, program: '/c', sent: 9 },
    ];
    expect(sortLines(lines, 'sent', 'desc').map((l) => l.program)).toEqual(['/c', '/a', '/b']);
    expect(sortLines(lines, 'sent', 'asc').map((l) => l.program)).toEqual(['/a', '/b', '/c']);
    expect(sortLines(lines, 'program', 'desc').map((l) => l.program)).toEqual(['/c', '/b', '/a']);
    expect(searchLines(lines, 'de').map((l) => l.program)).toEqual(['/b']);
    expect(searchLines(lines, '/A').map((l) => l.program)).toEqual(['/a']);
  });

  it('knows where periods start and which history range covers them', () => {
    const now = Date.UTC(2026, 11, 3, 10, 30) / 1000;
    expect(periodStart('1h', now, 0)).toBe(now - 3600);
    expect(periodStart('today', now, 0)).toBe(Date.UTC(2026, 11, 3) / 1000);
    // UTC+3 (offset -180): local midnight is 21:00 UTC the day before.
    expect(periodStart('today', now, -180)).toBe(Date.UTC(2026, 11, 2, 21) / 1000);
    expect(periodStart('30d', now, 0)).toBe(now - 30 * 86400);
    expect(historyRange('today')).toBe('24h');
    expect(historyRange('now')).toBe('1h');
    expect(remoteIp('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(remoteIp('203.0.113.7:443')).toBe('203.0.113.7');
    expect(hasPath('/usr/bin/curl')).toBe(true);
    expect(hasPath('curl')).toBe(false);
  });
});
