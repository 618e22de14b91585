//! What the gateway measures: Prometheus metrics (through the `metrics` facade), a small
//! latency window per upstream for `/servers`, and traces ([`trace`]).

pub mod trace;

/// Now, in seconds since the Unix epoch (what status and recent-request lists show).
pub fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::Duration;

/// `switchboard_requests_total{server,method,outcome}`
pub const REQUESTS: &str = "switchboard_requests_total";
/// `switchboard_request_duration_seconds{server,method}` (histogram)
pub const DURATION: &str = "switchboard_request_duration_seconds";
/// `switchboard_upstream_up{server}`: 1 ready, 0 not.
pub const UP: &str = "switchboard_upstream_up";
/// `switchboard_circuit_state{server}`: 0 closed, 1 open, 2 half-open.
pub const CIRCUIT: &str = "switchboard_circuit_state";
/// `switchboard_upstream_restarts_total{server}`
pub const RESTARTS: &str = "switchboard_upstream_restarts_total";
/// `switchboard_sessions_active`
pub const SESSIONS: &str = "switchboard_sessions_active";
/// `switchboard_routing_decisions_total{server}`
pub const ROUTING: &str = "switchboard_routing_decisions_total";
/// `switchboard_rate_limited_total{server}`: requests refused by a rate limit.
pub const RATE_LIMITED: &str = "switchboard_rate_limited_total";
/// `switchboard_retries_total{server}`: safe requests sent again after an upstream fault.
pub const RETRIES: &str = "switchboard_retries_total";
/// `switchboard_connections_open`: client connections open now.
pub const CONNECTIONS: &str = "switchboard_connections_open";
/// `switchboard_connections_refused_total`: connections answered 503 at `max_connections`.
pub const CONNECTIONS_REFUSED: &str = "switchboard_connections_refused_total";
/// `switchboard_notifications_dropped_total`: notifications (progress, log lines, list changes)
/// dropped because the client was not reading its stream (`gateway.max_queued_messages`).
pub const DROPPED: &str = "switchboard_notifications_dropped_total";

/// The process-wide Prometheus recorder (installed on first use; `None` if another recorder
/// already owns the process).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0, 60.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(DURATION.into()),
                    &buckets,
                )
                .expect("static, non-empty buckets");
            let handle = builder
                .install_recorder()
                .map_err(|e| tracing::warn!("no Prometheus recorder: {e}"))
                .ok()?;
            upkeep(handle.clone());
            Some(handle)
        })
        .as_ref()
}

/// Histogram samples wait in the recorder until they are folded into their buckets: by a
/// scrape, or by upkeep. Without it a gateway nobody scrapes grows by every request it serves
/// (the soak bench found it: ~40 bytes a request). A thread, not a task: the recorder is
/// process-wide and outlives any one runtime (tests run many).
#[allow(clippy::disallowed_methods)] // a plain thread's sleep, outside any runtime
fn upkeep(handle: PrometheusHandle) {
    let every = std::time::Duration::from_secs(5);
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            handle.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!("no metrics upkeep thread ({e}): histograms fold in only when scraped");
    }
}

/// The last few latencies of one upstream, for p50/p99 in `/servers`.
#[derive(Debug)]
pub struct Window {
    recent: parking_lot::Mutex<VecDeque<u32>>,
    last: parking_lot::Mutex<tokio::time::Instant>,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            recent: Default::default(),
            last: parking_lot::Mutex::new(tokio::time::Instant::now()),
        }
    }
}

const WINDOW: usize = 1024;

impl Window {
    /// How long since the last recorded request ended (or since creation).
    pub fn idle(&self) -> Duration {
        self.last.lock().elapsed()
    }

    /// Record one request's duration.
    pub fn record(&self, d: Duration) {
        *self.last.lock() = tokio::time::Instant::now();
        let mut r = self.recent.lock();
        if r.len() == WINDOW {
            r.pop_front();
        }
        r.push_back(d.as_micros().min(u128::from(u32::MAX)) as u32);
    }

    /// (p50, p99) in microseconds over the window, if anything was recorded.
    pub fn percentiles(&self) -> Option<(u32, u32)> {
        let mut v: Vec<u32> = self.recent.lock().iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Some((at(0.5), at(0.99)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_the_latest_and_reports_percentiles() {
        let w = Window::default();
        assert!(w.percentiles().is_none());
        for us in 1..=2000u64 {
            w.record(Duration::from_micros(us));
        }
        let (p50, p99) = w.percentiles().unwrap();
        assert!((1480..=1500).contains(&p50), "{p50}");
        assert!(p99 >= 1980, "{p99}");
    }
}
