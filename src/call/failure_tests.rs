//! The classification, row by row, and what the faces derive from it.

use super::*;

/// Every kind with what it must mean, written out again on purpose: a change to the table is a
/// change to what clients see, and must show up here.
/// (kind, origin, reached, retry, verdict, outcome, code, status)
type Row = (Kind, Origin, bool, bool, Verdict, &'static str, i64, u16);

#[rustfmt::skip]
const EXPECTED: &[Row] = {
    use Origin::{Client as C, Gateway as G, Upstream as U};
    use Verdict::{Fault as F, Neutral as N};
    &[
        (Kind::Parse, C, false, false, N, "invalid", -32700, 400),
        (Kind::InvalidRequest, C, false, false, N, "invalid", -32600, 400),
        (Kind::MethodNotFound, C, false, false, N, "invalid", -32601, 404),
        (Kind::InvalidParams, C, false, false, N, "invalid", -32602, 400),
        (Kind::HeaderMismatch, C, false, false, N, "invalid", -32020, 400),
        (Kind::MissingCapability, C, false, false, N, "invalid", -32021, 400),
        (Kind::UnsupportedVersion, C, false, false, N, "invalid", -32022, 400),
        (Kind::ResourceNotFound, C, false, false, N, "invalid", -32002, 200),
        (Kind::MissingSession, C, false, false, N, "invalid", -32600, 400),
        (Kind::UnknownSession, C, false, false, N, "invalid", -32600, 404),
        (Kind::UnknownEndpoint, C, false, false, N, "invalid", -32600, 404),
        (Kind::Forbidden, C, false, false, N, "invalid", -32600, 403),
        (Kind::Unauthenticated, C, false, false, N, "denied", -32040, 401),
        (Kind::InsufficientScope, C, false, false, N, "denied", -32041, 403),
        (Kind::PolicyDenied, C, false, false, N, "denied", -32041, 403),
        (Kind::NotAcceptable, C, false, false, N, "invalid", -32600, 406),
        (Kind::UnsupportedMediaType, C, false, false, N, "invalid", -32600, 415),
        (Kind::TooLarge, C, false, false, N, "invalid", -32600, 413),
        (Kind::BodyTimeout, C, false, false, N, "invalid", -32600, 408),
        (Kind::BadBody, C, false, false, N, "invalid", -32600, 400),
        (Kind::PromptTooLong, C, false, false, N, "invalid", -32602, 413),
        (Kind::MethodNotAllowed, C, false, false, N, "invalid", -32600, 405),
        (Kind::StreamConflict, C, false, false, N, "invalid", -32600, 409),
        (Kind::Cancelled, C, true, false, N, "cancelled", -32800, 200),
        (Kind::ClientRateLimited, C, false, false, N, "rate_limited", -32029, 200),
        (Kind::ClientUnreachable, C, false, false, N, "invalid", -32036, 200),
        (Kind::UpstreamTimeout, U, true, false, F, "timeout", -32001, 200),
        (Kind::UpstreamCrashed, U, true, true, F, "upstream_error", -32030, 200),
        (Kind::UpstreamTransport, U, true, true, F, "upstream_error", -32035, 200),
        (Kind::UpstreamProtocol, U, true, false, F, "upstream_error", -32034, 200),
        (Kind::SessionExpired, U, true, true, N, "upstream_error", -32035, 200),
        (Kind::UpstreamUnavailable, U, false, true, N, "unavailable", -32031, 200),
        (Kind::CircuitOpen, G, false, false, N, "circuit_open", -32032, 200),
        (Kind::RateLimited, G, false, false, N, "rate_limited", -32029, 200),
        (Kind::Overloaded, G, false, false, N, "overloaded", -32029, 200),
        (Kind::StoreUnavailable, G, false, false, N, "unavailable", -32029, 200),
        (Kind::ConnectionLimit, G, false, false, N, "overloaded", -32029, 503),
        (Kind::ReplicaLost, G, false, false, N, "unavailable", -32031, 502),
        (Kind::SessionLimit, G, false, false, N, "overloaded", -32029, 503),
        (Kind::Elapsed, G, false, false, N, "timeout", -32001, 200),
        (Kind::Unsupported, G, false, false, N, "unsupported", -32033, 200),
        (Kind::ToolHeld, G, false, false, N, "denied", -32042, 403),
        (Kind::Internal, G, false, false, N, "internal", -32603, 200),
    ]
};

#[test]
fn every_kind_is_classified_as_expected() {
    assert_eq!(
        Kind::ALL.len(),
        EXPECTED.len(),
        "a kind without an expected row"
    );
    for &(kind, origin, reached, retry, verdict, outcome, code, status) in EXPECTED {
        let c = kind.class();
        let want = Class {
            origin,
            reached,
            retry,
            verdict,
            outcome,
            code,
            status,
        };
        assert_eq!(c, want, "{kind:?}");
        assert!(!kind.meaning().is_empty(), "{kind:?} has no meaning");
    }
}

#[test]
fn only_upstream_faults_count_against_the_upstream() {
    for &k in Kind::ALL {
        let c = k.class();
        if c.verdict == Verdict::Fault {
            assert_eq!(c.origin, Origin::Upstream, "{k:?}");
            assert!(c.reached, "{k:?}: a fault the upstream never saw");
        }
        if c.origin == Origin::Client {
            assert!(!c.retry, "{k:?}: the client's mistake is not retried");
        }
    }
}

#[test]
fn the_cases_that_used_to_share_32603_are_distinct() {
    let codes: Vec<i64> = [
        Kind::UpstreamCrashed,
        Kind::CircuitOpen,
        Kind::UpstreamUnavailable,
        Kind::Unsupported,
        Kind::Internal,
    ]
    .iter()
    .map(|k| k.class().code)
    .collect();
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), codes.len(), "{codes:?}");
}

