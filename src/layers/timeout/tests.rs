//! Deadlines under a paused clock, against a tower-test mock upstream that never answers.

use super::*;
use crate::call::{Kind, Reply};
use crate::layers::testing::call;
use std::time::Duration;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock;

type Handle = mock::Handle<Call<()>, Reply>;
type Settings = Timeouts;

fn timeout(settings: Settings) -> (Timeout<mock::Mock<Call<()>, Reply>>, Handle) {
    let (svc, handle) = mock::pair();
    (TimeoutLayer::new(settings).layer(svc), handle)
}

fn settings() -> Settings {
    let mut s = Settings {
        default: Duration::from_secs(60),
        lists: Duration::from_secs(15),
        max: Duration::from_secs(300),
        ..Settings::default()
    };
    s.methods
        .insert("prompts/get".into(), Duration::from_secs(5));
    s.tools.insert("long_job".into(), Duration::from_secs(120));
    s
}

/// Send `c`, and measure how long until it fails with a timeout (the upstream never answers).
async fn time_out(
    svc: &mut Timeout<mock::Mock<Call<()>, Reply>>,
    handle: &mut Handle,
    c: Call<()>,
) -> Duration {
    let started = Instant::now();
    let fut = svc.ready().await.unwrap().call(c);
    let (seen, _never_answered) = handle.next_request().await.unwrap();
    assert!(
        seen.deadline.is_some(),
        "the deadline travels with the request"
    );
    let err = fut.await.unwrap_err();
    assert_eq!(err.kind(), Kind::Elapsed, "{err}");
    started.elapsed()
}

#[tokio::test(start_paused = true)]
async fn deadline_by_tool_then_method_then_kind() {
    let (mut svc, mut handle) = timeout(settings());
    assert_eq!(
        time_out(&mut svc, &mut handle, call("tools/call", "c")).await,
        Duration::from_secs(60)
    );
    assert_eq!(
        time_out(&mut svc, &mut handle, call("tools/list", "c")).await,
        Duration::from_secs(15)
    );
    assert_eq!(
        time_out(&mut svc, &mut handle, call("prompts/get", "c")).await,
        Duration::from_secs(5)
    );
    let mut long = call("tools/call", "c");
    long.tool = Some(Arc::from("long_job"));
    assert_eq!(
        time_out(&mut svc, &mut handle, long).await,
        Duration::from_secs(120)
    );
}

#[tokio::test(start_paused = true)]
async fn an_answer_in_time_passes() {
    let (mut svc, mut handle) = timeout(settings());
    let fut = svc.ready().await.unwrap().call(call("tools/call", "c"));
    let (_, reply) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_secs(59)).await;
    reply.send_response(Reply::result("{}"));
    assert_eq!(fut.await.unwrap().payload(), "{}");
}

#[tokio::test(start_paused = true)]
async fn progress_extends_the_deadline_up_to_the_maximum() {
    let (mut svc, mut handle) = timeout(settings());
    let c = call("tools/call", "c");
    let activity = c.activity.clone();
    let started = Instant::now();
    let mut fut = Box::pin(svc.ready().await.unwrap().call(c));
    let _pending = handle.next_request().await.unwrap();
    // A sign of life every 50 s keeps a 60 s deadline alive...
    for _ in 0..4 {
        tokio::time::advance(Duration::from_secs(50)).await;
        activity.touch();
        assert!(futures::poll!(&mut fut).is_pending());
    }
    // ...then silence: it expires 60 s after the last one (at 260 s).
    let err = fut.await.unwrap_err();
    assert!(err.to_string().contains("60s"), "{err}");
    assert_eq!(started.elapsed(), Duration::from_secs(260));

    // Progress forever still stops at the hard maximum (300 s).
    let c = call("tools/call", "c");
    let activity = c.activity.clone();
    let started = Instant::now();
    let mut fut = Box::pin(svc.ready().await.unwrap().call(c));
    let _pending = handle.next_request().await.unwrap();
    let out = loop {
        tokio::time::advance(Duration::from_secs(10)).await;
        activity.touch();
        if let std::task::Poll::Ready(out) = futures::poll!(&mut fut) {
            break out;
        }
    };
    assert!(out.is_err());
    assert_eq!(started.elapsed(), Duration::from_secs(300));
}
