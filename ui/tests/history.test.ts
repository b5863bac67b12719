// The History tab's chart model: buckets, top programs + other, stacking.
import { describe, expect, it } from 'vitest';
import { OTHER_KEY } from '../src/chart';
import { programLabel, programs, stack } from '../src/history';
import type { UploadsView } from '../src/types';

const view = (series: [number, string, number][], since = 1000, bucket_s = 60): UploadsView => ({
  bucket_s,
  since,
  until: since + 3600,
  newest: null,
  series: series.map(([start, program, bytes]) => ({ start, program, bytes })),
  top: [],
});

describe('stack', () => {
  it('lays out one x per bucket, empty buckets 0, areas stacked in rank order', () => {
    const d = stack(view([[1020, '/usr/bin/a', 5], [1080, '/usr/bin/b', 100], [1140, '/usr/bin/a', 7]]), 1200);
    expect(d.xs).toEqual([960, 1020, 1080, 1140, 1200]);
    expect(d.series.map((s) => s.label)).toEqual(['b', 'a']);
    expect(d.raw).toEqual([
      [0, 0, 100, 0, 0],
      [0, 5, 0, 7, 0],
    ]);
    expect(d.stacked[1]).toEqual([0, 5, 100, 7, 0]);
  });

  it('folds programs past the top N into other', () => {
    const d = stack(view([[1020, 'a', 3], [1020, 'b', 2], [1020, 'c', 1]]), 1080, 2);
    expect(d.series.map((s) => s.key)).toEqual(['a', 'b', OTHER_KEY]);
    expect(d.series[2].total).toBe(1);
    expect(d.stacked[2][1]).toBe(6);
  });

  it('ignores points outside the range and survives an empty view', () => {
    const d = stack(view([[10, 'a', 3]]), 1080);
    expect(d.raw[0].every((v) => v === 0)).toBe(true);
    expect(stack(view([]), 1080).series).toEqual([]);
  });
});

describe('programs', () => {
  it('lists programs largest first and labels them by file name', () => {
    expect(programs(view([[1020, '/x/a', 1], [1020, '/y/b', 9]]))).toEqual(['/y/b', '/x/a']);
    expect(programLabel('C:\\Windows\\svchost.exe')).toBe('svchost.exe');
    expect(programLabel('unknown')).toBe('unknown');
  });
});
