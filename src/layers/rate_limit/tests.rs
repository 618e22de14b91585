//! Token buckets under a paused clock: refusal with a retry time, refill, per-client isolation.

use super::*;
use crate::call::Reply;
use crate::layers::testing::call;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock;

type Svc = RateLimit<mock::Mock<Call<()>, Reply>>;
type Settings = RateLimits;

fn limited(settings: Settings) -> (Svc, mock::Handle<Call<()>, Reply>) {
    let (svc, mut handle) = mock::pair();
    handle.allow(u64::MAX); // the mock answers nothing; we only look at admission
    (
        RateLimitLayer::new(Arc::from("busy"), settings).layer(svc),
        handle,
    )
}

/// Whether a request from `client` passes (the mock then holds it; it is not awaited).
async fn passes(svc: &mut Svc, client: &str) -> Result<(), Failure> {
    let mut fut = svc.ready().await.unwrap().call(call("tools/call", client));
    match futures::poll!(&mut fut) {
        std::task::Poll::Ready(Err(e)) => Err(e),
        _ => Ok(()),
    }
}

/// Which bucket refused, by the failure's kind and its `data.scope`.
fn scope(f: &Failure) -> Scope {
    let scope = f.data("scope").and_then(|s| s.as_str());
    match (f.kind(), scope) {
        (Kind::RateLimited, Some("upstream")) => Scope::Upstream,
        (Kind::ClientRateLimited, Some("client")) => Scope::Client,
        other => panic!("not a rate-limit refusal: {other:?}"),
    }
}

fn retry_in(f: &Failure) -> Duration {
    Duration::from_millis(f.data("retry_after_ms").and_then(|v| v.as_u64()).unwrap())
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
    assert_eq!(scope(&refused), Scope::Upstream);
    assert_eq!(
        refused.data("server").and_then(|s| s.as_str()),
        Some("busy")
    );
    assert_eq!(
        retry_in(&refused),
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
    assert_eq!(scope(&refused), Scope::Client);
    assert_eq!(retry_in(&refused), Duration::from_secs(1));
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
            scope(&passes(&mut svc, "greedy").await.unwrap_err()),
            Scope::Client
        );
    }
    // Two tokens are still in the shared bucket for the others.
    passes(&mut svc, "b").await.unwrap();
    passes(&mut svc, "c").await.unwrap();
    assert_eq!(
        scope(&passes(&mut svc, "d").await.unwrap_err()),
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
