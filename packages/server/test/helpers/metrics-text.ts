/**
 * /metrics as a Prometheus server reads it: the exposition text parsed by a real parser
 * (parse-prometheus-text-format, a port of the Prometheus Python client's), and the values a test
 * asks of it.
 *
 * That parser flattens a histogram into one sample and drops the labels of its series (its
 * `flattenMetrics`), so a labelled histogram's counts and sums are read from the registry that
 * rendered the text (`getMetricsAsJSON`), taken at the same moment; the parser still reads the
 * whole text, histograms included, and names their family and type.
 */
// @ts-expect-error: the package ships no types; its one function is typed here.
import parseText from 'parse-prometheus-text-format';

export interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
export interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

/**
 * A histogram's series as prom-client's getMetricsAsJSON gives them (`_count` and `_sum` among them):
 * its MetricValue, whose labels may lack a name, with the metricName its typing leaves out.
 */
export interface SeriesValue {
  metricName?: string;
  labels: Partial<Record<string, string | number>>;
  value: number;
}
export type RegistryJson = Array<{ name: string; values: SeriesValue[] }>;

export class Scrape {
  readonly families: Map<string, Family>;
  private readonly series: Map<string, SeriesValue[]>;

  constructor(
    readonly text: string,
    json: RegistryJson = [],
  ) {
    const parsed = (parseText as (s: string) => Family[])(text);
    this.families = new Map(parsed.map((f) => [f.name, f]));
    this.series = new Map(json.map((m) => [m.name, m.values]));
  }

  family(name: string): Family {
    const f = this.families.get(name);
    if (f === undefined) throw new Error(`no metric ${name} in the scrape`);
    return f;
  }

  /** The samples of a family whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.family(name).metrics.filter((m) => Object.entries(labels).every(([k, v]) => (m.labels ?? {})[k] === v));
  }

  /** The value of a counter or gauge sample (0 when no sample matches: a series not yet there). */
  value(name: string, labels: Record<string, string> = {}): number {
    const matching = this.samples(name, labels);
    if (matching.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matching.length} samples`);
    return matching.length === 0 ? 0 : Number(matching[0]!.value);
  }

  /** The label sets of a histogram's series. */
  histogramLabels(name: string): Array<SeriesValue['labels']> {
    this.family(name);
    return (this.series.get(name) ?? []).filter((v) => v.metricName === `${name}_count`).map((v) => v.labels);
  }

  /** A histogram's observation count over the series whose labels include `labels` (0 when none). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.histogramPart(name, '_count', labels);
  }

  /** A histogram's sum over the series whose labels include `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.histogramPart(name, '_sum', labels);
  }

  private histogramPart(name: string, suffix: string, labels: Record<string, string>): number {
    if (this.family(name).type !== 'HISTOGRAM') throw new Error(`${name} is no histogram`);
    return (this.series.get(name) ?? [])
      .filter((v) => v.metricName === name + suffix)
      .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
      .reduce((n, v) => n + v.value, 0);
  }
}
