/**
 * Row ids (server/db/ids.ts) are RFC 9562 UUIDv7: the creation millisecond in the first 48 bits,
 * version 7, variant 10; they sort by creation time, strictly increase within the process (in a
 * burst of more than 4,096 in one millisecond, and when the clock steps back), and never repeat.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod/mini';
import { newId } from '../../server/db/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds an id carries. */
function timestampOf(id: string): number {
  return parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

function expectStrictlyIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`).toBe(true);
}

describe('time-ordered row ids', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('are UUIDv7 with the version and variant bits set, accepted as UUIDs by the API schemas', () => {
    vi.setSystemTime(Date.UTC(2030, 0, 1));
    for (let i = 0; i < 100; i++) {
      const id = newId();
      expect(id).toMatch(UUID_V7);
      expect(z.uuid().safeParse(id).success).toBe(true);
    }
  });

  it('carry the millisecond they were made in', () => {
    const at = Date.UTC(2031, 5, 15, 12, 30, 45, 678);
    vi.setSystemTime(at);
    expect(timestampOf(newId())).toBe(at);
  });

  it('sort by the millisecond they were made in', () => {
    const start = Date.UTC(2032, 0, 1);
    const ids: string[] = [];
    for (let ms = 0; ms < 50; ms++) {
      vi.setSystemTime(start + ms * 7);
      ids.push(newId());
    }
    expectStrictlyIncreasing(ids);
    expect(ids.map(timestampOf)).toEqual(ids.map((_, ms) => start + ms * 7));
  });

  it('made in a burst within one millisecond are unique and increasing, running ahead of the clock past 4,096', () => {
    const at = Date.UTC(2033, 0, 1);
    vi.setSystemTime(at);
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expectStrictlyIncreasing(ids);
    expect(timestampOf(ids[0])).toBe(at);
    expect(timestampOf(ids[ids.length - 1])).toBeGreaterThan(at);
    expect(timestampOf(ids[ids.length - 1])).toBeLessThanOrEqual(at + 5);
    // The random part differs between ids of one millisecond.
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
  });

  it('still increase when the clock steps back', () => {
    vi.setSystemTime(Date.UTC(2034, 0, 1, 0, 0, 1));
    const before = newId();
    vi.setSystemTime(Date.UTC(2034, 0, 1, 0, 0, 0));
    const after = [newId(), newId(), newId()];
    expectStrictlyIncreasing([before, ...after]);
  });
});
