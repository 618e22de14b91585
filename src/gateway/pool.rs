//! The gateway's handle on each configured upstream: the supervised upstream itself and the
//! layer stack every request to it goes through. Started together; one failing does not block
//! the others. A reload makes the next pool from the running one ([`Pool::next`]): what did not
//! change is carried over, connection and breaker included.

use super::private::Places;
use crate::config::{Config, Resilience, ServerSpec};
use crate::layers::Stack;
use crate::observe::Window;
use crate::upstream::{self, Children, Connector, OpenOptions, Tail, Target, Upstream};
use std::ops::Deref;
use std::sync::Arc;

/// What a shared connection declares upstream: the server-to-client requests the gateway can
/// relay to the client whose call caused them. `roots` is per client, so only per-session
/// connections declare it (when their client does).
pub const SHARED_CLIENT_CAPS: &str = r#"{"sampling":{},"elicitation":{}}"#;

/// One upstream and its layer stack, as one configuration has it.
pub struct Handle {
    /// Position in the pool (and in the configuration).
    pub index: usize,
    /// As configured now (the upstream keeps the spec it was started from, which reaches the
    /// server the same way: [`ServerSpec::connects_like`]).
    pub spec: ServerSpec,
    /// The upstream: its connection, lists and state.
    pub upstream: Arc<Upstream>,
    /// The layers requests go through (see [`crate::layers`]).
    pub stack: Stack<Target>,
    /// Its layers' settings, the gateway's defaults applied.
    resilience: Resilience,
    /// Places for per-session connections (`max_per_session_children`).
    pub per_session: Arc<Places>,
}

impl Deref for Handle {
    type Target = Upstream;

    fn deref(&self) -> &Upstream {
        &self.upstream
    }
}

/// What one upstream gets from the gateway, the same for all of them.
#[derive(Clone)]
struct Shared {
    http: reqwest::Client,
    events: upstream::events::Events,
}

/// Every upstream of a configuration, in its order.
pub struct Pool {
    handles: Vec<Arc<Handle>>,
    shared: Shared,
    /// The options upstreams were opened with, but for the parts each server sets itself:
    /// an upstream is kept by a reload only if these are unchanged too.
    children: (std::time::Duration, Vec<(String, String)>, usize),
}

/// The pool a reload makes, and what it changes.
pub struct Next {
    /// The new pool: kept upstreams and new ones (not started yet).
    pub pool: Pool,
    /// Upstreams of the new pool that are new (added, or replacing a changed one).
    pub fresh: Vec<Arc<Handle>>,
    /// Upstreams of the old pool that are not in the new one (removed, or replaced): they
    /// drain and stop once the new pool is serving.
    pub retired: Vec<Arc<Handle>>,
}

impl Pool {
    /// Handles for every configured server (nothing is started yet), and the events they send.
    pub fn new(config: &Config) -> (Pool, upstream::events::Receiver) {
        let (events, rx) = upstream::events::channel();
        let shared = Shared {
            http: upstream::http_client(),
            events,
        };
        let handles = config
            .servers
            .iter()
            .enumerate()
            .map(|(index, spec)| Arc::new(handle(&shared, config, index, spec)))
            .collect();
        (
            Pool {
                handles,
                shared,
                children: children(config),
            },
            rx,
        )
    }

    /// The pool of `config`, made from this one: a server that [connects
    /// like](ServerSpec::connects_like) its running self keeps its upstream (connection, child
    /// process, per-session places, and with unchanged layer settings its stack and breaker);
    /// every other one is new.
    pub fn next(&self, config: &Config) -> Next {
        let same_children = self.children == children(config);
        let mut fresh = Vec::new();
        let handles: Vec<Arc<Handle>> = config
            .servers
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let old = self
                    .by_name(&spec.name)
                    .filter(|o| same_children && o.upstream.spec.connects_like(spec));
                let Some(old) = old else {
                    let h = Arc::new(handle(&self.shared, config, index, spec));
                    fresh.push(h.clone());
                    return h;
                };
                let resilience = config.resilience(spec);
                let stack = match resilience == old.resilience {
                    true => old.stack.clone(),
                    false => Stack::new(
                        spec.name.clone(),
                        &resilience,
                        old.upstream.latency().clone(),
                        Connector,
                    ),
                };
                let per_session =
                    match spec.max_per_session_children == old.spec.max_per_session_children {
                        true => old.per_session.clone(),
                        false => Arc::new(Places::new(spec.max_per_session_children)),
                    };
                Arc::new(Handle {
                    index,
                    spec: spec.clone(),
                    upstream: old.upstream.clone(),
                    stack,
                    resilience,
                    per_session,
                })
            })
            .collect();
        let retired = self
            .handles
            .iter()
            .filter(|o| {
                !handles
                    .iter()
                    .any(|h| Arc::ptr_eq(&h.upstream, &o.upstream))
            })
            .cloned()
            .collect();
        Next {
            pool: Pool {
                handles,
                shared: self.shared.clone(),
                children: children(config),
            },
            fresh,
            retired,
        }
    }

    /// Start every upstream that is not lazy, concurrently, and wait until each is ready or has failed.
    pub async fn start_all(&self) {
        start(&self.handles).await;
    }

    /// The handles, in configuration order.
    pub fn all(&self) -> &[Arc<Handle>] {
        &self.handles
    }

    /// Look one up by name.
    pub fn by_name(&self, name: &str) -> Option<&Arc<Handle>> {
        self.handles.iter().find(|u| &*u.spec.name == name)
    }

    /// Stop every upstream (children get stdin closed, SIGTERM, SIGKILL).
    pub async fn shutdown(&self) {
        stop(&self.handles).await;
    }
}

/// Start those of `handles` that are not lazy, concurrently; wait until each is ready or has failed.
pub async fn start(handles: &[Arc<Handle>]) {
    let eager = handles.iter().filter(|u| !u.spec.lazy);
    futures::future::join_all(eager.map(|u| u.upstream.ensure_started())).await;
}

/// Stop `handles`' upstreams.
pub async fn stop(handles: &[Arc<Handle>]) {
    futures::future::join_all(handles.iter().map(|u| u.upstream.stop())).await;
}

/// The gateway-wide parts of how upstreams are opened.
fn children(config: &Config) -> (std::time::Duration, Vec<(String, String)>, usize) {
    let g = &config.gateway;
    (
        g.startup_timeout,
        config.child_env.clone(),
        g.max_message_bytes,
    )
}

/// A new handle for `spec`, upstream `index` of `config`.
fn handle(shared: &Shared, config: &Config, index: usize, spec: &ServerSpec) -> Handle {
    let latency = Arc::new(Window::default());
    let resilience = config.resilience(spec);
    let opts = OpenOptions {
        http: shared.http.clone(),
        startup: config.gateway.startup_timeout,
        timeout: resilience.timeouts.for_call("tools/list", None),
        events: shared.events.clone(),
        client_caps: SHARED_CLIENT_CAPS.to_string(),
        owner: None,
        children: Children {
            env: config.child_env.clone().into(),
            stderr: Arc::new(Tail::default()),
            max_message: config.gateway.max_message_bytes,
        },
    };
    let stack = Stack::new(spec.name.clone(), &resilience, latency.clone(), Connector);
    Handle {
        index,
        spec: spec.clone(),
        upstream: Upstream::new(spec.clone(), opts, latency),
        stack,
        resilience,
        per_session: Arc::new(Places::new(spec.max_per_session_children)),
    }
}
