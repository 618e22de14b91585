//! Traces: W3C trace context (`traceparent`, `tracestate`) taken from a client's HTTP request
//! and carried to HTTP upstreams; spans from `tracing` bridged to OpenTelemetry (the HTTP
//! exchange `mcp`, each JSON-RPC `request`, each `upstream` call) and exported over OTLP/HTTP
//! when `[telemetry] otlp_endpoint` is set. Without export, a span is sampled only when the
//! client's was (its flag reaches upstreams unchanged) and nothing is recorded for it.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SamplingResult, SpanKind, TraceContextExt, TraceId, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, ShouldSample, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;
use std::sync::OnceLock;
use std::time::Duration;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The spans that become OpenTelemetry spans; every other `tracing` span stays a log context.
const SPANS: [&str; 3] = ["mcp", "request", "upstream"];

/// The export, once configured (the first configuration's `[telemetry]`; a reload that changes
/// it needs a restart).
static EXPORT: OnceLock<opentelemetry_sdk::trace::BatchSpanProcessor> = OnceLock::new();
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Spans go to the export once there is one.
#[derive(Debug)]
struct Deferred;

impl SpanProcessor for Deferred {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        if let Some(e) = EXPORT.get() {
            e.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        if let Some(e) = EXPORT.get() {
            e.on_end(span);
        }
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        EXPORT.get().map_or(Ok(()), |e| e.force_flush())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        EXPORT
            .get()
            .map_or(Ok(()), |e| e.shutdown_with_timeout(timeout))
    }
}

/// Parent-based: a new trace is sampled only while exporting; a continued one as its parent says.
#[derive(Debug, Clone)]
struct Exporting;

impl ShouldSample for Exporting {
    fn should_sample(
        &self,
        parent: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        let root = match EXPORT.get() {
            Some(_) => Sampler::AlwaysOn,
            None => Sampler::AlwaysOff,
        };
        Sampler::ParentBased(Box::new(root))
            .should_sample(parent, trace_id, name, kind, attributes, links)
    }
}

/// The layer that turns [`SPANS`] into OpenTelemetry spans (installed with the log layer).
pub fn layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    let provider = PROVIDER.get_or_init(|| {
        SdkTracerProvider::builder()
            .with_sampler(Exporting)
            .with_span_processor(Deferred)
            .with_resource(Resource::builder().with_service_name("switchboard").build())
            .build()
    });
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("switchboard"))
        .with_tracked_inactivity(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|m| {
            !m.is_span() || SPANS.contains(&m.name())
        }))
}

/// Export spans to `endpoint` (OTLP over HTTP, protobuf), from now on.
pub fn export(endpoint: &url::Url, service: &str) -> Result<(), String> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint.as_str())
        .build()
        .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
    let mut batch = opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter).build();
    batch.set_resource(
        &Resource::builder()
            .with_service_name(service.to_string())
            .build(),
    );
    EXPORT.set(batch).map_err(|_| {
        "traces are already exported; a change of [telemetry] needs a restart".to_string()
    })?;
    tracing::info!(endpoint = %endpoint, "exporting traces over OTLP/HTTP");
    Ok(())
}

/// Send what is still buffered (at shutdown).
pub fn flush() {
    if let Some(e) = EXPORT.get() {
        let _ = e.force_flush();
    }
}

struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The span of one HTTP exchange with a client, continuing the trace its `traceparent` names
/// (a new trace without one). Its `trace_id` field is what log lines under it carry.
pub fn continue_from(headers: &axum::http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!("mcp", trace_id = tracing::field::Empty);
    if headers.contains_key("traceparent") {
        let parent = TraceContextPropagator::new().extract(&Headers(headers));
        let _ = span.set_parent(parent);
    }
    let id = span.context().span().span_context().trace_id();
    if id != TraceId::INVALID {
        span.record("trace_id", tracing::field::display(id));
    }
    span
}

struct Outgoing<'a>(&'a mut Vec<(&'static str, String)>);

impl Injector for Outgoing<'_> {
    fn set(&mut self, key: &str, value: String) {
        let key = match key {
            "traceparent" => "traceparent",
            "tracestate" => "tracestate",
            _ => return,
        };
        self.0.push((key, value));
    }
}

/// The trace context headers of the current span, for an upstream request (none outside a
/// trace).
pub fn outgoing() -> Vec<(&'static str, String)> {
    let cx = tracing::Span::current().context();
    let mut headers = Vec::new();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut Outgoing(&mut headers));
    }
    headers
}

/// Middleware for the MCP faces: each HTTP exchange runs in its [`continue_from`] span.
pub async fn middleware(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let span = continue_from(req.headers());
    next.run(req).instrument(span).await
}
