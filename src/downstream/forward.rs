//! Forwarding to another replica (`[cluster]`): a request for a session another replica owns,
//! or for a call parked there, goes to it as it came (method, path, the client's headers and
//! body, marked as forwarded), and its answer (JSON, or an event stream) comes back as it is,
//! streamed. The client's credentials go to that replica, a gateway like this one, which checks
//! them again; they never reach an upstream.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::response::Response;
use bytes::Bytes;
use std::sync::OnceLock;

/// Marks a forwarded request (its value: the replica that forwarded it); one is never
/// forwarded again, so two replicas that disagree about an owner cannot bounce a request.
pub const FORWARDED: HeaderName = HeaderName::from_static("x-switchboard-forwarded");

/// A request as it came in.
pub struct Incoming<'a> {
    /// Its method.
    pub method: Method,
    /// Its path and query.
    pub uri: &'a Uri,
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// Its body (empty for GET and DELETE).
    pub body: Bytes,
}

impl<'a> Incoming<'a> {
    /// A request without a body (GET, DELETE).
    pub fn bodiless(method: Method, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        Incoming {
            method,
            uri,
            headers,
            body: Bytes::new(),
        }
    }

    /// Whether another replica forwarded it here.
    pub fn forwarded(&self) -> bool {
        self.headers.contains_key(&FORWARDED)
    }
}

/// Why a forward did not bring an answer back.
#[derive(Debug)]
pub enum Missed {
    /// Nothing answered at the address within `cluster.forward_timeout`: that replica is gone.
    Unreachable(String),
    /// It was reached but the exchange broke before an answer came.
    Lost(String),
}

/// Headers that concern one hop only (RFC 9110 section 7.6.1), not passed on either way.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
    )
}

/// The client replicas forward with: connections kept for reuse, no overall timeout (an
/// answer may be an event stream that lasts), the connect time bounded.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let connect = crate::cluster::store()
            .map(|s| s.settings().forward_timeout)
            .unwrap_or(std::time::Duration::from_secs(1));
        reqwest::Client::builder()
            .connect_timeout(connect)
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client without custom TLS builds")
    })
}

/// Send `req` to the replica at `base` (`http://10.0.0.5:8931`) and relay its answer.
pub async fn send(base: &str, req: &Incoming<'_>) -> Result<Response, Missed> {
    let path = req.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = HeaderMap::with_capacity(req.headers.len() + 1);
    for (name, value) in req.headers {
        if !hop_by_hop(name) && *name != FORWARDED {
            headers.append(name.clone(), value.clone());
        }
    }
    let me = crate::cluster::store().map_or("", |s| s.settings().node_id.as_str());
    headers.insert(
        FORWARDED,
        HeaderValue::from_str(me).unwrap_or(HeaderValue::from_static("replica")),
    );
    let sent = client()
        .request(req.method.clone(), format!("{base}{path}"))
        .headers(headers)
        .body(req.body.clone())
        .send()
        .await;
    let answer = match sent {
        Ok(a) => a,
        Err(e) if e.is_connect() => return Err(Missed::Unreachable(e.to_string())),
        Err(e) => return Err(Missed::Lost(e.to_string())),
    };
    let mut out = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    out.body(Body::from_stream(answer.bytes_stream()))
        .map_err(|e| Missed::Lost(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_stay_on_their_hop() {
        for h in [
            "connection",
            "transfer-encoding",
            "content-length",
            "upgrade",
        ] {
            assert!(hop_by_hop(&HeaderName::from_static(h)), "{h}");
        }
        for h in [
            "authorization",
            "mcp-session-id",
            "mcp-protocol-version",
            "host",
            "accept",
        ] {
            assert!(!hop_by_hop(&HeaderName::from_static(h)), "{h}");
        }
    }
}
