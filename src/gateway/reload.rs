//! A new configuration applied to the running gateway as a diff: upstreams that reach their
//! server the same way keep their connection, child process, per-session connections and (with
//! unchanged layer settings) their breaker; changed ones start anew and are swapped in once
//! they are ready; the ones no longer configured drain (calls in flight finish, up to
//! `gateway.drain_timeout`) and stop. Names, rules, layers, limits, endpoints and policy swap in
//! one store, and clients are told of each list that changed. Only the caller knows where the
//! configuration came from; [`Status`] keeps how the last attempt went.

use super::{pool, Gateway, Handle, Notice, Pool};
use crate::config::Config;
use crate::policy::Policy;
use crate::upstream::ListKind;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Reload attempts, by `result` (`applied`, `rejected`).
pub const RELOADS: &str = "switchboard_config_reloads_total";

/// How the configuration was last loaded (`/servers`' `config`).
#[derive(Default)]
pub struct Status(parking_lot::Mutex<Loaded>);

/// What [`Status`] shows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Loaded {
    /// When the running configuration was loaded (seconds since the epoch).
    pub loaded_at: f64,
    /// Why the last attempt to load a new one failed, while it is the last attempt.
    pub last_error: Option<String>,
    /// Reloads applied since start.
    pub reloads: u64,
}

impl Status {
    /// Loaded now.
    pub fn new() -> Status {
        let s = Status::default();
        s.0.lock().loaded_at = crate::observe::unix_seconds();
        s
    }

    /// What it shows now.
    pub fn get(&self) -> Loaded {
        self.0.lock().clone()
    }

    /// A reload was applied.
    pub fn applied(&self) {
        let mut s = self.0.lock();
        s.loaded_at = crate::observe::unix_seconds();
        s.last_error = None;
        s.reloads += 1;
        metrics::counter!(RELOADS, "result" => "applied").increment(1);
    }

    /// A reload was refused: the running configuration stays.
    pub fn rejected(&self, why: &str) {
        tracing::error!(error = %why, "configuration reload refused; the running configuration stays");
        self.0.lock().last_error = Some(why.to_string());
        metrics::counter!(RELOADS, "result" => "rejected").increment(1);
    }
}

/// What a reload did, server by server.
#[derive(Debug, Default, Serialize)]
pub struct Applied {
    /// New servers.
    pub added: Vec<String>,
    /// Servers started anew because how they are reached changed.
    pub replaced: Vec<String>,
    /// Servers no longer configured (drained, then stopped).
    pub removed: Vec<String>,
    /// Servers whose upstream (connection, children, sessions) was kept.
    pub kept: Vec<String>,
    /// Settings that changed but only take effect after a restart.
    pub need_restart: Vec<&'static str>,
}

impl Gateway {
    /// Apply `config` in place of the running one (see the module's documentation). `Err`: it
    /// cannot run (an unprefixed name collision among the new servers); nothing changed then.
    pub async fn reload(&self, config: Config) -> Result<Applied, String> {
        let old = self.views.load_full();
        let next = old.pool.next(&config);
        pool::start(&next.fresh).await;
        let (config, pool) = (Arc::new(config), Arc::new(next.pool));
        let policy = Arc::new(Policy::new(config.policy.clone()));
        let before = {
            let _one_at_a_time = self.rebuilding.lock();
            let (views, collisions) = self.build(&config, &pool, &policy);
            let fatal = super::fatal(&collisions);
            if !fatal.is_empty() {
                drop(_one_at_a_time);
                pool::stop(&next.fresh).await;
                return Err(format!("{}: {}", config.source, fatal.join("; ")));
            }
            self.views.swap(Arc::new(views))
        };
        self.resubscribe(&next.fresh).await;
        let applied = describe(&old.config, &config, &next.fresh, &next.retired, &pool);
        self.tell_changes(&before);
        drop((before, old));
        let deadline = config.gateway.drain_timeout;
        tokio::spawn(drain(next.retired, deadline));
        tracing::info!(
            added = ?applied.added,
            replaced = ?applied.replaced,
            removed = ?applied.removed,
            kept = applied.kept.len(),
            "configuration reloaded"
        );
        for setting in &applied.need_restart {
            tracing::warn!(
                setting,
                "changed in the configuration; takes effect after a restart"
            );
        }
        Ok(applied)
    }

