//! An upstream's answer to one request, kept as the buffer it arrived in.

use bytes::Bytes;
use std::ops::Range;

/// An upstream's answer to one request: the whole message buffer and where its payload sits.
///
/// Keeping the buffer and a range avoids copying the payload: the gateway splices it into the
/// downstream response as raw text.
#[derive(Debug, Clone)]
pub struct Reply {
    buf: Bytes,
    payload: Range<usize>,
    is_error: bool,
}

impl Reply {
    /// The answer in `buf` whose `result` (or `error` object) is `payload`, a slice of `buf`
    /// that is valid UTF-8 JSON.
    pub fn new(buf: Bytes, payload: Range<usize>, is_error: bool) -> Reply {
        debug_assert!(std::str::from_utf8(&buf[payload.clone()]).is_ok());
        Reply {
            buf,
            payload,
            is_error,
        }
    }

    /// The raw `result` (or `error` object) JSON text.
    pub fn payload(&self) -> &str {
        // The range was taken from a &str borrowed out of this very buffer.
        std::str::from_utf8(&self.buf[self.payload.clone()]).expect("payload is a JSON slice")
    }

    /// Whether this is a JSON-RPC error response.
    pub fn is_error(&self) -> bool {
        self.is_error
    }

    /// An error reply made by the gateway (an exchange that ended in an error of ours).
    pub fn error(e: &crate::jsonrpc::RpcError) -> Reply {
        let msg = crate::jsonrpc::error_message(None, e);
        let text = std::str::from_utf8(&msg).expect("JSON is UTF-8");
        let start = text.find("\"error\":").map_or(0, |i| i + 8);
        let end = text.rfind('}').unwrap_or(text.len());
        Reply {
            payload: start..end,
            buf: msg,
            is_error: true,
        }
    }

    /// A successful reply with this `result` text.
    pub fn result(text: &str) -> Reply {
        Reply {
            buf: Bytes::copy_from_slice(text.as_bytes()),
            payload: 0..text.len(),
            is_error: false,
        }
    }
}
