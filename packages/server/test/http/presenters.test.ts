/** The presenters' pieces that keep state: `iso` remembers recent instants. */
import { describe, expect, it } from 'vitest';
import { iso, isoOrNull } from '../../src/http/presenters.js';

describe('iso', () => {
  it('writes what Date#toISOString writes, whatever it remembered before', () => {
    const base = Date.UTC(2026, 11, 4, 17, 0, 0, 0);
    // Instants that share a slot of the memo (64 apart), repeats, the epoch, and far dates.
    const instants = [base, base + 64, base, base + 128, base + 1, base + 65, 0, 1, 64, -1, 8_640_000_000_000_000];
    for (let round = 0; round < 2; round++) {
      for (const ms of instants) expect(iso(ms)).toBe(new Date(ms).toISOString());
    }
    for (let ms = base; ms < base + 5_000; ms += 7) expect(iso(ms)).toBe(new Date(ms).toISOString());
    expect(isoOrNull(null)).toBeNull();
  });
});
