//! One 2026-07-28 request through the gateway, and the multi-round-trip (`input_required`)
//! bridge: when an upstream of the `initialize` generation asks the client something
//! (sampling, elicitation, roots) during the call, the call is parked, the client gets an
//! `InputRequiredResult` holding those requests and a `requestState` naming the parked call,
//! and its retry (with `inputResponses`) answers the upstream and resumes the same call.

use super::{finish, refuse, reply};
use crate::call::Failure;
use crate::downstream::guard::Wants;
use crate::downstream::Faces;
use crate::gateway::{random_token, Client};
use crate::jsonrpc::{self, Kind as Message};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use dashmap::DashMap;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::running::{classify, forget, next_step, queued_notes, Done, Running, Step};

/// Parked calls by `requestState` (128 random bits each), owned by the faces of one gateway;
/// each is dropped (cancelled upstream) when `gateway.input_required_timeout` passes without the
/// client's retry. They count as sessions, so `gateway.max_sessions` bounds them too.
#[derive(Default)]
pub struct Parked(DashMap<String, Running>);

impl Parked {
    /// Whether the call `state` names is parked here.
    pub fn holds(&self, state: &str) -> bool {
        self.0.contains_key(state)
    }
}

/// Start a request (or resume a parked one, when it carries `requestState`), answered over HTTP.
pub async fn start(
    faces: &Arc<Faces>,
    client: Arc<Client>,
    id: &str,
    method: &str,
    params: Option<&RawValue>,
    wants: Wants,
) -> Response {
    match begin(faces, client, id, method, params, None).await {
        Ok(running) => respond(running, id, wants).await,
        Err(e) => refuse(id, e),
    }
}

/// The same, for a face that writes messages one after another (stdio): the request's
/// notifications, then its answer (or its `input_required` round). `cancel` fires when the
/// client cancels it (`notifications/cancelled` on that face).
pub fn start_messages(
    faces: &Arc<Faces>,
    client: Arc<Client>,
    id: &str,
    method: &str,
    params: Option<&RawValue>,
    cancel: CancellationToken,
) -> futures::stream::BoxStream<'static, Bytes> {
    use futures::StreamExt;
    let (faces, id, method) = (faces.clone(), id.to_string(), method.to_string());
    let params = params.map(ToOwned::to_owned);
    futures::stream::once(async move {
        match begin(
            &faces,
            client,
            &id,
            &method,
            params.as_deref(),
            Some(cancel),
        )
        .await
        {
            Ok(running) => stream(running, id, Vec::new()).boxed(),
            Err(e) => {
                futures::stream::iter([jsonrpc::error_message(Some(&id), &e.to_rpc())]).boxed()
            }
        }
    })
    .flatten()
    .boxed()
}

/// A running call: a new one, or the parked one its `requestState` names (answered first).
async fn begin(
    faces: &Arc<Faces>,
    client: Arc<Client>,
    id: &str,
    method: &str,
    params: Option<&RawValue>,
    cancel: Option<CancellationToken>,
) -> Result<Running, Failure> {
    let p = params.map(RawValue::get);
    if let Some(state) = jsonrpc::string_member(p, "requestState") {
        return resume(&faces.parked, method, &state, p, &client);
    }
    // Registered while the call lives, so per-session upstreams it opens are stopped with it
    // (and with the gateway).
    faces.sessions.insert(client.clone()).await?;
    let (tx, related) =
        crate::gateway::related(faces.gateway().config().gateway.max_queued_messages);
    let (gw, c2, id2, m2) = (
        faces.gateway().clone(),
        client.clone(),
        id.to_string(),
        method.to_string(),
    );
    let params = params.map(|p| p.to_owned());
    if let Some(token) = cancel {
        // The face's token stands for this request from the start: a cancellation that arrives
        // before the call reaches its upstream still counts.
        client.begin_with(id, token);
    }
    let call: futures::future::BoxFuture<'static, Bytes> = Box::pin(async move {
        gw.request(&c2, &id2, &m2, params.as_deref(), Some(tx))
            .await
    });
    Ok(Running {
        faces: faces.clone(),
        client,
        first_id: id.to_string(),
        method: method.to_string(),
        related,
        done: Done::Here(parking_lot::Mutex::new(call)),
        asked: Vec::new(),
        parked_at: Instant::now(),
        ended: false,
    })
}

