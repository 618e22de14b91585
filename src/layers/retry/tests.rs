//! Retries under a paused clock: only safe requests, only transient faults, bounded, backed off.

use super::*;
use crate::call::{Call, Deadline, Failure, Kind, Reply};
use crate::layers::testing::call;
use std::time::Duration;
use tokio::time::Instant;
use tower::{Service, ServiceExt};
use tower_test::mock;

type Handle = mock::Handle<Call<()>, Reply>;

fn retrying(max: u32) -> (tower::util::BoxService<Call<()>, Reply, Failure>, Handle) {
    let (svc, handle) = mock::pair::<Call<()>, Reply>();
    let svc = tower::ServiceBuilder::new()
        .layer(layer(
            "flaky",
            Retry {
                max,
                min_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
            },
        ))
        .map_err(Failure::from)
        .service(svc);
    (tower::util::BoxService::new(svc), handle)
}

fn lost() -> Failure {
    Failure::closed()
}

/// Whether the upstream is asked nothing more.
async fn quiet(handle: &mut Handle) -> bool {
    tokio::time::timeout(Duration::from_millis(1), handle.next_request())
        .await
        .is_err()
}

fn safe(method: &'static str) -> Call<()> {
    let mut c = call(method, "client");
    c.retry_safe = true;
    c
}

#[tokio::test(start_paused = true)]
async fn a_safe_request_is_retried_after_a_transient_fault() {
    let (mut svc, mut handle) = retrying(2);
    let started = Instant::now();
    let fut = tokio::spawn(svc.ready().await.unwrap().call(safe("resources/read")));
    let (_, r) = handle.next_request().await.unwrap();
    r.send_error(lost());
    let (again, r) = handle.next_request().await.unwrap();
    assert_eq!(again.method, "resources/read");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(100) && waited <= Duration::from_millis(200),
        "backoff {waited:?}"
    );
    r.send_response(Reply::result("{\"contents\":[]}"));
    assert!(fut.await.unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_plain_tool_call_is_never_retried() {
    let (mut svc, mut handle) = retrying(2);
    let fut = tokio::spawn(
        svc.ready()
            .await
            .unwrap()
            .call(call("tools/call", "client")),
    );
    handle.next_request().await.unwrap().1.send_error(lost());
    assert_eq!(
        fut.await.unwrap().unwrap_err().kind(),
        Kind::UpstreamCrashed
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(quiet(&mut handle).await, "no second attempt");
}

#[tokio::test(start_paused = true)]
async fn timeouts_cancellations_and_answers_are_not_retried() {
    let (mut svc, mut handle) = retrying(2);
    for err in [
        Failure::new(Kind::UpstreamTimeout, "no answer within 1s"),
        Failure::cancelled(),
    ] {
        let fut = tokio::spawn(svc.ready().await.unwrap().call(safe("tools/list")));
        handle.next_request().await.unwrap().1.send_error(err);
        assert!(fut.await.unwrap().is_err());
    }
    let fut = tokio::spawn(svc.ready().await.unwrap().call(safe("tools/list")));
    handle
        .next_request()
        .await
        .unwrap()
        .1
        .send_response(Reply::result("{}"));
    assert!(fut.await.unwrap().is_ok());
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(quiet(&mut handle).await, "no extra attempts");
}

#[tokio::test(start_paused = true)]
async fn a_plain_call_the_upstream_never_saw_is_retried_but_not_one_it_may_have() {
    let (mut svc, mut handle) = retrying(2);
    let fut = tokio::spawn(
        svc.ready()
            .await
            .unwrap()
            .call(call("tools/call", "client")),
    );
    let (_, r) = handle.next_request().await.unwrap();
    r.send_error(Failure::unavailable("restarting"));
    let (again, r) = handle.next_request().await.unwrap();
    assert_eq!(again.method, "tools/call", "not sent before: sent now");
    r.send_error(lost());
    assert_eq!(
        fut.await.unwrap().unwrap_err().kind(),
        Kind::UpstreamCrashed
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(quiet(&mut handle).await, "it may have run: never twice");
}

#[tokio::test(start_paused = true)]
async fn a_protocol_error_is_not_retried() {
    let (mut svc, mut handle) = retrying(2);
    let fut = tokio::spawn(svc.ready().await.unwrap().call(safe("prompts/get")));
    let (_, r) = handle.next_request().await.unwrap();
    r.send_error(Failure::new(Kind::UpstreamProtocol, "a bad answer"));
    assert_eq!(
        fut.await.unwrap().unwrap_err().kind(),
        Kind::UpstreamProtocol
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(quiet(&mut handle).await);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_maximum_with_growing_backoff() {
    let (mut svc, mut handle) = retrying(3);
    let fut = tokio::spawn(svc.ready().await.unwrap().call(safe("prompts/get")));
    let mut last = Instant::now();
    let mut gaps = Vec::new();
    for attempt in 0..4 {
        let (_, r) = handle.next_request().await.unwrap();
        if attempt > 0 {
            gaps.push(last.elapsed());
        }
        last = Instant::now();
        r.send_error(Failure::unavailable("restarting"));
    }
    assert_eq!(
        fut.await.unwrap().unwrap_err().kind(),
        Kind::UpstreamUnavailable
    );
    // base 100, 200, 400 ms, each plus up to as much jitter (capped at 1 s)
    for (gap, base) in gaps.iter().zip([100u64, 200, 400]) {
        let base = Duration::from_millis(base);
        assert!(
            *gap >= base && *gap <= (base * 2).min(Duration::from_secs(1)),
            "{gaps:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn no_retry_past_the_deadline() {
    let (mut svc, mut handle) = retrying(5);
    let mut c = safe("resources/read");
    c.deadline = Some(Deadline::fixed(Duration::from_millis(50)));
    let fut = tokio::spawn(svc.ready().await.unwrap().call(c));
    handle.next_request().await.unwrap().1.send_error(lost());
    assert_eq!(
        fut.await.unwrap().unwrap_err().kind(),
        Kind::UpstreamCrashed
    );
}
