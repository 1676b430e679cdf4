// The OpenTelemetry SDK (Node 20 releases, 2.x) with in-memory exporters, registered globally as a
// host registers it: the adapters' telemetry and metrics tests read real spans and metrics through it.
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The OpenTelemetry SDK (trace and metrics) registered globally, as a host registers it, with in-memory exporters. */
export interface OpenTelemetrySdk {
  spans: InMemorySpanExporter;
  /** Collect now and return the metric of that name (cumulative since the SDK was installed). */
  metric(name: string): Promise<MetricData | undefined>;
  /** Every metric collected now. */
  allMetrics(): Promise<MetricData[]>;
  uninstall(): Promise<void>;
}

export function installOpenTelemetry(): OpenTelemetrySdk {
  const spans = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when the test flushes (the interval is longer than any test).
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const allMetrics = async (): Promise<MetricData[]> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  };
  return {
    spans,
    allMetrics,
    metric: async (name) => (await allMetrics()).find((m) => m.descriptor.name === name),
    async uninstall() {
      trace.disable();
      metrics.disable();
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** The histogram points of a metric, as `[attributes, count]` (for readable assertions). */
export function histogramCounts(metric: MetricData | undefined): Array<[Record<string, unknown>, number]> {
  return ((metric?.dataPoints ?? []) as DataPoint<Histogram>[]).map((p) => [
    { ...p.attributes },
    p.value.count,
  ]);
}