/// The client's retry of a parked call: answer what the upstream asked, and carry on with it.
/// The retry must come from the identity that started the call, at the same endpoint: another
/// one's is refused as if the state were unknown.
fn resume(
    parked: &Parked,
    method: &str,
    state: &str,
    params: Option<&str>,
    retry: &Client,
) -> Result<Running, Failure> {
    let caller = &*retry.identity;
    let unknown = || {
        Failure::invalid_params(
            "unknown or expired requestState: send the request again without it",
        )
    };
    let Some((_, mut running)) = parked.0.remove(state) else {
        return Err(unknown());
    };
    if !running.client.identity.same_as(caller) || running.client.endpoint != retry.endpoint {
        tracing::warn!(owner = %running.client.identity.subject, caller = %caller.subject, "a requestState was sent by another identity or at another endpoint than its own; refused");
        parked.0.insert(state.to_string(), running);
        return Err(unknown());
    }
    if running.method != method {
        let e = Failure::invalid_params(format!(
            "requestState belongs to a {} request, not {method}",
            running.method
        ));
        parked.0.insert(state.to_string(), running);
        return Err(e);
    }
    let responses = jsonrpc::member(params, "inputResponses");
    let missing: Vec<String> = running
        .asked
        .iter()
        .filter(|k| jsonrpc::member(responses.as_deref().map(RawValue::get), k).is_none())
        .cloned()
        .collect();
    if !missing.is_empty() {
        let e = Failure::invalid_params(format!(
            "inputResponses lacks an answer for {}",
            missing.join(", ")
        ));
        parked.0.insert(state.to_string(), running);
        return Err(e);
    }
    for key in std::mem::take(&mut running.asked) {
        let value =
            jsonrpc::member(responses.as_deref().map(RawValue::get), &key).expect("checked above");
        let down_id = serde_json::to_string(&key).expect("a string serializes");
        let answer = jsonrpc::response_result(&down_id, value.get());
        if !running.client.answer(&down_id, answer) {
            tracing::debug!(key, "the upstream no longer waits for this input");
        }
    }
    Ok(running)
}

/// Wait for what comes first: the answer, a request for the client (park and ask), or a
/// notification (then stream, SSE, until one of the other two).
async fn respond(mut running: Running, id: &str, wants: Wants) -> Response {
    let mut early = Vec::new();
    let log = running.client.log_level.lock().is_some();
    loop {
        match next_step(&mut running).await {
            Step::Done(answer) => {
                let (status, body) = final_answer(answer, id, &running.method);
                if wants != Wants::JsonOnly {
                    early.extend(queued_notes(&mut running, log)); // sent before the answer
                }
                // Ended here rather than in a task of its own when dropped.
                running.faces.sessions.end(&running.client.id).await;
                running.ended = true;
                forget(running);
                return if early.is_empty() {
                    reply::json(status, body)
                } else {
                    early.push(body);
                    reply::sse(futures::stream::iter(early))
                };
            }
            Step::Ask(request) => {
                let (asks, notes) = gather(&mut running, request).await;
                if wants != Wants::JsonOnly {
                    early.extend(
                        notes
                            .into_iter()
                            .filter(|(_, is_log)| log || !is_log)
                            .map(|(n, _)| n),
                    );
                }
                let body = park(running, asks, id).await;
                return if early.is_empty() {
                    reply::json(StatusCode::OK, body)
                } else {
                    early.push(body);
                    reply::sse(futures::stream::iter(early))
                };
            }
            Step::Tell(note, is_log) => {
                if is_log && !log {
                    continue; // no logLevel in the request's _meta: no log messages
                }
                if wants == Wants::JsonOnly {
                    continue; // nowhere to put it
                }
                early.push(note);
                return reply::sse(stream(running, id.to_string(), early));
            }
        }
    }
}

