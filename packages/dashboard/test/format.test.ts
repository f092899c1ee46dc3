/** Durations and relative times as the pages show them. */
import { describe, expect, it } from 'vitest';
import { formatDuration, formatRelative } from '../src/lib/format.js';

describe('formatDuration', () => {
  it('shows two units at most, and leaves a zero second unit out', () => {
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(90_000)).toBe('1m 30s');
    expect(formatDuration(2 * 3600_000)).toBe('2h');
    expect(formatDuration(95 * 60_000)).toBe('1h 35m');
    expect(formatDuration(38 * 3600_000 + 24 * 60_000)).toBe('1d 14h');
    expect(formatDuration(-90_000)).toBe('1m 30s');
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it('says "just now" within 5 s, and counts minutes, not seconds, past the first minute', () => {
    expect(formatRelative(ago(2_000), now)).toBe('just now');
    expect(formatRelative(ago(30_000), now)).toBe('30s ago');
    expect(formatRelative(ago(121_000), now)).toBe('2m ago');
    expect(formatRelative(ago(95 * 60_000 + 1_000), now)).toBe('1h 35m ago');
    expect(formatRelative(ago(4 * 24 * 3600_000), now)).toBe('4d ago');
    expect(formatRelative(new Date(now + 20_000).toISOString(), now)).toBe('in 20s');
  });
});
