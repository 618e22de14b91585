//! Authentication on every HTTP face and admin endpoint: API keys and JWT access tokens, the
//! OAuth 2.1 resource-server behaviour MCP specifies (RFC 9728 metadata, `WWW-Authenticate`
//! challenges, 401 vs 403 `insufficient_scope`), and the identity each request carries on to the
//! faces (an `Arc<Identity>` request extension). What an identity may see and call is
//! [`crate::policy`]'s.

mod jwks;
mod jwt;
mod keys;
mod layer;
mod metadata;

pub use layer::{admin, faces};
pub use metadata::routes as metadata_routes;

use crate::call::{Failure, Identity, Kind, Via};
use crate::config::{AuthMode, AuthSettings, Config};
use crate::policy::audit::{Audit, Record};
use axum::http::{header, HeaderMap};
use std::sync::Arc;

/// The authentication in force: replaced whole when a reload changes `[auth]`, so each request
/// is checked against one generation of keys and settings.
pub type Current = Arc<arc_swap::ArcSwap<Auth>>;

/// The authenticator of one gateway.
pub struct Auth {
    /// As configured.
    pub settings: AuthSettings,
    jwt: Option<jwt::Verifier>,
    audit: Arc<Audit>,
}

/// Why a request is refused before it reaches a face, and what the challenge says.
#[derive(Debug)]
pub struct Refusal {
    /// 401 (`unauthenticated`) or 403 (`insufficient_scope`, `policy_denied`).
    pub failure: Failure,
    /// `error="..."` of the challenge, when there is one (`invalid_token`, `insufficient_scope`).
    pub error: Option<&'static str>,
}

impl Refusal {
    fn missing(message: &str) -> Refusal {
        Refusal {
            failure: Failure::new(Kind::Unauthenticated, message),
            error: None,
        }
    }

    fn invalid(message: String) -> Refusal {
        Refusal {
            failure: Failure::new(Kind::Unauthenticated, message),
            error: Some("invalid_token"),
        }
    }
}

/// A non-loopback listener without an explicit `auth` setting: the reason not to start.
pub fn exposure(config: &Config, listen: std::net::SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback() && !config.auth.explicit).then(|| {
        format!(
            "refusing to listen on {listen} without authentication: anyone who reaches it could list and call every tool. \
             Add an [auth] table (see README \"Authentication and policy\"), or write auth = \"off\" in {} to serve it open on purpose",
            config.source
        )
    })
}

impl Auth {
    /// The authenticator for `settings` (a JWKS file is read now).
    pub fn new(settings: &AuthSettings, audit: Arc<Audit>) -> Result<Auth, String> {
        let jwt = match (&settings.jwt, settings.mode) {
            (Some(j), m) if m != AuthMode::Off => Some(jwt::Verifier::new(j)?),
            _ => None,
        };
        Ok(Auth {
            settings: settings.clone(),
            jwt,
            audit,
        })
    }

    /// The stdio face's caller: the local user, as configured.
    pub fn local(&self) -> Arc<Identity> {
        let s = &self.settings;
        Arc::new(Identity::new(
            &s.stdio_subject,
            s.stdio_roles.clone(),
            Via::Local,
        ))
    }

    /// Who sent a request with these headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Identity>, Refusal> {
        let mode = self.settings.mode;
        if mode == AuthMode::Off {
            return Ok(Identity::anonymous(Via::Open));
        }
        let Some(presented) = credentials(headers) else {
            return match mode {
                AuthMode::Optional => Ok(Identity::anonymous(Via::Anonymous)),
                _ => Err(Refusal::missing(
                    "this gateway needs credentials: send Authorization: Bearer <token> (or X-API-Key)",
                )),
            };
        };
        if let Some(k) = keys::find(&self.settings.api_keys, presented) {
            return Ok(Arc::new(Identity::new(&k.id, k.roles.clone(), Via::ApiKey)));
        }
        let Some(verifier) = self.jwt.as_ref().filter(|_| jwt::looks_like_jwt(presented)) else {
            return Err(Refusal::invalid(
                "invalid credentials: not a known API key".into(),
            ));
        };
        let id = verifier.verify(presented).await.map_err(Refusal::invalid)?;
        let missing: Vec<&String> = (self.settings.required_scopes.iter())
            .filter(|s| !id.scopes.contains(s))
            .collect();
        if !missing.is_empty() {
            return Err(Refusal {
                failure: Failure::new(
                    Kind::InsufficientScope,
                    format!("the token lacks the scope this gateway requires: {missing:?}"),
                ),
                error: Some("insufficient_scope"),
            });
        }
        Ok(id)
    }

    /// Record a refusal in the audit log.
    fn audit_refusal(&self, r: &Refusal, face: &str, method: &str) {
        let who = Identity::anonymous(Via::Anonymous);
        self.audit.record(
            &who,
            &Record {
                reason: Some(r.failure.message()),
                outcome: Some(r.failure.kind().reason()),
                ..Record::of(face, "", method, "deny")
            },
        );
    }
}

/// The presented credential: `Authorization: Bearer X`, else `X-API-Key: X`.
fn credentials(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, rest) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim())
            .filter(|t| !t.is_empty());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}
