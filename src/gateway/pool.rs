//! The gateway's handle on each configured upstream: the supervised upstream itself and the
//! layer stack every request to it goes through. Started together; one failing does not block
//! the others.

use super::private::Places;
use crate::config::Config;
use crate::layers::Stack;
use crate::observe::Window;
use crate::upstream::{self, Children, Connector, OpenOptions, Tail, Target, Upstream};
use std::ops::Deref;
use std::sync::Arc;

/// What a shared connection declares upstream: the server-to-client requests the gateway can
/// relay to the client whose call caused them. `roots` is per client, so only per-session
/// connections declare it (when their client does).
pub const SHARED_CLIENT_CAPS: &str = r#"{"sampling":{},"elicitation":{}}"#;

/// One upstream and its layer stack.
pub struct Handle {
    /// The upstream: its spec, connection, lists and state.
    pub upstream: Arc<Upstream>,
    /// The layers requests go through (see [`crate::layers`]).
    pub stack: Stack<Target>,
    /// Places for per-session connections (`max_per_session_children`).
    pub per_session: Places,
}

impl Deref for Handle {
    type Target = Upstream;

    fn deref(&self) -> &Upstream {
        &self.upstream
    }
}

/// Every upstream of a configuration, in its order.
pub struct Pool {
    handles: Vec<Handle>,
}

impl Pool {
    /// Handles for every configured server (nothing is started yet), and the events they send.
    pub fn new(config: &Config) -> (Pool, upstream::events::Receiver) {
        let (events, rx) = upstream::events::channel();
        let http = upstream::http_client();
        let child_env: Arc<[(String, String)]> = config.child_env.clone().into();
        let handles = config
            .servers
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let latency = Arc::new(Window::default());
                let resilience = config.resilience(spec);
                let opts = OpenOptions {
                    http: http.clone(),
                    startup: config.gateway.startup_timeout,
                    timeout: resilience.timeouts.for_call("tools/list", None),
                    events: events.clone(),
                    client_caps: SHARED_CLIENT_CAPS.to_string(),
                    owner: None,
                    children: Children {
                        env: child_env.clone(),
                        stderr: Arc::new(Tail::default()),
                        max_message: config.gateway.max_message_bytes,
                    },
                };
                let stack = Stack::new(spec.name.clone(), &resilience, latency.clone(), Connector);
                Handle {
                    upstream: Upstream::new(index, spec.clone(), opts, latency),
                    stack,
                    per_session: Places::new(spec.max_per_session_children),
                }
            })
            .collect();
        (Pool { handles }, rx)
    }

    /// Start every upstream that is not lazy, concurrently, and wait until each is ready or has failed.
    pub async fn start_all(&self) {
        let eager = self.handles.iter().filter(|u| !u.spec.lazy);
        futures::future::join_all(eager.map(|u| u.upstream.ensure_started())).await;
    }

    /// The handles, in configuration order.
    pub fn all(&self) -> &[Handle] {
        &self.handles
    }

    /// Look one up by name.
    pub fn by_name(&self, name: &str) -> Option<&Handle> {
        self.handles.iter().find(|u| &*u.spec.name == name)
    }

    /// Stop every upstream (children get stdin closed, SIGTERM, SIGKILL).
    pub async fn shutdown(&self) {
        futures::future::join_all(self.handles.iter().map(|u| u.upstream.stop())).await;
    }
}