    /// Tell clients of every list that reads differently in some view than it did `before`.
    fn tell_changes(&self, before: &super::Views) {
        let now = self.views.load();
        for kind in [ListKind::Tools, ListKind::Prompts, ListKind::Resources] {
            let alike = |a: &super::View, b: Option<&Arc<super::View>>| {
                b.is_some_and(|b| a.catalog.lists_alike(&b.catalog, kind))
                    && (kind != ListKind::Resources
                        || b.is_some_and(|b| {
                            a.catalog.lists_alike(&b.catalog, ListKind::Templates)
                        }))
            };
            let same = alike(&now.whole, Some(&before.whole))
                && now.named.iter().all(|v| {
                    let name = v.endpoint.as_ref().map(|e| &*e.name);
                    alike(v, before.of(name))
                })
                && now.named.len() == before.named.len();
            if !same {
                self.tell(Notice::ListChanged(kind));
            }
        }
    }

    /// Subscriptions clients hold on servers that were replaced are asked of the new upstream.
    async fn resubscribe(&self, fresh: &[Arc<Handle>]) {
        for up in fresh {
            for original in self.subscriptions.held_on(&up.spec.name) {
                if let Err(e) = super::subscriptions::subscribe(up, &original).await {
                    tracing::warn!(server = %up.spec.name, uri = original, error = %e, "could not renew a subscription after a reload");
                }
            }
        }
    }
}

/// The reload's summary: what happened to each server, and what waits for a restart.
fn describe(
    old: &Config,
    new: &Config,
    fresh: &[Arc<Handle>],
    retired: &[Arc<Handle>],
    pool: &Pool,
) -> Applied {
    let named = |hs: &[Arc<Handle>]| -> Vec<String> {
        hs.iter().map(|h| h.spec.name.to_string()).collect()
    };
    let (fresh_names, retired_names) = (named(fresh), named(retired));
    let mut a = Applied::default();
    for n in &fresh_names {
        match retired_names.contains(n) {
            true => a.replaced.push(n.clone()),
            false => a.added.push(n.clone()),
        }
    }
    a.removed = retired_names
        .into_iter()
        .filter(|n| !fresh_names.contains(n))
        .collect();
    a.kept = pool
        .all()
        .iter()
        .map(|h| h.spec.name.to_string())
        .filter(|n| !fresh_names.contains(n))
        .collect();
    let (g, h) = (&old.gateway, &new.gateway);
    let restart = [
        (g.listen != h.listen, "gateway.listen"),
        (
            g.max_connections != h.max_connections,
            "gateway.max_connections",
        ),
        (
            g.header_read_timeout != h.header_read_timeout,
            "gateway.header_read_timeout",
        ),
        (g.state_dir != h.state_dir, "gateway.state_dir"),
        (g.watch != h.watch, "gateway.watch"),
        (
            format!("{:?}", old.audit) != format!("{:?}", new.audit),
            "audit",
        ),
        (old.telemetry != new.telemetry, "telemetry"),
        (old.cluster != new.cluster, "cluster"),
        (
            old.router.semantic != new.router.semantic,
            "router.semantic",
        ),
    ];
    a.need_restart = restart
        .into_iter()
        .filter(|(c, _)| *c)
        .map(|(_, s)| s)
        .collect();
    a
}

/// Let the calls still using `retired` upstreams finish (up to `deadline`), then close what
/// clients kept of them and stop them.
async fn drain(retired: Vec<Arc<Handle>>, deadline: Duration) {
    let until = tokio::time::Instant::now() + deadline;
    for up in retired {
        // Each call in flight holds the handle (through its route or its view).
        while Arc::strong_count(&up) > 1 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if Arc::strong_count(&up) > 1 {
            tracing::warn!(server = %up.spec.name, "calls still in flight at gateway.drain_timeout: stopping the old upstream anyway");
        }
        for conn in up.per_session.close_all(up.serial) {
            conn.shutdown().await;
        }
        up.upstream.stop().await;
        tracing::info!(server = %up.spec.name, "old upstream drained and stopped");
    }
}
