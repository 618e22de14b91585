//! Policy on every path that lists or reaches a tool, prompt or resource, decided by
//! [`crate::policy`] for the client's identity within the view of its endpoint (one filter: a
//! name the endpoint leaves out is refused like one policy hides), and the audit line of each
//! decision and call. A name the caller may not see is refused the same way whether or not it
//! exists.

use super::{tools, Client, Gateway, View};
use crate::call::Identity;
use crate::call::{Failure, Kind};
use crate::policy::audit::Record;
use crate::policy::{Decision, Target};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

/// What the audit line of a forwarded call says besides its outcome.
pub struct Audited {
    /// The JSON-RPC method.
    pub method: &'static str,
    /// The exposed name or URI.
    pub name: Arc<str>,
    /// The upstream's own name for it.
    pub upstream_name: Arc<str>,
    /// The rule that allowed it.
    pub rule: Option<Arc<str>>,
    /// The arguments, for servers with `audit_arguments = true`.
    pub arguments: Option<Box<RawValue>>,
}

impl Gateway {
    /// Whether `identity` may see `name` in `view` (a list, a search, `/analyze`): the view
    /// shows it and policy allows its aggregate name. The gateway's own tools are always
    /// visible: they only ever show what the caller may see.
    pub fn may_see(&self, view: &View, identity: &Identity, name: &str) -> bool {
        tools::is_own(name)
            || view
                .admitted(name)
                .is_some_and(|n| self.policy().visible(identity, n))
    }

    /// The refusal of a name `client` may not see in `view` (recorded): the same for a hidden
    /// name and an unknown one.
    pub fn hidden(&self, view: &View, client: &Client, method: &str, name: &str) -> Failure {
        let reason = view.absent(name).unwrap_or_else(|| {
            format!("{name:?} is denied by policy: no rule allows it for this caller")
        });
        self.record(
            client,
            method,
            name,
            None,
            "",
            &Decision::Deny {
                rule: None,
                reason: reason.clone(),
            },
        );
        Failure::new(Kind::PolicyDenied, reason).with("name", name)
    }

    /// Whether `client` may call `name` of upstream `server` with `arguments`: the allowing
    /// rule, or the (recorded) refusal. Allowed calls are recorded when they end ([`Self::audit_call`]).
    pub(super) fn authorize(
        &self,
        client: &Client,
        method: &'static str,
        name: &str,
        server: &str,
        arguments: Option<&str>,
    ) -> Result<Option<Arc<str>>, Failure> {
        if !self.policy().active() || tools::is_own(name) {
            return Ok(None);
        }
        let server_name = server;
        let target = Target {
            name,
            server: server_name,
            method,
            arguments,
        };
        match self.policy().decide(&client.identity, &target) {
            Decision::Allow { rule } => Ok(rule),
            d @ Decision::Deny { .. } => {
                self.record(client, method, name, Some(server_name), "", &d);
                let Decision::Deny { rule, reason } = d else {
                    unreachable!()
                };
                let mut f = Failure::new(Kind::PolicyDenied, reason).with("name", name);
                if let Some(r) = rule {
                    f = f.with("rule", &*r);
                }
                Err(f)
            }
        }
    }

    fn record(
        &self,
        client: &Client,
        method: &str,
        name: &str,
        server: Option<&str>,
        upstream_name: &str,
        d: &Decision,
    ) {
        let reason = match d {
            Decision::Deny { reason, .. } => Some(reason.as_str()),
            Decision::Allow { .. } => None,
        };
        self.audit.record(
            &client.identity,
            &Record {
                name: Some(name),
                server,
                upstream_name: Some(upstream_name).filter(|u| !u.is_empty()),
                rule: d.rule().map(|r| &**r),
                reason,
                outcome: (!d.allowed()).then_some("policy_denied"),
                endpoint: client.endpoint.as_deref(),
                ..Record::of(
                    client.face,
                    &client.id,
                    method,
                    if d.allowed() { "allow" } else { "deny" },
                )
            },
        );
    }

    /// The audit line of a list policy filtered: `shown` of `all` items (one line per request).
    pub(super) fn audit_list(&self, client: &Client, method: &str, shown: usize, all: usize) {
        self.audit.record(
            &client.identity,
            &Record {
                outcome: Some("filtered"),
                listed: Some((shown, all - shown)),
                endpoint: client.endpoint.as_deref(),
                ..Record::of(client.face, &client.id, method, "allow")
            },
        );
    }

    /// The audit line of a call that was allowed and has ended.
    pub(super) fn audit_call(
        &self,
        client: &Client,
        server: &str,
        a: &Audited,
        outcome: &str,
        took: Duration,
    ) {
        self.audit.record(
            &client.identity,
            &Record {
                name: Some(&a.name),
                server: Some(server),
                upstream_name: Some(&a.upstream_name),
                rule: a.rule.as_deref(),
                outcome: Some(outcome),
                latency_ms: Some((took.as_secs_f64() * 1e6).round() / 1e3),
                arguments: a.arguments.as_deref(),
                endpoint: client.endpoint.as_deref(),
                ..Record::of(client.face, &client.id, a.method, "allow")
            },
        );
    }
}
