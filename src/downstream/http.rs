//! The streamable HTTP face at `/mcp`: POST one message, GET the session stream, DELETE the session.

use super::endpoint::At;
use super::forward::{Incoming, Missed};
use super::guard::{self, Wants};
use super::reply::{self, Rejection};
use super::Faces;
use crate::call::{Failure, Identity, Kind};
use crate::gateway::Client;
use crate::jsonrpc::{self, Kind as Message};
use crate::session::Found;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// `Mcp-Session-Id`
pub const SESSION_HEADER: &str = "mcp-session-id";

/// Where a request came from (absent when the app is driven without a socket, in tests).
type Peer = Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>;

/// Where a request's session is served: here (by this client), or by the replica that owns it
/// (the request was forwarded there: its answer).
enum Served {
    Here(Arc<Client>),
    There(Response),
}

/// The client of a [`Served::Here`]; a forwarded request's answer is the caller's answer.
macro_rules! here {
    ($served:expr) => {
        match $served {
            Served::Here(client) => client,
            Served::There(answer) => return Ok(answer),
        }
    };
}

/// POST /mcp (and /mcp/NAME)
pub async fn post(
    State(faces): State<Arc<Faces>>,
    Extension(caller): Extension<Arc<Identity>>,
    at: Result<At, Rejection>,
    peer: Peer,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let peer = peer.map(|p| p.0 .0.ip());
    let endpoint = match at {
        Ok(At(e)) => e,
        Err(rej) => return rej.into_response(),
    };
    let caller = Caller {
        identity: caller,
        peer,
        endpoint,
    };
    match handle_post(&faces, &uri, &headers, body, caller).await {
        Ok(r) => r,
        Err(rej) => rej.into_response(),
    }
}

/// Who sent a request: the identity authentication settled on, and the peer address.
pub struct Caller {
    /// The identity.
    pub identity: Arc<Identity>,
    /// The peer (absent when the app is driven without a socket).
    pub peer: Option<std::net::IpAddr>,
    /// The endpoint it came in through (`None`: the aggregate).
    pub endpoint: Option<Arc<str>>,
}

impl Caller {
    /// A caller without a known peer, at endpoint `at`.
    fn of(identity: Arc<Identity>, at: At) -> Caller {
        Caller {
            identity,
            peer: None,
            endpoint: at.0,
        }
    }
}

