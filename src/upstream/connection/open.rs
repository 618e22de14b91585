//! Opening a connection: start the process a network server needs, reach the upstream over its
//! transport, then the handshake (probe for 2026-07-28, else `initialize`).

use super::inbound::route_inbound;
use super::stateless::{listen, PROBE_WAIT};
use super::{Connection, Link, OpenOptions};
use crate::call::{Failure, Kind};
use crate::config::{Launch, Protocol, ServerSpec, Transport};
use crate::upstream::http::HttpLink;
use crate::upstream::sse::SseLink;
use crate::upstream::stdio::StdioLink;
use crate::upstream::{handshake, process, stderr, Children, InitInfo, Peer};
use arc_swap::ArcSwap;
use dashmap::DashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Child;

/// How long to wait between attempts to reach a server the gateway just started.
const NOT_LISTENING_YET: Duration = Duration::from_millis(200);

impl Connection {
    /// Start (or reach) the upstream and run the handshake.
    pub async fn open(spec: &ServerSpec, opts: OpenOptions) -> Result<Arc<Connection>, Failure> {
        let server = spec.name.clone();
        let peer = Peer::new();
        let launched = match (&spec.launch, &spec.transport) {
            (Some(launch), Transport::StreamableHttp(_) | Transport::Sse(_)) => {
                Some(launch_network_server(launch, &server, &opts.children)?)
            }
            _ => None,
        };
        let link = connect(spec, &opts, &peer, launched.is_some()).await?;
        let conn = Arc::new(Connection {
            server,
            peer,
            link,
            init: ArcSwap::from_pointee(InitInfo::default()),
            callers: DashMap::new(),
            client_caps: opts.client_caps,
            owner: opts.owner,
            generation: AtomicU64::new(0),
            reinit: tokio::sync::Mutex::new(()),
            launched: tokio::sync::Mutex::new(launched),
            timeout: opts.timeout,
        });
        let (weak, events) = (Arc::downgrade(&conn), opts.events);
        conn.peer
            .on_inbound(Box::new(move |msg| route_inbound(&weak, &events, msg)));
        let info =
            match tokio::time::timeout(opts.startup, conn.handshake(spec, opts.startup)).await {
                Ok(Ok(info)) => info,
                Ok(Err(e)) => {
                    conn.shutdown().await;
                    return Err(e);
                }
                Err(_) => {
                    conn.shutdown().await;
                    return Err(Failure::timeout(opts.startup));
                }
            };
        let stateless = info.stateless;
        conn.adopt(info);
        if stateless {
            tokio::spawn(listen(Arc::downgrade(&conn)));
        } else if let Link::Http(h) = &conn.link {
            // Open before the connection is handed out: a server that asks the client something
            // outside the call's own stream sends it here, and must find it connected.
            if let Some(first) = h.open_standalone().await {
                tokio::spawn(h.clone().listen(first));
            }
        }
        Ok(conn)
    }

    /// Probe with `server/discover` (stdio and streamable HTTP: 2026-07-28 has no HTTP+SSE
    /// transport), else `initialize`. A server the gateway just started needs a moment to
    /// listen: refused connections are retried until the startup deadline (the caller's).
    async fn handshake(&self, spec: &ServerSpec, startup: Duration) -> Result<InitInfo, Failure> {
        let probe =
            spec.protocol != Protocol::Initialize && !matches!(spec.transport, Transport::Sse(_));
        let launched_http = matches!(spec.transport, Transport::StreamableHttp(_))
            && self.launched.lock().await.is_some();
        loop {
            let attempt = async {
                if !probe {
                    return handshake::initialize(self, &self.client_caps).await;
                }
                self.negotiate(spec.protocol, startup).await
            };
            match attempt.await {
                Err(e) if launched_http && e.kind() == Kind::UpstreamTransport => {
                    tracing::debug!(server = %self.server, error = %e, "launched upstream not listening yet");
                    tokio::time::sleep(NOT_LISTENING_YET).await;
                }
                other => return other,
            }
        }
    }

    /// Which generation the upstream speaks. `server/discover` first; an upstream silent for
    /// [`PROBE_WAIT`] is asked `initialize` meanwhile (servers of that generation may ignore an
    /// unknown request), but the probe lives on until the startup deadline: a slow 2026-07-28
    /// server's late answer still wins, and so does a refused `initialize`'s probe answer.
    async fn negotiate(&self, protocol: Protocol, startup: Duration) -> Result<InitInfo, Failure> {
        let only_stateless =
            || Failure::protocol("protocol = \"2026-07-28\" but server/discover did not offer it");
        let discover = handshake::discover(self, startup);
        tokio::pin!(discover);
        tokio::select! {
            answered = &mut discover => return match answered? {
                Some(info) => Ok(info),
                None if protocol == Protocol::Stateless => Err(only_stateless()),
                None => handshake::initialize(self, &self.client_caps).await,
            },
            _ = tokio::time::sleep(PROBE_WAIT) => {}
        }
        if protocol == Protocol::Stateless {
            return discover.await?.ok_or_else(only_stateless);
        }
        tracing::debug!(server = %self.server, "no server/discover answer yet; asking initialize meanwhile");
        let initialize = handshake::initialize(self, &self.client_caps);
        tokio::pin!(initialize);
        tokio::select! {
            answered = &mut discover => match answered {
                Ok(Some(info)) => Ok(info),
                _ => initialize.await,
            },
            initialized = &mut initialize => match initialized {
                Ok(info) => Ok(info),
                // Refused: perhaps a 2026-07-28 server that has not answered the probe yet.
                Err(refused) => match discover.await {
                    Ok(Some(info)) => Ok(info),
                    _ => Err(refused),
                },
            },
        }
    }
}

/// Start the process a network upstream needs (seed-004 registry servers); its stderr is logged.
fn launch_network_server(
    launch: &Launch,
    server: &Arc<str>,
    children: &Children,
) -> Result<Child, Failure> {
    let mut child = process::spawn(launch, false, &children.env)
        .map_err(|e| Failure::unavailable(format!("cannot start {:?}: {e}", launch.program)))?;
    if let Some(errors) = child.stderr.take() {
        tokio::spawn(stderr::log(errors, server.clone(), children.stderr.clone()));
    }
    Ok(child)
}

/// Reach the upstream over its transport.
async fn connect(
    spec: &ServerSpec,
    opts: &OpenOptions,
    peer: &Arc<Peer>,
    launched: bool,
) -> Result<Link, Failure> {
    let server = spec.name.clone();
    match &spec.transport {
        Transport::Stdio(launch) => Ok(Link::Stdio(StdioLink::spawn(
            server,
            launch,
            peer.clone(),
            &opts.children,
        )?)),
        Transport::StreamableHttp(target) => Ok(Link::Http(Arc::new(HttpLink::new(
            opts.http.clone(),
            target,
            peer.clone(),
            server,
        )))),
        Transport::Sse(target) => {
            // A launched server needs a moment to listen: retry until the startup deadline.
            let deadline = tokio::time::Instant::now() + opts.startup;
            loop {
                let attempt = SseLink::connect(
                    opts.http.clone(),
                    target,
                    peer.clone(),
                    server.clone(),
                    opts.startup,
                );
                match attempt.await {
                    Ok(l) => return Ok(Link::Sse(l)),
                    Err(e) if !launched || tokio::time::Instant::now() >= deadline => {
                        return Err(e)
                    }
                    Err(_) => tokio::time::sleep(NOT_LISTENING_YET).await,
                }
            }
        }
    }
}
