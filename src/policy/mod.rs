//! Who may see and call what: the `[[policy]]` rules applied to a caller and an exposed name
//! (a tool or prompt name, a resource URI), with a rule's CEL condition over the call.
//!
//! Without rules everything is allowed. With any rule, a name is *visible* to a caller when a
//! rule for one of its roles allows it and none denies it (deny wins); a name no rule allows is
//! denied. A visible name whose allowing rules all carry a condition is listed, and the condition
//! is checked on every call. Every path that reveals or reaches a name asks here.

pub mod audit;
mod condition;

use crate::call::Identity;
use crate::config::PolicyRule;
use std::sync::Arc;

/// The compiled rules.
pub struct Policy {
    rules: Vec<PolicyRule>,
    env: Arc<cel::Env>,
}

/// What a call is: enough for the decision and for a condition to look at.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The exposed name (tool, prompt) or exposed URI (resource).
    pub name: &'a str,
    /// The server that owns it.
    pub server: &'a str,
    /// The JSON-RPC method.
    pub method: &'a str,
    /// The call's `arguments` as raw JSON (a tool's arguments, a prompt's, a completion's).
    pub arguments: Option<&'a str>,
}

/// A decision, and the rule that made it (`None`: no rules, or no rule matched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow {
        /// The allowing rule.
        rule: Option<Arc<str>>,
    },
    /// Denied.
    Deny {
        /// The denying rule (or the rule whose condition failed).
        rule: Option<Arc<str>>,
        /// Why, for the caller and the audit log.
        reason: String,
    },
}

impl Decision {
    /// The rule that made it.
    pub fn rule(&self) -> Option<&Arc<str>> {
        match self {
            Decision::Allow { rule } | Decision::Deny { rule, .. } => rule.as_ref(),
        }
    }

    /// Whether it allows.
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

impl Policy {
    /// The rules of a configuration.
    pub fn new(rules: Vec<PolicyRule>) -> Policy {
        Policy {
            rules,
            env: Arc::new(cel::Env::stdlib()),
        }
    }

    /// Whether there are rules at all (without any, nothing is checked).
    pub fn active(&self) -> bool {
        !self.rules.is_empty()
    }

    fn applicable<'p>(&'p self, id: &'p Identity) -> impl Iterator<Item = &'p PolicyRule> {
        self.rules.iter().filter(|r| r.applies_to(&id.roles))
    }

    /// Whether `name` may be listed to (and named by) the caller.
    pub fn visible(&self, id: &Identity, name: &str) -> bool {
        if !self.active() {
            return true;
        }
        let mut allowed = false;
        for r in self.applicable(id) {
            if r.deny.is_match(name) {
                return false;
            }
            allowed |= r.allow.is_match(name);
        }
        allowed
    }

    /// Whether the caller may make this call.
    pub fn decide(&self, id: &Identity, t: &Target<'_>) -> Decision {
        if !self.active() {
            return Decision::Allow { rule: None };
        }
        let applicable: Vec<&PolicyRule> = self.applicable(id).collect();
        if let Some(r) = applicable.iter().find(|r| r.deny.is_match(t.name)) {
            return Decision::Deny {
                rule: Some(r.name.clone()),
                reason: format!("{:?} is denied by policy rule {:?}", t.name, r.name),
            };
        }
        let mut unmet = None;
        for r in applicable.iter().filter(|r| r.allow.is_match(t.name)) {
            let Some(when) = &r.when else {
                return Decision::Allow {
                    rule: Some(r.name.clone()),
                };
            };
            match condition::holds(&self.env, when, id, t) {
                Ok(true) => {
                    return Decision::Allow {
                        rule: Some(r.name.clone()),
                    }
                }
                Ok(false) => unmet.get_or_insert((r, None)),
                Err(e) => unmet.get_or_insert((r, Some(e))),
            };
        }
        match unmet {
            Some((r, err)) => Decision::Deny {
                rule: Some(r.name.clone()),
                reason: match err {
                    None => format!(
                        "{:?} is denied by policy: this call does not meet the condition of rule {:?} ({})",
                        t.name, r.name, r.when.as_ref().map_or("", |w| &*w.source)
                    ),
                    Some(e) => format!(
                        "{:?} is denied by policy: the condition of rule {:?} could not be evaluated for this call ({e})",
                        t.name, r.name
                    ),
                },
            },
            None => Decision::Deny {
                rule: None,
                reason: format!("{:?} is denied by policy: no rule allows it for this caller", t.name),
            },
        }
    }
}

#[cfg(test)]
mod tests;
