//! Traces: W3C trace context (`traceparent`, `tracestate`) taken from a client's HTTP request
//! and carried to HTTP upstreams, with the gateway's own span as the parent; log lines carry the
//! trace id. With `[telemetry] otlp_endpoint`, the spans (the HTTP exchange `mcp`, each JSON-RPC
//! `request`, each `upstream` call) are bridged to OpenTelemetry and exported over OTLP/HTTP.
//!
//! Two ways to the same headers. Exporting, the OpenTelemetry layer holds each span's context,
//! and a request without a `traceparent` starts a trace. Not exporting, that layer is not
//! installed at all (measured: it cost about a third of the gateway's throughput at 16 clients,
//! for spans nobody records): a request with a `traceparent` gets a few bytes of context kept in
//! its `mcp` and `upstream` spans' extensions, one without gets no spans and sends none on; a
//! span is sampled only when the client's was.

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

/// Whether the OpenTelemetry layer is installed (the process exports traces).
static BRIDGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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

/// The layer that turns [`SPANS`] into OpenTelemetry spans: installed with the log layer when
/// the configuration exports traces ([`export`]).
pub fn layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    BRIDGED.store(true, std::sync::atomic::Ordering::Relaxed);
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
        // Spans only: events stay the log's (an event enabled here would be enabled at every
        // level, and copied into its span, on the hot path).
        .with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.is_span() && SPANS.contains(&m.name())
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

/// Whether spans are OpenTelemetry's.
fn bridged() -> bool {
    BRIDGED.load(std::sync::atomic::Ordering::Relaxed)
}

/// A span's W3C trace context, kept in its extensions when nothing bridges to OpenTelemetry.
#[derive(Clone, Debug)]
struct Local {
    trace: u128,
    span: u64,
    sampled: bool,
    state: Option<Box<str>>,
}

impl Local {
    /// The context `traceparent` (and `tracestate`) continue, or a new unsampled trace.
    fn from(headers: &axum::http::HeaderMap) -> Local {
        let value = |k| headers.get(k).and_then(|v| v.to_str().ok());
        let parsed = value("traceparent").and_then(parse);
        Local {
            trace: parsed.map_or_else(rand::random::<u128>, |p| p.0),
            span: rand::random(),
            sampled: parsed.is_some_and(|p| p.1),
            state: parsed.and(value("tracestate")).map(Into::into),
        }
    }

    fn child(&self) -> Local {
        Local {
            span: rand::random(),
            ..self.clone()
        }
    }
}

/// A `traceparent` value: (trace id, sampled), when it is well formed (version 00 or a later one
/// read as 00; all-zero ids are invalid).
fn parse(value: &str) -> Option<(u128, bool)> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    if !hex(version, 2) || version == "ff" || !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2)
    {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    let trace = u128::from_str_radix(trace, 16).ok().filter(|t| *t != 0)?;
    u64::from_str_radix(parent, 16).ok().filter(|p| *p != 0)?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    Some((trace, flags & 1 == 1))
}

/// Keep `ctx` with `span` (in the registry's extensions), and name its trace in the log.
fn keep(span: &tracing::Span, ctx: Local) {
    span.record(
        "trace_id",
        tracing::field::display(format_args!("{:032x}", ctx.trace)),
    );
    span.with_subscriber(|(id, dispatch)| {
        if let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>() {
            use tracing_subscriber::registry::LookupSpan;
            if let Some(s) = registry.span(id) {
                s.extensions_mut().insert(ctx);
            }
        }
    });
}

/// The nearest context kept in the current span or one of its parents.
fn current() -> Option<Local> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
            use tracing_subscriber::registry::LookupSpan;
            let span = registry.span(id)?;
            span.scope()
                .find_map(|s| s.extensions().get::<Local>().cloned())
        })
        .flatten()
}

/// The span of one HTTP exchange with a client, continuing the trace its `traceparent` names.
/// Its `trace_id` field is what log lines under it carry. Without a `traceparent` a new trace
/// begins only when traces are exported; otherwise there is no trace to continue, and no span
/// (what a request without tracing costs: one header lookup).
pub fn continue_from(headers: &axum::http::HeaderMap) -> tracing::Span {
    if !bridged() {
        if !headers.contains_key("traceparent") {
            return tracing::Span::none();
        }
        let span = tracing::info_span!("mcp", trace_id = tracing::field::Empty);
        keep(&span, Local::from(headers));
        return span;
    }
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

/// The span of one client request (session, request id, method; `server` and `tool` recorded
/// once routed). Inside a trace (exported, or a `traceparent` came in) it is an info span, a part
/// of the trace; otherwise it is a debug span, so only a log at `debug` pays for it. Measured
/// (issue "as fast as a bare proxy hop"): the info span on every request cost about a tenth of
/// the calls per second at c=16, for log lines that were mostly not written. Warnings of a
/// request name what they are about themselves.
pub fn request(session: &str, id: &str, method: &str) -> tracing::Span {
    use tracing::field::Empty;
    if bridged() || !tracing::Span::current().is_none() {
        tracing::info_span!("request", session, id, method, server = Empty, tool = Empty)
    } else {
        tracing::debug_span!("request", session, id, method, server = Empty, tool = Empty)
    }
}

/// The span of one call to an upstream (the parent its `traceparent` names); none outside a
/// trace when traces are not exported.
pub fn upstream(server: &str, method: &str) -> tracing::Span {
    if bridged() {
        return tracing::info_span!("upstream", server, method);
    }
    match current() {
        Some(parent) => {
            let span =
                tracing::info_span!("upstream", server, method, trace_id = tracing::field::Empty);
            keep(&span, parent.child());
            span
        }
        None => tracing::Span::none(),
    }
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
    let mut headers = Vec::new();
    if !bridged() {
        if let Some(c) = current() {
            let flags = if c.sampled { "01" } else { "00" };
            headers.push((
                "traceparent",
                format!("00-{:032x}-{:016x}-{flags}", c.trace, c.span),
            ));
            if let Some(state) = c.state {
                headers.push(("tracestate", state.into()));
            }
        }
        return headers;
    }
    let cx = tracing::Span::current().context();
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

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn traceparent_is_read_as_the_w3c_format_says() {
        let t = 0x4bf92f3577b34da6a3ce929d0e0e4736u128;
        assert_eq!(
            parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some((t, true))
        );
        assert_eq!(
            parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
            Some((t, false))
        );
        // A later version may add fields; version 00 may not.
        assert!(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x").is_some());
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "garbage",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
