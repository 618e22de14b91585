//! The concurrency limit sheds instead of queueing, and frees its slot when a request ends.

use super::*;
use crate::call::{Call, Reply};
use crate::layers::testing::call;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock;

#[tokio::test(start_paused = true)]
async fn the_request_over_the_limit_is_refused_at_once() {
    let (svc, mut handle) = mock::pair::<Call<()>, Reply>();
    let mut svc = layer(Arc::from("busy"), 2).layer(svc);
    let first = svc.ready().await.unwrap().call(call("tools/call", "a"));
    let second = svc.ready().await.unwrap().call(call("tools/call", "b"));
    let third = svc.ready().await.unwrap().call(call("tools/call", "c"));
    let err = third.await.unwrap_err();
    assert_eq!(err.kind(), Kind::Overloaded, "{err}");
    assert!(err.message().contains("2 requests in flight"), "{err}");
    // The two admitted reached the upstream; when one ends, its slot is free again.
    let (_, r1) = handle.next_request().await.unwrap();
    let (_, r2) = handle.next_request().await.unwrap();
    r1.send_response(Reply::result("1"));
    assert_eq!(first.await.unwrap().payload(), "1");
    let fourth = svc.ready().await.unwrap().call(call("tools/call", "d"));
    let (_, r4) = handle.next_request().await.unwrap();
    r4.send_response(Reply::result("4"));
    assert_eq!(fourth.await.unwrap().payload(), "4");
    r2.send_response(Reply::result("2"));
    assert_eq!(second.await.unwrap().payload(), "2");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_request_frees_its_slot() {
    let (svc, mut handle) = mock::pair::<Call<()>, Reply>();
    let mut svc = layer(Arc::from("busy"), 1).layer(svc);
    let first = svc.ready().await.unwrap().call(call("tools/call", "a"));
    let _ = handle.next_request().await.unwrap();
    drop(first); // the client went away
    let next = svc.ready().await.unwrap().call(call("tools/call", "b"));
    handle
        .next_request()
        .await
        .unwrap()
        .1
        .send_response(Reply::result("ok"));
    assert!(next.await.is_ok());
}
