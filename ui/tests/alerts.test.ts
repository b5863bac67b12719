import { describe, expect, it } from 'vitest';
import { addAlert, fromList, markIgnored, MAX_ALERTS, prettyFilter, updateAlert } from '../src/alerts';
import { alertView, SAMPLE_ALERTS } from './fixtures';

const ids = (l: { id: number }[]) => l.map((a) => a.id);

describe('the alert list model', () => {
  it('list_alerts: newest first by start time, duplicates dropped', () => {
    const shuffled = [SAMPLE_ALERTS[2], SAMPLE_ALERTS[0], SAMPLE_ALERTS[1], SAMPLE_ALERTS[0]];
    expect(ids(fromList(shuffled))).toEqual([1, 2, 3]);
  });

  it('equal start times: the higher id is newer', () => {
    const a = alertView({ id: 5, started: '2026-11-28T02:00:00Z' });
    const b = alertView({ id: 6, started: '2026-11-28T02:00:00Z' });
    expect(ids(fromList([a, b]))).toEqual([6, 5]);
  });

  it('a new alert goes on top', () => {
    const l = fromList(SAMPLE_ALERTS);
    expect(ids(addAlert(l, alertView({ id: 9 })))).toEqual([9, 1, 2, 3]);
  });

  it('alert-updated replaces the row with the same id where it stands', () => {
    const l = fromList(SAMPLE_ALERTS);
    const upd = { ...SAMPLE_ALERTS[1], phase: 'end' as const, bytes: 123456789, started: '2020-01-01T00:00:00Z' };
    const out = updateAlert(l, upd);
    expect(ids(out)).toEqual([1, 2, 3]);
    expect(out[1]).toBe(upd);
    expect(out[0]).toBe(l[0]);
    expect(l[1].phase).toBe('update'); // the old list is not changed
  });

  it('a repeated alert event for a known id also replaces in place', () => {
    const l = fromList(SAMPLE_ALERTS);
    expect(ids(addAlert(l, { ...SAMPLE_ALERTS[2], bytes: 1 }))).toEqual([1, 2, 3]);
  });

  it('an update for an unknown id is inserted in time order', () => {
    const l = fromList([SAMPLE_ALERTS[0], SAMPLE_ALERTS[2]]);
    expect(ids(updateAlert(l, SAMPLE_ALERTS[1]))).toEqual([1, 2, 3]);
  });

  it('ignored state: set by the backend or after ignore_alert', () => {
    const l = fromList(SAMPLE_ALERTS);
    const byBackend = updateAlert(l, { ...SAMPLE_ALERTS[0], ignored: true });
    expect(byBackend.map((a) => a.ignored)).toEqual([true, false, false]);
    const local = markIgnored(l, 3);
    expect(local.map((a) => a.ignored)).toEqual([false, false, true]);
    expect(markIgnored(l, 99)).toBe(l);
  });

  it('keeps at most 500 alerts, dropping the oldest', () => {
    let l = fromList([]);
    for (let id = 1; id <= MAX_ALERTS + 20; id++) l = addAlert(l, alertView({ id }));
    expect(l.length).toBe(MAX_ALERTS);
    expect(l[0].id).toBe(MAX_ALERTS + 20);
    expect(l[l.length - 1].id).toBe(21);
  });

  it('pretty-prints the callback filter (as is when not JSON)', () => {
    const f = SAMPLE_ALERTS[0].callback_filter;
    expect(JSON.parse(prettyFilter(f))).toEqual(JSON.parse(f));
    expect(prettyFilter(f)).toContain('\n  "pattern": {');
    expect(prettyFilter('not json {')).toBe('not json {');
  });
});
