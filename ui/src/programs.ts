// The Programs view's model: one row per program for a period. "Now" is made from the open
// flows (sent and received so far); the other periods from history (received: flows that ended in
// the period, to the hour; unknown from a service that does not record it). Sorting and searching are pure functions, tested in tests/programs.test.ts.
import { programOf } from './connections';
import type { AlertView, FlowView, Period, ProgramRow, ProgramsView } from './types';

export interface ProgramLine {
  /** Executable path, else name, else `unknown` (the key history uses). */
  program: string;
  sent: number;
  /** Null when the period comes from history (which keeps uploads only). */
  received: number | null;
  destinations: number;
  countries: string[];
  /** Unix seconds. */
  first: number;
  last: number;
  alerts: number;
  /** Never seen sending before this period (history), or announced as a first-time sender. */
  isNew: boolean;
}

export type SortKey = 'program' | 'sent' | 'received' | 'destinations' | 'countries' | 'first' | 'last' | 'alerts';
export type SortDir = 'asc' | 'desc';

export const PERIODS: Period[] = ['now', '1h', 'today', '7d', '30d'];

/** Start of a period ending at `nowS` (Unix seconds); "today" starts at local midnight. */
export function periodStart(p: Period, nowS: number, tzOffsetMin = new Date(nowS * 1000).getTimezoneOffset()): number {
  switch (p) {
    case 'now':
    case '1h':
      return nowS - 3600;
    case 'today': {
      const local = nowS - tzOffsetMin * 60;
      return local - (((local % 86400) + 86400) % 86400) + tzOffsetMin * 60;
    }
    case '7d':
      return nowS - 7 * 86400;
    case '30d':
      return nowS - 30 * 86400;
  }
}

/** The History tab's range that covers a period (for a program's chart and destinations). */
export function historyRange(p: Period): '1h' | '24h' | '7d' | '30d' {
  return p === 'now' || p === '1h' ? '1h' : p === 'today' ? '24h' : p;
}

const secs = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Programs of the open flows: what each sent and received so far, to how many addresses. */
export function fromFlows(flows: FlowView[], alerts: AlertView[] = [], newPrograms: ReadonlySet<string> = new Set()): ProgramLine[] {
  const by = new Map<string, ProgramLine & { ips: Set<string>; cc: Set<string> }>();
  for (const f of flows) {
    if (f.payload_out === 0 && f.payload_in === 0) continue;
    const program = programOf(f);
    let l = by.get(program);
    if (!l) {
      l = {
        program, sent: 0, received: 0, destinations: 0, countries: [], first: secs(f.first), last: secs(f.last), alerts: 0,
        isNew: newPrograms.has(program), ips: new Set(), cc: new Set(),
      };
      by.set(program, l);
    }
    l.sent += f.payload_out;
    l.received = (l.received ?? 0) + f.payload_in;
    l.ips.add(remoteIp(f.remote));
    if (f.country) l.cc.add(f.country);
    l.first = Math.min(l.first, secs(f.first));
    l.last = Math.max(l.last, secs(f.last));
  }
  const out: ProgramLine[] = [];
  for (const l of by.values()) {
    const { ips, cc, ...line } = l;
    out.push({ ...line, destinations: ips.size, countries: [...cc].sort(), alerts: alertsOf(alerts, line.program) });
  }
  return sortLines(out, 'sent', 'desc');
}

/** Programs of a stored period. */
export function fromHistory(view: ProgramsView, newPrograms: ReadonlySet<string> = new Set()): ProgramLine[] {
  return view.programs.map((p: ProgramRow) => ({
    program: p.program,
    sent: p.bytes,
    received: p.received ?? null,
    destinations: p.destinations,
    countries: p.countries,
    first: p.first,
    last: p.last,
    alerts: p.alerts,
    isNew: newPrograms.has(p.program) || (p.first_ever != null && p.first_ever >= view.since),
  }));
}

function alertsOf(alerts: AlertView[], program: string): number {
  return alerts.filter((a) => (a.process?.exe || a.process?.name || 'unknown') === program).length;
}

/** The address of `ip:port` or `[ip6]:port`. */
export function remoteIp(remote: string): string {
  const m = /^\[(.*)\]:\d+$/.exec(remote);
  if (m) return m[1];
  const i = remote.lastIndexOf(':');
  return i > 0 && remote.indexOf(':') === i ? remote.slice(0, i) : remote;
}

/** Sorted copy; ties broken by program so the order is stable. */
export function sortLines(lines: ProgramLine[], key: SortKey, dir: SortDir): ProgramLine[] {
  const sign = dir === 'asc' ? 1 : -1;
  const val = (l: ProgramLine): number | string => {
    switch (key) {
      case 'program':
        return l.program.toLowerCase();
      case 'received':
        return l.received ?? -1;
      case 'countries':
        return l.countries.length;
      default:
        return l[key];
    }
  };
  return [...lines].sort((a, b) => {
    const x = val(a);
    const y = val(b);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c * sign || (a.program < b.program ? -1 : a.program > b.program ? 1 : 0);
  });
}

/** Lines whose program path or countries contain `query` (any case). */
export function searchLines(lines: ProgramLine[], query: string): ProgramLine[] {
  const q = query.trim().toLowerCase();
  if (!q) return lines;
  return lines.filter((l) => l.program.toLowerCase().includes(q) || l.countries.some((c) => c.toLowerCase() === q));
}

/** Whether the program is known by a full executable path (only then can it be ignored as such). */
export function hasPath(program: string): boolean {
  return program.startsWith('/') || /^[A-Za-z]:\\/.test(program);
}
