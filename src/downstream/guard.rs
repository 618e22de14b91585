//! Checks every request to `/mcp` passes before the gateway reads it: Origin, Host, Accept,
//! Content-Type, `MCP-Protocol-Version`.

use crate::call::{Failure, Kind};
use crate::config::GatewaySettings;
use crate::protocol;
use axum::http::{header, HeaderMap};

/// What the response to a POST may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    /// Either; JSON unless the answer needs to stream.
    Json,
    /// Only `application/json`: messages tied to a request go to the session stream instead.
    JsonOnly,
    /// Only `text/event-stream` is acceptable.
    EventStream,
}

/// Origin and Host checks against DNS rebinding and cross-site requests.
pub fn origin_and_host(headers: &HeaderMap, g: &GatewaySettings) -> Result<(), Failure> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let allowed = g.allowed_origins.iter().any(|o| o == "*" || o == origin)
            || url::Url::parse(origin)
                .ok()
                .and_then(|u| u.host_str().map(is_loopback_name))
                .unwrap_or(false);
        if !allowed {
            return Err(Failure::new(
                Kind::Forbidden,
                format!("Origin {origin:?} is not allowed (add it to gateway.allowed_origins)"),
            ));
        }
    }
    let enforce = !g.allowed_hosts.is_empty() || g.listen.ip().is_loopback();
    if enforce {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let name = host_name(host);
        let allowed =
            is_loopback_name(name) || g.allowed_hosts.iter().any(|h| h == host || h == name);
        if !allowed {
            return Err(Failure::new(
                Kind::Forbidden,
                format!("Host {host:?} is not allowed (add it to gateway.allowed_hosts)"),
            ));
        }
    }
    Ok(())
}

fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Which response forms the client accepts for a POST.
pub fn accept_for_post(headers: &HeaderMap) -> Result<Wants, Failure> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()) else {
        return Ok(Wants::Json);
    };
    let ranges: Vec<&str> = accept
        .split(',')
        .map(|r| r.split(';').next().unwrap_or("").trim())
        .collect();
    let json = ranges
        .iter()
        .any(|r| matches!(*r, "application/json" | "application/*" | "*/*"));
    let sse = ranges
        .iter()
        .any(|r| matches!(*r, "text/event-stream" | "text/*" | "*/*"));
    if json && sse {
        Ok(Wants::Json)
    } else if json {
        Ok(Wants::JsonOnly)
    } else if sse {
        Ok(Wants::EventStream)
    } else {
        Err(Failure::new(
            Kind::NotAcceptable,
            format!("Accept {accept:?} allows neither application/json nor text/event-stream"),
        ))
    }
}

/// A GET must accept an event stream.
pub fn accept_for_get(headers: &HeaderMap) -> Result<(), Failure> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/event-stream") || accept.contains("*/*") {
        Ok(())
    } else {
        Err(Failure::new(
            Kind::NotAcceptable,
            "GET /mcp opens an event stream: send Accept: text/event-stream",
        ))
    }
}

/// A POST body must be JSON.
pub fn content_type(headers: &HeaderMap) -> Result<(), Failure> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(Failure::new(
            Kind::UnsupportedMediaType,
            format!("Content-Type must be application/json, not {ct:?}"),
        ))
    }
}

/// `MCP-Protocol-Version`, when present, must be one the gateway speaks.
pub fn protocol_version(headers: &HeaderMap) -> Result<(), Failure> {
    match headers
        .get("mcp-protocol-version")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => Ok(()),
        Some(v) if protocol::is_initialize(v) => Ok(()),
        Some(v) => Err(unsupported_version(v)),
    }
}

/// `-32022` listing every version the gateway speaks.
pub fn unsupported_version(requested: &str) -> Failure {
    let supported = protocol::all_versions();
    Failure::new(
        Kind::UnsupportedVersion,
        format!(
            "unsupported protocol version {requested:?}; supported: {}",
            supported.join(", ")
        ),
    )
    .with("supported", supported)
    .with("requested", requested)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn origin_and_host_rules() {
        let g = GatewaySettings::default();
        let ok = |h: &[(&'static str, &'static str)]| origin_and_host(&headers(h), &g).is_ok();
        assert!(ok(&[("host", "127.0.0.1:8931")]));
        assert!(ok(&[
            ("host", "localhost:8931"),
            ("origin", "http://localhost:3000")
        ]));
        assert!(ok(&[
            ("host", "[::1]:8931"),
            ("origin", "http://[::1]:5173")
        ]));
        assert!(!ok(&[
            ("host", "127.0.0.1:8931"),
            ("origin", "https://evil.example")
        ]));
        assert!(!ok(&[("host", "evil.example:8931")]));
        assert!(!ok(&[("host", "127.0.0.1:8931"), ("origin", "null")]));
    }

    #[test]
    fn accept_rules() {
        let a = |v: &'static str| accept_for_post(&headers(&[("accept", v)])).ok();
        assert_eq!(a("application/json, text/event-stream"), Some(Wants::Json));
        assert_eq!(a("text/event-stream"), Some(Wants::EventStream));
        assert_eq!(a("*/*"), Some(Wants::Json));
        assert_eq!(a("application/json"), Some(Wants::JsonOnly));
        assert_eq!(a("text/html"), None);
    }
}
