/**
 * OpenTelemetry traces: HTTP requests, GraphQL parse/validate/execute and PostgreSQL statements.
 * Off unless the standard OpenTelemetry variables ask for it: OTEL_TRACES_EXPORTER (other than
 * "none") or OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true
 * wins. Everything else (service name, sampler, headers, protocol) is the SDK's own
 * OTEL_* configuration. Started by `swarmgraph serve` before the server loads, so the HTTP and
 * pg instrumentations see those modules.
 */

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== "none";
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Starts the OpenTelemetry SDK when tracingEnabled(); returns how to flush and stop it. */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<{ shutdown(): Promise<void> } | undefined> {
  if (!tracingEnabled(env)) return undefined;
  // ES modules are instrumented through import-in-the-middle's loader hook; modules imported
  // after this (the server, node:http, pg) are seen by the instrumentations.
  const { register } = await import("node:module");
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/instrumentation-http"),
    import("@opentelemetry/instrumentation-pg"),
  ]);
  // Statements only inside a traced request: the event tailer's poll would otherwise trace itself every EVENT_POLL_INTERVAL_MS.
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? "swarmgraph",
    instrumentations: [new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === "/metrics" || req.url === "/health" }), new PgInstrumentation({ requireParentSpan: true })],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