#[test]
fn the_client_gets_code_message_reason_and_detail() {
    let f = Failure::new(Kind::CircuitOpen, "circuit open for upstream \"x\"")
        .with("server", "x")
        .retry_after(Duration::from_millis(1500));
    let e = f.to_rpc();
    assert_eq!(e.code, -32032);
    assert_eq!(e.message, "circuit open for upstream \"x\"");
    let data: Value = serde_json::from_str(e.data.unwrap().get()).unwrap();
    assert_eq!(data["reason"], "circuit_open");
    assert_eq!(data["server"], "x");
    assert_eq!(data["retry_after_ms"], 1500);
    let ctx = Failure::closed().context("upstream server \"y\" failed on tools/call");
    assert_eq!(
        ctx.message(),
        "upstream server \"y\" failed on tools/call: connection closed"
    );
}

#[test]
fn tower_errors_become_failures() {
    let boxed: Box<dyn std::error::Error + Send + Sync> =
        Box::new(tower::load_shed::error::Overloaded::new());
    assert_eq!(Failure::from(boxed).kind(), Kind::Overloaded);
    let boxed: Box<dyn std::error::Error + Send + Sync> =
        Box::new(Failure::new(Kind::UpstreamTimeout, "late"));
    assert_eq!(Failure::from(boxed).kind(), Kind::UpstreamTimeout);
    let boxed: Box<dyn std::error::Error + Send + Sync> = "something else".into();
    assert_eq!(Failure::from(boxed).kind(), Kind::Internal);
}

#[test]
fn statuses_of_error_codes_on_the_stateless_face() {
    assert_eq!(status_of_code(-32601), 404);
    assert_eq!(status_of_code(-32602), 400);
    assert_eq!(status_of_code(-32600), 400);
    assert_eq!(status_of_code(-32022), 400);
    assert_eq!(status_of_code(-32603), 200);
    assert_eq!(status_of_code(12345), 200);
}

#[test]
fn the_table_has_a_row_per_kind() {
    let t = table();
    assert_eq!(t.lines().count(), 2 + Kind::ALL.len());
    assert!(t.contains(
        "| `circuit_open` | gateway | no | no | neutral | circuit_open | -32032 | 200 |"
    ));
    assert!(t.contains("| `upstream_unavailable` | upstream | no | yes | neutral |"));
    assert!(t.contains("| `upstream_crashed` | upstream | yes | if safe | fault |"));
}
