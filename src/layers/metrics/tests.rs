//! The metrics layer records each outcome under the right labels, and feeds the latency window.

use super::*;
use crate::call::Kind;
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
    let (svc, mut handle) = mock::pair::<Call<()>, Reply>();
    let svc = tower::ServiceBuilder::new()
        .map_err(Failure::from)
        .service(svc);
    let mut svc = MetricsLayer::new(Arc::from("up"), latency.clone()).layer(svc);
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
        .send_error(Failure::new(Kind::UpstreamTimeout, "no answer within 1s"));
    assert!(fut.await.is_err());
    let fut = svc.ready().await.unwrap().call(call("resources/read", "c"));
    let open = Failure::new(Kind::CircuitOpen, "circuit open");
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
fn the_outcome_is_the_classified_one() {
    let err = |k: Kind| outcome(&Err(Failure::new(k, "x")));
    assert_eq!(err(Kind::Cancelled), "cancelled");
    assert_eq!(err(Kind::UpstreamCrashed), "upstream_error");
    assert_eq!(err(Kind::UpstreamUnavailable), "unavailable");
    assert_eq!(err(Kind::Overloaded), "overloaded");
    assert_eq!(err(Kind::ClientRateLimited), "rate_limited");
    let answer_error = Reply::error(&crate::jsonrpc::RpcError::new(-1, "no"));
    assert_eq!(outcome(&Ok(answer_error)), "error");
}
