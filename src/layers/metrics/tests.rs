//! The metrics layer records each outcome under the right labels, and feeds the latency window.

use super::*;
use crate::layers::testing::call;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock;

#[tokio::test(start_paused = true)]
async fn outcomes_and_durations_are_recorded_per_server_and_method() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let latency = Arc::new(Window::default());
    let (svc, mut handle) = mock::pair::<Call, Reply>();
    let mut svc = MetricsLayer::new(Arc::from("up"), latency.clone())
        .layer(svc)
        .map_err(|e: BoxError| e);
    // ok after 20 ms
    let fut = svc.ready().await.unwrap().call(call("tools/call", "c"));
    let (_, r) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_millis(20)).await;
    r.send_response(Reply::result("{}"));
    fut.await.unwrap();
    // a timeout, a refusal by the breaker
    let fut = svc.ready().await.unwrap().call(call("tools/call", "c"));
    handle
        .next_request()
        .await
        .unwrap()
        .1
        .send_error(UpstreamError::Timeout(Duration::from_secs(1)));
    assert!(fut.await.is_err());
    let fut = svc.ready().await.unwrap().call(call("resources/read", "c"));
    let open = breaker::Open {
        server: Arc::from("up"),
        retry_in: Duration::from_secs(3),
    };
    handle.next_request().await.unwrap().1.send_error(open);
    assert!(fut.await.is_err());

    let mut counts = Vec::new();
    let mut histogram = Vec::new();
    for (key, _, _, value) in snapshots.snapshot().into_vec() {
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        match (key.key().name(), value) {
            (crate::observe::REQUESTS, DebugValue::Counter(n)) => {
                counts.push((labels.join(","), n))
            }
            (crate::observe::DURATION, DebugValue::Histogram(v)) => {
                histogram.extend(v.into_iter().map(|x| x.into_inner()))
            }
            _ => {}
        }
    }
    counts.sort();
    assert_eq!(
        counts,
        [
            (
                "server=up,method=resources/read,outcome=circuit_open".to_string(),
                1
            ),
            ("server=up,method=tools/call,outcome=ok".to_string(), 1),
            ("server=up,method=tools/call,outcome=timeout".to_string(), 1),
        ]
    );
    assert_eq!(histogram.len(), 3);
    assert!(histogram.contains(&0.02), "{histogram:?}");
    assert_eq!(
        latency.percentiles().map(|(p50, _)| p50 <= 20_000),
        Some(true)
    );
}

#[test]
fn every_refusal_has_its_own_outcome() {
    let err = |e: BoxError| outcome(&Err(e));
    assert_eq!(err(Box::new(UpstreamError::Cancelled)), "cancelled");
    assert_eq!(err(Box::new(UpstreamError::Closed)), "upstream_error");
    assert_eq!(err(Box::new(concurrency::Overloaded::new())), "overloaded");
    let limited = rate_limit::Limited {
        server: Arc::from("up"),
        scope: rate_limit::Scope::Client,
        retry_in: Duration::from_secs(1),
    };
    assert_eq!(err(Box::new(limited)), "rate_limited");
}
