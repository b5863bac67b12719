import { describe, expect, it } from 'vitest';
import { OTHER_KEY, UploadHistory, WINDOW_S } from '../src/chart';
import type { StatsEvent } from '../src/types';

const T0 = Date.parse('2026-11-28T02:00:00Z');
const ev = (s: number, progs: [string, number][]): StatsEvent => ({
  at: new Date(T0 + s * 1000).toISOString(),
  programs: progs.map(([key, bytes]) => ({ key, name: key.split(':')[1] ?? key, pid: key.includes(':') ? Number(key.split(':')[0]) : null, bytes })),
});

describe('the upload chart model', () => {
  it('keeps the last 10 minutes, one x per second, zero where no sample', () => {
    const h = new UploadHistory();
    expect(WINDOW_S).toBe(600);
    h.add(ev(0, [['1:a', 100]]));
    h.add(ev(5, [['1:a', 50]]));
    const d = h.data();
    expect(d.xs.length).toBe(600);
    expect(d.xs[599]).toBe(T0 / 1000 + 5);
    expect(d.xs[0]).toBe(T0 / 1000 + 5 - 599);
    expect(d.ys[0][599]).toBe(50);
    expect(d.ys[0][594]).toBe(100);
    expect(d.ys[0][595]).toBe(0);
  });

  it('drops samples older than 10 minutes (and their program names)', () => {
    const h = new UploadHistory();
    h.add(ev(0, [['1:old', 1000]]));
    h.add(ev(599, [['2:new', 10]]));
    expect(h.data().series.map((s) => s.key)).toEqual(['1:old', '2:new']);
    h.add(ev(600, [['2:new', 10]]));
    expect(h.size).toBe(2);
    const d = h.data();
    expect(d.series.map((s) => s.key)).toEqual(['2:new']);
    expect(d.series[0].label).toBe('new (2)');
  });

  it('top N programs by bytes in the window, the rest as "other"', () => {
    const h = new UploadHistory();
    for (let s = 0; s < 10; s++) h.add(ev(s, [['1:a', 10], ['2:b', 60], ['3:c', 30], ['4:d', 5], ['unknown', 1]]));
    const d = h.data(2);
    expect(d.series.map((s) => s.key)).toEqual(['2:b', '3:c', OTHER_KEY]);
    expect(d.series.map((s) => s.total)).toEqual([600, 300, 160]);
    expect(d.ys[2][599]).toBe(16);
    // Every byte is in some series.
    const sum = d.ys.flat().reduce((a, b) => a + b, 0);
    expect(sum).toBe(10 * (10 + 60 + 30 + 5 + 1));
  });

  it('no "other" when everything fits', () => {
    const h = new UploadHistory();
    h.add(ev(0, [['1:a', 10], ['2:b', 20]]));
    expect(h.data(5).series.map((s) => s.key)).toEqual(['2:b', '1:a']);
  });

  it('ignores zero bytes; merges two events of the same second; sorts late ones in', () => {
    const h = new UploadHistory();
    h.add(ev(10, [['1:a', 0]]));
    expect(h.data().series).toEqual([]);
    h.add(ev(10, [['1:a', 5]]));
    h.add(ev(10, [['1:a', 7]]));
    h.add(ev(12, [['1:a', 1]]));
    h.add(ev(11, [['1:a', 2]]));
    const d = h.data();
    expect(d.ys[0].slice(-3)).toEqual([12, 2, 1]);
    expect(h.size).toBe(3);
  });

  it('an unnamed program shows its name without a pid', () => {
    const h = new UploadHistory();
    h.add(ev(0, [['unknown', 10]]));
    expect(h.data().series[0].label).toBe('unknown');
  });
});
