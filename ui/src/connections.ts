// The Connections view's model: successive `connections_now` snapshots become rows with rates
// (bytes per second of the engine's packet time, so a replay played faster shows the capture's
// own rates). While the pointer or focus is on the table the row order is frozen: rows keep
// their places, new ones go to the end and closed ones stay (marked) until it is released.
import type { FlowView, FlowsNow } from './types';

export interface ConnRow {
  key: string;
  flow: FlowView;
  /** Bytes per second sent and received since the previous snapshot. */
  up: number;
  down: number;
  /** No longer in the latest snapshot (kept only while the order is frozen). */
  closed: boolean;
}

/** A flow's identity across snapshots: protocol and both endpoints. */
export function flowKey(f: FlowView): string {
  return `${f.proto}|${f.local}|${f.remote}`;
}

/** The program a flow belongs to, as history keys it: the executable path, else the name. */
export function programOf(f: FlowView): string {
  return f.process?.exe || f.process?.name || 'unknown';
}

/** Fastest first (sent, then received), then the largest upload, then the key: a stable order. */
export function byRate(a: ConnRow, b: ConnRow): number {
  return b.up - a.up || b.down - a.down || b.flow.payload_out - a.flow.payload_out || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export class LiveConnections {
  private prev = new Map<string, FlowView>();
  private prevUs: number | null = null;
  rows: ConnRow[] = [];
  open = 0;

  /** Takes a snapshot; `frozen`: keep the rows where they are (the pointer is on the table). */
  update(snap: FlowsNow, frozen: boolean): ConnRow[] {
    const nowUs = snap.now_us;
    const dt = nowUs != null && this.prevUs != null && nowUs > this.prevUs ? (nowUs - this.prevUs) / 1e6 : null;
    const fresh = new Map<string, ConnRow>();
    for (const f of snap.flows) {
      const key = flowKey(f);
      const before = this.prev.get(key);
      let up = 0;
      let down = 0;
      if (dt != null) {
        up = Math.max(0, f.payload_out - (before?.payload_out ?? 0)) / dt;
        down = Math.max(0, f.payload_in - (before?.payload_in ?? 0)) / dt;
      }
      fresh.set(key, { key, flow: f, up, down, closed: false });
    }
    if (frozen) {
      const kept: ConnRow[] = this.rows.map((r) => fresh.get(r.key) ?? { ...r, up: 0, down: 0, closed: true });
      const known = new Set(this.rows.map((r) => r.key));
      for (const r of fresh.values()) if (!known.has(r.key)) kept.push(r);
      this.rows = kept;
    } else {
      this.rows = [...fresh.values()].sort(byRate);
    }
    this.prev = new Map(snap.flows.map((f) => [flowKey(f), f]));
    if (nowUs != null) this.prevUs = nowUs;
    this.open = snap.open;
    return this.rows;
  }
}

/** Rows whose program, host, organisation, country or address contain `query` (any case). */
export function searchRows(rows: ConnRow[], query: string): ConnRow[] {
  const q = query.trim().toLowerCase();
  if (!q) return rows;
  return rows.filter((r) => {
    const f = r.flow;
    return [programOf(f), f.process?.name, f.hostname, f.orgname, f.country, f.remote, f.proto].some(
      (v) => v != null && v.toLowerCase().includes(q),
    );
  });
}
