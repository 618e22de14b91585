//! Reading a request body, bounded in size (`gateway.max_body_bytes`) and in silence
//! (`gateway.body_read_timeout`), with a failure that says which bound it hit.

use crate::call::{Failure, Kind};
use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::time::Duration;

/// Read the whole body: 413 over `limit` (a declared `Content-Length` is refused before any
/// byte is read), 408 after `silence` without a byte, 400 for a body that cannot be read.
pub async fn read(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    silence: Duration,
) -> Result<Bytes, Failure> {
    let too_large = || {
        Failure::new(
            Kind::TooLarge,
            format!("request body is larger than the {limit}-byte limit (gateway.max_body_bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    loop {
        let frame = match tokio::time::timeout(silence, body.frame()).await {
            Err(_) => {
                return Err(Failure::new(
                    Kind::BodyTimeout,
                    format!(
                        "the request body went silent for {silence:?} (gateway.body_read_timeout)"
                    ),
                ))
            }
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(e))) => {
                return Err(Failure::new(
                    Kind::BadBody,
                    format!("the request body cannot be read: {e}"),
                ))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
}
