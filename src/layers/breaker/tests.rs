//! Breaker transitions under a paused clock, against a tower-test mock upstream.

use super::*;
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock;

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

#[derive(Clone)]
struct Judge;

impl Classify<&'static str> for Judge {
    fn classify(&self, r: &Result<&'static str, Failure>) -> Verdict {
        match r {
            Ok(_) => Verdict::Healthy,
            Err(e) if e.message() == "cancelled" => Verdict::Neutral,
            Err(_) => Verdict::Fault,
        }
    }
}

fn breaker() -> (Breaker<Mock, Judge>, Handle) {
    with(Settings {
        failures: 3,
        open_for: Duration::from_secs(10),
        ..Settings::default()
    })
}

fn with(settings: Settings) -> (Breaker<Mock, Judge>, Handle) {
    let (svc, handle) = mock::pair();
    let layer = BreakerLayer::new(Arc::from("flaky"), settings, Judge);
    (layer.layer(svc), handle)
}

async fn succeed_once(svc: &mut Breaker<Mock, Judge>, handle: &mut Handle) {
    let call = svc.ready().await.unwrap().call("req");
    handle.next_request().await.unwrap().1.send_response("ok");
    assert_eq!(call.await.unwrap(), "ok");
}

/// Let the deciding task catch up.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

async fn fail_once(svc: &mut Breaker<Mock, Judge>, handle: &mut Handle) {
    let call = svc.ready().await.unwrap().call("req");
    let (_, reply) = handle.next_request().await.unwrap();
    reply.send_error("upstream crashed");
    assert!(call.await.is_err());
}

#[tokio::test(start_paused = true)]
async fn closed_open_half_open_closed() {
    let (mut svc, mut handle) = breaker();
    assert_eq!(svc.phase(), Phase::Closed);
    // Two faults, then a success: the streak resets.
    fail_once(&mut svc, &mut handle).await;
    fail_once(&mut svc, &mut handle).await;
    let call = svc.ready().await.unwrap().call("req");
    handle.next_request().await.unwrap().1.send_response("ok");
    assert_eq!(call.await.unwrap(), "ok");
    settle().await;
    assert_eq!(svc.phase(), Phase::Closed);
    // Three in a row: open.
    for _ in 0..3 {
        fail_once(&mut svc, &mut handle).await;
    }
    settle().await;
    assert_eq!(svc.phase(), Phase::Open);
    // Open: refused at once, without reaching the upstream, naming the server and the wait.
    let err = svc.ready().await.unwrap().call("req").await.unwrap_err();
    assert_eq!(err.kind(), Kind::CircuitOpen, "{err}");
    assert_eq!(err.data("server").and_then(|s| s.as_str()), Some("flaky"));
    let retry_ms = err.data("retry_after_ms").and_then(|v| v.as_u64()).unwrap();
    assert!(retry_ms <= 10_000 && retry_ms > 9_000, "{retry_ms}");
    assert!(
        tokio::time::timeout(Duration::from_millis(1), handle.next_request())
            .await
            .is_err(),
        "the upstream was not asked"
    );
    // After open_for: one probe passes, a second concurrent call is refused.
    tokio::time::advance(Duration::from_secs(10)).await;
    let probe = svc.ready().await.unwrap().call("probe");
    assert_eq!(svc.phase(), Phase::HalfOpen);
    let second = svc.ready().await.unwrap().call("other").await;
    assert_eq!(second.unwrap_err().kind(), Kind::CircuitOpen);
    handle.next_request().await.unwrap().1.send_response("fine");
    assert_eq!(probe.await.unwrap(), "fine");
    settle().await;
    assert_eq!(svc.phase(), Phase::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_and_neutral_outcomes_do_not_count() {
    let (mut svc, mut handle) = breaker();
    // Cancellations say nothing about the upstream.
    for _ in 0..5 {
        let call = svc.ready().await.unwrap().call("req");
        handle
            .next_request()
            .await
            .unwrap()
            .1
            .send_error("cancelled");
        assert!(call.await.is_err());
    }
    settle().await;
    assert_eq!(svc.phase(), Phase::Closed);
    for _ in 0..3 {
        fail_once(&mut svc, &mut handle).await;
    }
    settle().await;
    assert_eq!(svc.phase(), Phase::Open);
    tokio::time::advance(Duration::from_secs(11)).await;
    fail_once(&mut svc, &mut handle).await; // the probe fails
    settle().await;
    assert_eq!(svc.phase(), Phase::Open);
    // A probe dropped unfinished frees the slot for the next one.
    tokio::time::advance(Duration::from_secs(11)).await;
    let dropped = svc.ready().await.unwrap().call("probe");
    let _ = handle.next_request().await.unwrap();
    drop(dropped);
    settle().await;
    let again = svc.ready().await.unwrap().call("probe 2");
    handle.next_request().await.unwrap().1.send_response("ok");
    assert_eq!(again.await.unwrap(), "ok");
    settle().await;
    assert_eq!(svc.phase(), Phase::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_error_rate_over_the_window_opens_without_a_streak() {
    let (mut svc, mut handle) = with(Settings {
        failures: 100,
        open_for: Duration::from_secs(10),
        error_rate: 0.5,
        window: 10,
    });
    // Alternating fault/success: never two faults in a row, but half of the last ten.
    for i in 0..9 {
        if i % 2 == 0 {
            fail_once(&mut svc, &mut handle).await;
        } else {
            succeed_once(&mut svc, &mut handle).await;
        }
        settle().await;
        assert_eq!(
            svc.phase(),
            Phase::Closed,
            "window not full after {} requests",
            i + 1
        );
    }
    succeed_once(&mut svc, &mut handle).await; // ten requests, five faults
    settle().await;
    assert_eq!(svc.phase(), Phase::Open);
    // After a successful probe the window starts afresh: four faults in ten do not reopen.
    tokio::time::advance(Duration::from_secs(10)).await;
    succeed_once(&mut svc, &mut handle).await;
    settle().await;
    assert_eq!(svc.phase(), Phase::Closed);
    for i in 0..10 {
        if i % 3 == 0 {
            fail_once(&mut svc, &mut handle).await;
        } else {
            succeed_once(&mut svc, &mut handle).await;
        }
    }
    settle().await;
    assert_eq!(svc.phase(), Phase::Closed);
}

#[tokio::test(start_paused = true)]
async fn one_crash_failing_many_requests_counts_once() {
    let (mut svc, mut handle) = breaker(); // opens after 3 consecutive faults
                                           // Sixteen requests in flight when one crash fails them all: one fault, not sixteen.
    let mut calls = Vec::new();
    for _ in 0..16 {
        calls.push(svc.ready().await.unwrap().call("req"));
    }
    let mut replies = Vec::new();
    for _ in 0..16 {
        replies.push(handle.next_request().await.unwrap().1);
    }
    for r in replies {
        r.send_error(Failure::crashed("process exited").in_incident(7));
    }
    for c in calls {
        assert!(c.await.is_err());
    }
    settle().await;
    assert_eq!(svc.phase(), Phase::Closed, "one crash is one fault");
    // Two more crashes (other incidents) make three in a row: open.
    for incident in [8, 9] {
        let call = svc.ready().await.unwrap().call("req");
        let (_, r) = handle.next_request().await.unwrap();
        r.send_error(Failure::crashed("process exited").in_incident(incident));
        assert!(call.await.is_err());
    }
    settle().await;
    assert_eq!(svc.phase(), Phase::Open);
}
