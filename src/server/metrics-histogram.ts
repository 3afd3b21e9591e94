import type { Metric, Registry } from 'prom-client';
import type { LatencyHistogram } from '../observability/index.ts';

/** The part of LatencyHistogram an exposition needs: its count, mean and quantiles. */
type Recorded = Pick<LatencyHistogram, 'count' | 'mean' | 'quantile'>;

/**
 * How many recorded values are at most `boundMs`, read through the histogram's quantiles
 * (it keeps its ~4 % buckets private). quantile(r) is the upper edge of the bucket of the
 * r-th smallest value and grows with r, so the answer is the largest rank whose quantile is
 * within the bound: a value shares a bucket with the bound only when it is within ~4 % of it,
 * and is then counted in the next bucket up, never lost.
 */
export function countAtMost(histogram: Recorded, boundMs: number): number {
  const total = histogram.count;
  const atRank = (rank: number): number => histogram.quantile((rank - 0.5) / total);
  let lo = 0;
  let hi = total;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (atRank(mid) <= boundMs) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Registers a Prometheus histogram (`_bucket`, `_sum`, `_count`, in seconds) that reads a
 * LatencyHistogram in milliseconds when scraped, so the hot path keeps recording into one
 * fixed-memory structure and Prometheus can still aggregate and compute quantiles itself.
 */
export function registerLatencyHistogram(registry: Registry, name: string, help: string, histogram: Recorded, bucketsS: readonly number[]): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const count = histogram.count;
      const values = bucketsS.map((le) => ({
        metricName: `${name}_bucket`,
        labels: { le },
        value: count === 0 ? 0 : countAtMost(histogram, le * 1000),
      }));
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' as unknown as number }, value: count });
      return {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: [...values, { metricName: `${name}_sum`, labels: {}, value: (histogram.mean * count) / 1000 }, { metricName: `${name}_count`, labels: {}, value: count }],
      };
    },
  };
  // prom-client's Metric type describes its own classes; the registry needs only name, help, type and get().
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * Registers a Prometheus summary (quantile samples plus `_sum` and `_count`) read from a
 * LatencyHistogram when scraped, in the histogram's own unit. A gauge with a `quantile`
 * label is rejected by `promtool check metrics`; a summary is the type that carries one.
 */
export function registerLatencySummary(registry: Registry, name: string, help: string, histogram: Recorded, quantiles: readonly number[]): void {
  const metric = {
    name,
    help,
    type: 'summary',
    aggregator: 'sum',
    get() {
      const count = histogram.count;
      return {
        name,
        help,
        type: 'summary',
        aggregator: 'sum',
        values: [
          ...quantiles.map((q) => ({ metricName: name, labels: { quantile: q }, value: histogram.quantile(q) })),
          { metricName: `${name}_sum`, labels: {}, value: histogram.mean * count },
          { metricName: `${name}_count`, labels: {}, value: count },
        ],
      };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
