import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process (no global default registry). */
export interface Metrics {
  registry: Registry;
  counter(name: string, help: string, labelNames?: string[]): Counter;
  gauge(name: string, help: string, labelNames?: string[]): Gauge;
  histogram(name: string, help: string, labelNames?: string[], buckets?: number[]): Histogram;
}

export function createMetrics(service: string, { defaultMetrics = true } = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'orchestra_' });
  const made = new Map<string, Counter | Gauge | Histogram>();
  const once = <T extends Counter | Gauge | Histogram>(name: string, make: () => T): T => {
    const existing = made.get(name);
    if (existing) return existing as T;
    const metric = make();
    made.set(name, metric);
    return metric;
  };
  return {
    registry,
    counter: (name, help, labelNames = []) =>
      once(name, () => new Counter({ name: `orchestra_${name}`, help, labelNames, registers: [registry] })),
    gauge: (name, help, labelNames = []) => once(name, () => new Gauge({ name: `orchestra_${name}`, help, labelNames, registers: [registry] })),
    histogram: (name, help, labelNames = [], buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) =>
      once(name, () => new Histogram({ name: `orchestra_${name}`, help, labelNames, buckets, registers: [registry] })),
  };
}
