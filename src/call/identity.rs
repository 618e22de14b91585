//! Who is calling: the identity authentication settled on. Policy decides by its roles, the
//! audit log names it, per-client limits count under it, and a server's configured headers may
//! carry its claims upstream (never its token).

use serde_json::{Map, Value};
use std::sync::Arc;

/// How an identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// No authentication configured (`auth.mode = "off"`): everyone is the same anonymous caller.
    Open,
    /// `auth.mode = "optional"` and the request carried no credentials.
    Anonymous,
    /// A configured API key.
    ApiKey,
    /// A verified JWT access token.
    Jwt,
    /// The stdio face: the local user, as configured.
    Local,
}

impl Via {
    /// The name the audit log and `/servers` use.
    pub fn name(self) -> &'static str {
        match self {
            Via::Open => "open",
            Via::Anonymous => "anonymous",
            Via::ApiKey => "api_key",
            Via::Jwt => "jwt",
            Via::Local => "local",
        }
    }
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The subject: a JWT's `sub`, an API key's `id`, the local user, or `anonymous`.
    pub subject: Arc<str>,
    /// Roles, which policy rules name.
    pub roles: Vec<String>,
    /// OAuth scopes (a JWT's `scope`).
    pub scopes: Vec<String>,
    /// Every claim of a JWT (`sub`, `iss`, `email`...); for other identities `sub` alone.
    pub claims: Map<String, Value>,
    /// How it was established.
    pub via: Via,
}

/// The role of a caller nobody authenticated.
pub const ANONYMOUS: &str = "anonymous";

impl Identity {
    /// An identity with `subject` and `roles`, established `via`.
    pub fn new(subject: &str, roles: Vec<String>, via: Via) -> Identity {
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(subject.to_string()));
        Identity {
            subject: Arc::from(subject),
            roles,
            scopes: Vec::new(),
            claims,
            via,
        }
    }

    /// The caller when nothing authenticates it (`via` is [`Via::Open`] or [`Via::Anonymous`]).
    /// Made once each: every request of an open gateway carries one, and shares it.
    pub fn anonymous(via: Via) -> Arc<Identity> {
        static OPEN: std::sync::OnceLock<Arc<Identity>> = std::sync::OnceLock::new();
        static ANON: std::sync::OnceLock<Arc<Identity>> = std::sync::OnceLock::new();
        let make = || Arc::new(Identity::new(ANONYMOUS, vec![ANONYMOUS.to_string()], via));
        match via {
            Via::Open => OPEN.get_or_init(make).clone(),
            _ => ANON
                .get_or_init(|| {
                    Arc::new(Identity::new(
                        ANONYMOUS,
                        vec![ANONYMOUS.to_string()],
                        Via::Anonymous,
                    ))
                })
                .clone(),
        }
    }

    /// Whether a credential established it.
    pub fn authenticated(&self) -> bool {
        matches!(self.via, Via::ApiKey | Via::Jwt | Via::Local)
    }

    /// Whether it holds any of `roles`.
    pub fn has_any_role(&self, roles: &[String]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }

    /// Whether `other` is the same caller (a session or `requestState` is bound to one).
    pub fn same_as(&self, other: &Identity) -> bool {
        self.via == other.via && self.subject == other.subject
    }

    /// The key per-client limits count under: the subject of an authenticated caller.
    pub fn limit_key(&self) -> Option<Arc<str>> {
        self.authenticated()
            .then(|| Arc::from(format!("{}:{}", self.via.name(), self.subject)))
    }

    /// A claim as header text: strings as they are, numbers and booleans printed, lists of
    /// strings joined by `,`; `None` for an absent claim or an object.
    pub fn claim(&self, name: &str) -> Option<String> {
        match self.claims.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Array(items) => {
                let parts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                parts.map(|p| p.join(","))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_render_as_header_text() {
        let mut id = Identity::new("alice", vec!["ops".into()], Via::Jwt);
        id.claims
            .insert("groups".into(), serde_json::json!(["a", "b"]));
        id.claims.insert("n".into(), serde_json::json!(3));
        id.claims.insert("o".into(), serde_json::json!({"x": 1}));
        assert_eq!(id.claim("sub").as_deref(), Some("alice"));
        assert_eq!(id.claim("groups").as_deref(), Some("a,b"));
        assert_eq!(id.claim("n").as_deref(), Some("3"));
        assert_eq!(id.claim("o"), None);
        assert_eq!(id.claim("absent"), None);
        assert_eq!(id.limit_key().as_deref(), Some("jwt:alice"));
        assert!(Identity::anonymous(Via::Open).limit_key().is_none());
        let key = Identity::new("alice", vec![], Via::ApiKey);
        assert!(
            !key.same_as(&id),
            "an API key named like a JWT subject is another caller"
        );
    }
}
