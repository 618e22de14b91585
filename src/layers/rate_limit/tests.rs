//! Token buckets under a paused clock: refusal with a retry time, refill, per-client isolation.

use super::*;
use crate::layers::testing::call;
use crate::upstream::Reply;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock;

type Svc = RateLimit<mock::Mock<Call, Reply>>;

fn limited(settings: Settings) -> (Svc, mock::Handle<Call, Reply>) {
    let (svc, mut handle) = mock::pair();
    handle.allow(u64::MAX); // the mock answers nothing; we only look at admission
    (
        RateLimitLayer::new(Arc::from("busy"), settings).layer(svc),
        handle,
    )
}

/// Whether a request from `client` passes (the mock then holds it; it is not awaited).
async fn passes(svc: &mut Svc, client: &str) -> Result<(), Limited> {
    let mut fut = svc.ready().await.unwrap().call(call("tools/call", client));
    match futures::poll!(&mut fut) {
        std::task::Poll::Ready(Err(e)) => Err(e
            .downcast_ref::<Limited>()
            .expect("a Limited error")
            .clone()),
        _ => Ok(()),
    }
}

#[tokio::test(start_paused = true)]
async fn upstream_bucket_refuses_with_a_retry_time_and_refills() {
    let (mut svc, _handle) = limited(Settings {
        upstream: Some(Rate {
            per_second: 2.0,
            burst: 2,
        }),
        client: None,
    });
    passes(&mut svc, "a").await.unwrap();
    passes(&mut svc, "b").await.unwrap();
    let refused = passes(&mut svc, "c").await.unwrap_err();
    assert_eq!(refused.scope, Scope::Upstream);
    assert_eq!(&*refused.server, "busy");
    assert_eq!(
        refused.retry_in,
        Duration::from_millis(500),
        "one token every 500 ms"
    );
    assert!(refused.to_string().contains("retry in 500ms"), "{refused}");
    // Refill: after 500 ms exactly one more passes.
    tokio::time::advance(Duration::from_millis(500)).await;
    passes(&mut svc, "c").await.unwrap();
    assert!(passes(&mut svc, "c").await.is_err());
    // After a long idle spell the bucket is full again, but holds no more than its burst.
    tokio::time::advance(Duration::from_secs(60)).await;
    passes(&mut svc, "a").await.unwrap();
    passes(&mut svc, "a").await.unwrap();
    assert!(passes(&mut svc, "a").await.is_err());
}

#[tokio::test(start_paused = true)]
async fn each_client_has_its_own_bucket() {
    let (mut svc, _handle) = limited(Settings {
        upstream: None,
        client: Some(Rate {
            per_second: 1.0,
            burst: 1,
        }),
    });
    passes(&mut svc, "greedy").await.unwrap();
    let refused = passes(&mut svc, "greedy").await.unwrap_err();
    assert_eq!(refused.scope, Scope::Client);
    assert_eq!(refused.retry_in, Duration::from_secs(1));
    // Another client is not affected by the greedy one.
    passes(&mut svc, "polite").await.unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    passes(&mut svc, "greedy").await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_client_over_its_limit_does_not_drain_the_shared_bucket() {
    let (mut svc, _handle) = limited(Settings {
        upstream: Some(Rate {
            per_second: 1.0,
            burst: 3,
        }),
        client: Some(Rate {
            per_second: 1.0,
            burst: 1,
        }),
    });
    passes(&mut svc, "greedy").await.unwrap();
    for _ in 0..5 {
        assert_eq!(
            passes(&mut svc, "greedy").await.unwrap_err().scope,
            Scope::Client
        );
    }
    // Two tokens are still in the shared bucket for the others.
    passes(&mut svc, "b").await.unwrap();
    passes(&mut svc, "c").await.unwrap();
    assert_eq!(
        passes(&mut svc, "d").await.unwrap_err().scope,
        Scope::Upstream
    );
}

#[tokio::test(start_paused = true)]
async fn no_limits_configured_passes_everything() {
    let (mut svc, _handle) = limited(Settings::default());
    for _ in 0..1000 {
        passes(&mut svc, "a").await.unwrap();
    }
}