/// Everything after the first notification, as an event stream.
fn stream(
    running: Running,
    id: String,
    first: Vec<Bytes>,
) -> impl futures::Stream<Item = Bytes> + Send {
    let log = running.client.log_level.lock().is_some();
    let head = futures::stream::iter(first);
    let rest = futures::stream::unfold(Some(Tail::Live(running)), move |state| {
        let id = id.clone();
        async move {
            let mut running = match state? {
                Tail::Live(r) => r,
                Tail::Rest(mut it) => return it.next().map(|m| (m, Some(Tail::Rest(it)))),
            };
            loop {
                match next_step(&mut running).await {
                    Step::Tell(_, true) if !log => continue,
                    Step::Tell(note, _) => return Some((note, Some(Tail::Live(running)))),
                    Step::Ask(request) => {
                        // Notifications that raced the requests are dropped: the round ends here.
                        let (asks, _) = gather(&mut running, request).await;
                        return Some((park(running, asks, &id).await, None));
                    }
                    Step::Done(answer) => {
                        let (_, body) = final_answer(answer, &id, &running.method);
                        let mut tail = queued_notes(&mut running, log);
                        forget(running);
                        tail.push(body);
                        let mut tail = tail.into_iter();
                        let first = tail.next().expect("the answer is there");
                        return Some((first, Some(Tail::Rest(tail))));
                    }
                }
            }
        }
    });
    futures::StreamExt::chain(head, rest)
}

/// Where an event stream is: still waiting on the call, or writing out its last messages.
enum Tail {
    Live(Running),
    Rest(std::vec::IntoIter<Bytes>),
}

/// The call's answer (or, if its task ended without one, an error) as the client gets it.
fn final_answer(answer: Option<Bytes>, id: &str, method: &str) -> (StatusCode, Bytes) {
    let answer = answer.unwrap_or_else(|| {
        let e = Failure::internal("the request ended without an answer");
        jsonrpc::error_message(Some(id), &e.to_rpc())
    });
    finish(&answer, id, method)
}

/// How long to wait, after an upstream's first request for the client, for others it sends at
/// the same time (they go to the client in one round).
const GATHER: Duration = Duration::from_millis(30);

/// The first request for the client and any that follow within [`GATHER`]; notifications seen
/// meanwhile (with whether each is a log message).
async fn gather(running: &mut Running, first: Bytes) -> (Vec<Bytes>, Vec<(Bytes, bool)>) {
    let (mut asks, mut notes) = (vec![first], Vec::new());
    let until = tokio::time::sleep(GATHER);
    tokio::pin!(until);
    loop {
        tokio::select! {
            _ = &mut until => break,
            Some(m) = running.related.recv() => match classify(m) {
                Step::Ask(r) => asks.push(r),
                Step::Tell(n, is_log) => notes.push((n, is_log)),
                Step::Done(_) => {}
            },
        }
    }
    (asks, notes)
}

/// Park the call and describe what the client must answer. In a cluster, the store says which
/// replica holds it, so that a retry that lands on another is forwarded here.
async fn park(mut running: Running, requests: Vec<Bytes>, id: &str) -> Bytes {
    let mut inputs = serde_json::Map::new();
    for r in &requests {
        let Ok(msg) = jsonrpc::parse(r) else { continue };
        let Ok(Message::Request {
            id: down,
            method,
            params,
        }) = msg.kind()
        else {
            continue;
        };
        let key: String =
            serde_json::from_str(down.get()).unwrap_or_else(|_| down.get().to_string());
        let mut entry = serde_json::json!({ "method": method });
        if let Some(p) =
            params.and_then(|p| serde_json::from_str::<serde_json::Value>(p.get()).ok())
        {
            entry["params"] = p;
        }
        inputs.insert(key.clone(), entry);
        running.asked.push(key);
    }
    let token = random_token();
    let result = serde_json::json!({
        "resultType": "input_required",
        "inputRequests": inputs,
        "requestState": token,
    });
    let parked_at = Instant::now();
    running.parked_at = parked_at;
    let faces = running.faces.clone();
    faces.parked.0.insert(token.clone(), running);
    let wait = faces.gateway().config().gateway.input_required_timeout;
    if let Some(store) = crate::cluster::store() {
        if store.advertised().is_some() && !store.put_parked(&token, wait).await {
            tracing::warn!(
                "the cluster store is unreachable: this parked call resumes on this replica only"
            );
        }
    }
    let faces = Arc::downgrade(&faces);
    tokio::spawn(async move {
        tokio::time::sleep(wait).await;
        if let Some(faces) = faces.upgrade() {
            faces
                .parked
                .0
                .remove_if(&token, |_, r| r.parked_at == parked_at);
        }
    });
    jsonrpc::response_result(id, &result.to_string())
}