async fn handle_post(
    faces: &Arc<Faces>,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    caller: Caller,
) -> Result<Response, Rejection> {
    let gw = faces.gateway();
    let g = &gw.config().gateway;
    guard::origin_and_host(headers, g)?;
    let wants = guard::accept_for_post(headers)?;
    guard::content_type(headers)?;
    let body = super::body::read(headers, body, g.max_body_bytes, g.body_read_timeout).await?;
    let msg = jsonrpc::parse(&body).map_err(Failure::from)?;
    let req = Incoming {
        method: Method::POST,
        uri,
        headers,
        body: body.clone(),
    };
    let kind = msg
        .kind()
        .map_err(|e| Rejection::from(Failure::from(e)).with_id(msg.id.map(|i| i.get())))?;
    let (id, method, params) = match kind {
        Message::Request { id, method, params } => (id.get(), method, params),
        Message::Notification { method, .. } if !headers.contains_key(SESSION_HEADER) => {
            // 2026-07-28 defines no client notifications over HTTP (closing a stream cancels);
            // without a session there is nobody for one to concern: accepted and dropped.
            tracing::debug!(method, "sessionless notification acknowledged");
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        Message::Notification { method, params } => {
            let client = here!(session_of(faces, &req, &caller).await?);
            gw.notification(&client, method, params).await;
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        Message::Response { id, .. } => {
            let client = here!(session_of(faces, &req, &caller).await?);
            gw.response(&client, id.get(), body.clone());
            return Ok(StatusCode::ACCEPTED.into_response());
        }
    };
    if super::stateless::is_stateless(headers, method, params) {
        if let Some(there) = super::stateless::parked_elsewhere(faces, &req, params).await {
            return Ok(there);
        }
        return Ok(
            super::stateless::handle(faces, headers, caller, id, method, params, wants).await,
        );
    }
    let with_id = |f: Failure| Rejection::from(f).with_id(Some(id));
    guard::protocol_version(headers).map_err(with_id)?;
    if method == "initialize" {
        return open(faces, caller, id, params, wants)
            .await
            .map_err(with_id);
    }
    let found = session_of(faces, &req, &caller)
        .await
        .map_err(|r| r.with_id(Some(id)))?;
    let client = here!(found);
    Ok(answer(faces.clone(), client, id, method, params, wants).await)
}

/// `initialize`: a new session, this replica its owner (in a cluster, its record written).
async fn open(
    faces: &Arc<Faces>,
    caller: Caller,
    id: &str,
    params: Option<&RawValue>,
    wants: Wants,
) -> Result<Response, Failure> {
    let client = Arc::new(Client::for_caller(caller.identity, "http").at(caller.endpoint));
    let answer = match faces.gateway().initialize(&client, id, params) {
        Ok(answer) => answer,
        // An answer of the core, like any other: 200 with the JSON-RPC error.
        Err(e) => {
            return Ok(respond(
                jsonrpc::error_message(Some(id), &e.to_rpc()),
                wants,
            ))
        }
    };
    faces.sessions.insert(client.clone()).await?;
    faces.sessions.share(&client).await;
    let sid = HeaderValue::from_str(&client.id).expect("hex is a valid header value");
    let mut r = respond(answer, wants);
    r.headers_mut().insert(SESSION_HEADER, sid);
    Ok(r)
}

/// Answer a request: plain JSON unless the upstream sends something tied to the request first
/// (progress, a log line, a sampling request); then the answer becomes an event stream carrying
/// those messages and, last, the response.
async fn answer(
    faces: Arc<Faces>,
    client: Arc<Client>,
    id: &str,
    method: &str,
    params: Option<&RawValue>,
    wants: Wants,
) -> Response {
    let gw = faces.gateway().clone();
    if wants == Wants::JsonOnly {
        let answer = gw.request(&client, id, method, params, None).await;
        return respond(answer, wants);
    }
    let (tx, mut related) = crate::gateway::related(gw.config().gateway.max_queued_messages);
    for m in client.take_held() {
        // Sent first: what the client must know before this answer (its session moved).
        let _ = tx.try_send(m);
    }
    let (id, method, params) = (
        id.to_string(),
        method.to_string(),
        params.map(|p| p.to_owned()),
    );
    let mut call = Box::pin(async move {
        gw.request(&client, &id, &method, params.as_deref(), Some(tx))
            .await
    });
    tokio::select! {
        biased;
        answer = &mut call => {
            let mut early = Vec::new();
            while let Ok(m) = related.try_recv() {
                early.push(m);
            }
            if early.is_empty() && wants != Wants::EventStream {
                reply::json(StatusCode::OK, answer)
            } else {
                early.push(answer);
                reply::sse(futures::stream::iter(early))
            }
        }
        Some(first) = related.recv() => {
            let (done_tx, done_rx) = oneshot::channel();
            tokio::spawn(
                async move {
                    let _ = done_tx.send(call.await);
                }
                .in_current_span(),
            );
            reply::sse(stream_until_answer(first, related, done_rx))
        }
    }
}

/// `first`, then every related message, then the answer (after any messages queued before it).
fn stream_until_answer(
    first: Bytes,
    related: mpsc::Receiver<Bytes>,
    done: oneshot::Receiver<Bytes>,
) -> impl futures::Stream<Item = Bytes> + Send {
    enum State {
        Open(mpsc::Receiver<Bytes>, oneshot::Receiver<Bytes>),
        Closing(std::vec::IntoIter<Bytes>),
    }
    let head = futures::stream::iter([first]);
    let rest = futures::stream::unfold(State::Open(related, done), |state| async move {
        match state {
            State::Open(mut rx, mut done) => {
                tokio::select! {
                    biased;
                    Some(m) = rx.recv() => Some((m, State::Open(rx, done))),
                    answer = &mut done => {
                        let mut tail = Vec::new();
                        while let Ok(m) = rx.try_recv() {
                            tail.push(m);
                        }
                        if let Ok(a) = answer {
                            tail.push(a);
                        }
                        let mut it = tail.into_iter();
                        it.next().map(|m| (m, State::Closing(it)))
                    }
                }
            }
            State::Closing(mut it) => it.next().map(|m| (m, State::Closing(it))),
        }
    });
    futures::StreamExt::chain(head, rest)
}

fn respond(body: Bytes, wants: Wants) -> Response {
    match wants {
        Wants::Json | Wants::JsonOnly => reply::json(StatusCode::OK, body),
        Wants::EventStream => reply::sse(futures::stream::iter([body])),
    }
}

/// The session a request names: 400 without the header, 404 for an unknown or ended one (or
/// one of another identity, or of another endpoint). In a cluster, one another replica owns is
/// forwarded there; when that replica is gone, this one takes the session over.
async fn session_of(
    faces: &Faces,
    req: &Incoming<'_>,
    caller: &Caller,
) -> Result<Served, Rejection> {
    let Some(id) = req.headers.get(SESSION_HEADER) else {
        return Err(Failure::new(
            Kind::MissingSession,
            "missing Mcp-Session-Id header: send initialize first and echo the session id it returns",
        )
        .into());
    };
    let id = id.to_str().unwrap_or("");
    let (sessions, who, at) = (&faces.sessions, &caller.identity, caller.endpoint.as_ref());
    let mut found = sessions.find_anywhere(id, who, at, req.forwarded()).await?;
    // Three owners at most: the first, one that took over meanwhile, and this replica.
    for _ in 0..3 {
        let owner = match found {
            Found::Here(client) if client.endpoint != caller.endpoint => {
                tracing::warn!(
                    session = id,
                    "a session was named at another endpoint than its own; refused"
                );
                return Err(crate::session::unknown_session(id).into());
            }
            Found::Here(client) => return Ok(Served::Here(client)),
            Found::Owner(owner) => owner,
        };
        match super::forward::send(&owner.url, req).await {
            Ok(answer) => return Ok(Served::There(answer)),
            Err(Missed::Unreachable(why)) => {
                tracing::warn!(session = id, owner = %owner.node, error = %why, "the replica that owns this session does not answer");
                found = sessions.take_over(id, who, at, &owner).await?;
            }
            Err(Missed::Lost(why)) => {
                return Err(Failure::new(
                    Kind::ReplicaLost,
                    format!("the gateway replica that holds this session ({}) went away while answering: {why}; retry", owner.node),
                )
                .into());
            }
        }
    }
    Err(crate::session::unknown_session(id).into())
}

/// GET or DELETE without a session: 2026-07-28 has neither (405, POST only); every client of the
/// `initialize` generation names its session on both.
fn sessionless(headers: &HeaderMap) -> Option<Response> {
    if headers.contains_key(SESSION_HEADER) {
        return None;
    }
    let mut r = Rejection::from(Failure::new(
        Kind::MethodNotAllowed,
        "GET and DELETE need an Mcp-Session-Id (protocol 2026-07-28 uses POST only; subscriptions/listen opens a stream)",
    ))
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    Some(r)
}

/// GET /mcp: the session's stream for messages not tied to a request.
pub async fn get(
    State(faces): State<Arc<Faces>>,
    Extension(caller): Extension<Arc<Identity>>,
    at: Result<At, Rejection>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = sessionless(&headers) {
        return r;
    }
    let opened = async {
        let caller = Caller::of(caller, at?);
        guard::origin_and_host(&headers, &faces.gateway().config().gateway)?;
        guard::accept_for_get(&headers)?;
        guard::protocol_version(&headers)?;
        session_of(
            &faces,
            &Incoming::bodiless(Method::GET, &uri, &headers),
            &caller,
        )
        .await
    }
    .await;
    let client = match opened {
        Ok(Served::Here(c)) => c,
        Ok(Served::There(answer)) => return answer,
        Err(rej) => return rej.into_response(),
    };
    let (tx, rx) = mpsc::channel::<Bytes>(faces.gateway().config().gateway.max_queued_messages);
    for m in client.take_held() {
        let _ = tx.try_send(m);
    }
    if !client.attach_stream(tx) {
        return Rejection::from(Failure::new(
            Kind::StreamConflict,
            "this session already has an open GET stream",
        ))
        .into_response();
    }
    reply::standalone(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// DELETE /mcp: end a session.
pub async fn delete(
    State(faces): State<Arc<Faces>>,
    Extension(caller): Extension<Arc<Identity>>,
    at: Result<At, Rejection>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = sessionless(&headers) {
        return r;
    }
    let checked = async {
        let at = at?;
        guard::origin_and_host(&headers, &faces.gateway().config().gateway)?;
        let req = Incoming::bodiless(Method::DELETE, &uri, &headers);
        session_of(&faces, &req, &Caller::of(caller, at)).await
    }
    .await;
    match checked {
        Ok(Served::There(answer)) => answer,
        Ok(Served::Here(client)) => {
            faces.sessions.end_everywhere(&client.id).await;
            StatusCode::OK.into_response()
        }
        Err(rej) => rej.into_response(),
    }
}
