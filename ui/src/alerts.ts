// The live alert list: newest first, one row per alert id, updated in place.
import type { AlertView } from './types';

/** The backend keeps at most 500 alerts; so does the UI. */
export const MAX_ALERTS = 500;

function newer(a: AlertView, b: AlertView): number {
  // Newest first by start time; ties by id (ids grow).
  const d = Date.parse(b.started) - Date.parse(a.started);
  return d !== 0 && Number.isFinite(d) ? d : b.id - a.id;
}

/** The list from `list_alerts` (already newest first; sorted again to be sure, duplicates dropped). */
export function fromList(list: AlertView[]): AlertView[] {
  const seen = new Set<number>();
  const out: AlertView[] = [];
  for (const a of list) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    out.push(a);
  }
  return out.sort(newer).slice(0, MAX_ALERTS);
}

/** An `alert` event: a new alert goes on top (if its id is known, the row is replaced in place). */
export function addAlert(list: AlertView[], a: AlertView): AlertView[] {
  const i = list.findIndex((x) => x.id === a.id);
  if (i >= 0) return replaceAt(list, i, a);
  return [a, ...list].slice(0, MAX_ALERTS);
}

/**
 * An `alert-updated` event: the row with the same id is replaced where it stands. An update for
 * an alert the UI never saw (e.g. it started before the window opened) is inserted in order.
 */
export function updateAlert(list: AlertView[], a: AlertView): AlertView[] {
  const i = list.findIndex((x) => x.id === a.id);
  if (i >= 0) return replaceAt(list, i, a);
  return [...list, a].sort(newer).slice(0, MAX_ALERTS);
}

/** Marks an alert ignored right after `ignore_alert` succeeded (the backend confirms with `alert-updated`). */
export function markIgnored(list: AlertView[], id: number): AlertView[] {
  const i = list.findIndex((x) => x.id === id);
  return i < 0 ? list : replaceAt(list, i, { ...list[i], ignored: true });
}

function replaceAt(list: AlertView[], i: number, a: AlertView): AlertView[] {
  const out = list.slice();
  out[i] = a;
  return out;
}

/** The filter text an ignore of this alert will create, pretty-printed (as is when not JSON). */
export function prettyFilter(filter: string): string {
  try {
    return JSON.stringify(JSON.parse(filter), null, 2);
  } catch {
    return filter;
  }
}
