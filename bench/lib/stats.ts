/** Latency samples kept whole (autocannon's own histogram rounds to whole milliseconds). */
export class LatencySamples {
  private values = new Float64Array(1 << 16);
  private count = 0;

  push(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  append(other: LatencySamples): void {
    for (const v of other.values.subarray(0, other.count)) this.push(v);
  }

  get size(): number {
    return this.count;
  }

  /** Nearest-rank percentiles, in ms. */
  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.count).sort();
    const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
    let sum = 0;
    for (const v of sorted) sum += v;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), mean: sum / sorted.length, samples: sorted.length };
  }
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
