//! What is particular to a stateless (2026-07-28) upstream: the per-request envelope, the `input_required`
//! rounds the gateway drives on a client's behalf, and the `subscriptions/listen` stream that
//! carries its change notifications.

use super::Connection;
use crate::call::{Caller, Deadline, Failure, Reply};
use crate::jsonrpc;
use serde_json::value::RawValue;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

impl Connection {
    /// A 2026-07-28 upstream may answer `input_required`: ask the client each embedded request
    /// (as a server-to-client request, or an `input_required` round of the gateway's own), then
    /// send the request again with the answers and the upstream's `requestState`.
    pub(super) async fn until_complete(
        &self,
        again: Again<'_>,
        mut reply: Reply,
        caller: Option<Arc<dyn Caller>>,
    ) -> Result<Reply, Failure> {
        let Again {
            method,
            params,
            deadline,
            cancel,
            param_headers,
        } = again;
        const MAX_ROUNDS: usize = 10;
        for _ in 0..MAX_ROUNDS {
            if reply.is_error() {
                return Ok(reply);
            }
            let Some(asked) = InputRequired::parse(reply.payload()) else {
                return Ok(reply);
            };
            let Some(caller) = caller.clone() else {
                let e = Failure::new(
                    crate::call::Kind::ClientUnreachable,
                    format!(
                        "upstream server {:?} needs input from a client, but this request has none",
                        self.server
                    ),
                );
                return Ok(Reply::error(&e.to_rpc()));
            };
            let answers = futures::future::join_all(asked.requests.iter().map(|(key, m, p)| {
                let c = caller.clone();
                let (key, m, p) = (key.clone(), m.clone(), p.clone());
                async move { (key, c.ask(m, p).await) }
            }))
            .await;
            let mut responses = indexmap::IndexMap::new();
            for (key, answer) in answers {
                match answer {
                    Ok(raw) => {
                        responses.insert(
                            key,
                            RawValue::from_string(raw)
                                .map_err(|e| Failure::protocol(format!("client answer: {e}")))?,
                        );
                    }
                    Err(e) => return Ok(Reply::error(&e)),
                }
            }
            let responses = serde_json::to_string(&responses).expect("raw JSON serializes");
            let mut members = vec![("inputResponses", responses.as_str())];
            let state;
            if let Some(s) = &asked.state {
                state = serde_json::to_string(s).expect("a string serializes");
                members.push(("requestState", &state));
            }
            let next = jsonrpc::set_members(params.or(Some("{}")), &members);
            reply = self
                .request_once_with(
                    method,
                    Some(&next),
                    deadline,
                    Some(caller),
                    cancel,
                    param_headers,
                )
                .await?;
        }
        Err(Failure::protocol(format!(
            "still input_required after {MAX_ROUNDS} rounds"
        )))
    }

    /// `params` with the 2026-07-28 envelope in `_meta`: the version, the capabilities this
    /// connection declares, and who the gateway is.
    pub(super) fn envelope(&self, params: Option<&str>) -> String {
        let meta = jsonrpc::member(params, "_meta");
        let info = concat!(
            r#"{"name":"switchboard","version":""#,
            env!("CARGO_PKG_VERSION"),
            r#""}"#
        );
        let meta = jsonrpc::set_members(
            meta.as_deref().map(RawValue::get),
            &[
                ("io.modelcontextprotocol/protocolVersion", STATELESS_JSON),
                (
                    "io.modelcontextprotocol/clientCapabilities",
                    &self.client_caps,
                ),
                ("io.modelcontextprotocol/clientInfo", info),
            ],
        );
        jsonrpc::set_members(params.or(Some("{}")), &[("_meta", &meta)])
    }
}

/// The stateless revision as a JSON string.
const STATELESS_JSON: &str = concat!("\"", "2026-07-28", "\"");

/// What is needed to send a request again (with the answers to its input requests).
pub(super) struct Again<'a> {
    pub(super) method: &'a str,
    pub(super) params: Option<&'a str>,
    pub(super) deadline: &'a Deadline,
    pub(super) cancel: Option<&'a CancellationToken>,
    pub(super) param_headers: &'a [(String, String)],
}

/// An `InputRequiredResult`: what the upstream asks (key, method, raw params), and its state.
struct InputRequired {
    requests: Vec<(String, String, Option<String>)>,
    state: Option<String>,
}

impl InputRequired {
    fn parse(result: &str) -> Option<InputRequired> {
        #[derive(serde::Deserialize)]
        struct Ask<'a> {
            method: String,
            #[serde(borrow)]
            params: Option<&'a RawValue>,
        }
        #[derive(serde::Deserialize)]
        struct Wire<'a> {
            #[serde(rename = "resultType")]
            result_type: Option<&'a str>,
            #[serde(rename = "inputRequests", borrow, default)]
            input_requests: indexmap::IndexMap<String, Ask<'a>>,
            #[serde(rename = "requestState")]
            request_state: Option<String>,
        }
        let w: Wire = serde_json::from_str(result).ok()?;
        if w.result_type != Some("input_required") {
            return None;
        }
        Some(InputRequired {
            requests: w
                .input_requests
                .into_iter()
                .map(|(k, a)| (k, a.method, a.params.map(|p| p.get().to_string())))
                .collect(),
            state: w.request_state,
        })
    }
}

/// How long an upstream has to answer the `server/discover` probe before it is taken for an
/// `initialize`-generation server that ignores unknown requests.
pub(super) const PROBE_WAIT: Duration = Duration::from_secs(5);

/// A 2026-07-28 upstream sends change notifications only on a `subscriptions/listen` stream:
/// keep one open for the connection's life (its notifications reach the gateway like any other).
pub(super) async fn listen(conn: Weak<Connection>) {
    const FILTER: &str = r#"{"notifications":{"toolsListChanged":true,"promptsListChanged":true,"resourcesListChanged":true}}"#;
    loop {
        let Some(c) = conn.upgrade() else { return };
        if c.is_closed() {
            return;
        }
        let forever = Deadline::fixed(Duration::from_secs(365 * 24 * 3600));
        let ended = c
            .request_once("subscriptions/listen", Some(FILTER), &forever, None, None)
            .await;
        if c.is_closed() {
            return;
        }
        tracing::debug!(server = %c.server, outcome = ?ended.map(|r| r.is_error()), "subscriptions/listen ended; listening again");
        drop(c);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
