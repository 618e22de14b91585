//! JWT access tokens: signature (a JWKS key, asymmetric algorithms only), issuer, audience
//! (RFC 8707: minted for this gateway), expiry and not-before with the configured leeway; roles
//! from the configured claim, scopes from `scope`. A verified token is remembered until it
//! expires (at most `jwks_refresh`), so a client's next call costs a hash and a lookup.

use super::jwks::Jwks;
use crate::call::{Identity, Via};
use crate::config::JwtSettings;
use dashmap::DashMap;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Algorithms accepted (asymmetric: a JWKS of public keys can only verify these).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Verifies tokens.
pub struct Verifier {
    s: JwtSettings,
    jwks: Jwks,
    /// SHA-256 of a verified token → its identity and until when it may be reused (unix secs).
    verified: DashMap<[u8; 32], (Arc<Identity>, u64)>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether `token` has the shape of a JWT (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && token.len() > 10
}

impl Verifier {
    /// A verifier for `s` (a JWKS file is read now).
    pub fn new(s: &JwtSettings) -> Result<Verifier, String> {
        Ok(Verifier {
            jwks: Jwks::new(s)?,
            s: s.clone(),
            verified: DashMap::new(),
        })
    }

    /// The identity a valid token establishes; why it is not valid otherwise.
    pub async fn verify(&self, token: &str) -> Result<Arc<Identity>, String> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let t = now();
        if let Some(hit) = self.verified.get(&digest) {
            if hit.1 > t {
                return Ok(hit.0.clone());
            }
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| format!("not a valid JWT: {e}"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            ));
        }
        let key = self.jwks.key(header.kid.as_deref(), header.alg).await?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.s.issuer]);
        v.set_audience(&self.s.audience);
        v.leeway = self.s.leeway.as_secs();
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v).map_err(explain)?;
        let claims = data.claims;
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(t);
        let id = Arc::new(self.identity(claims)?);
        self.remember(
            digest,
            id.clone(),
            exp.min(t + self.s.jwks_refresh.as_secs()),
        );
        Ok(id)
    }

    fn identity(&self, claims: Map<String, Value>) -> Result<Identity, String> {
        let subject = ["sub", "client_id", "azp"]
            .iter()
            .find_map(|c| claims.get(*c).and_then(Value::as_str))
            .ok_or("the token has no sub (nor client_id) claim")?
            .to_string();
        let roles = strings(lookup(&claims, &self.s.roles_claim));
        let scopes = strings(claims.get("scope").or_else(|| claims.get("scp")));
        let mut id = Identity::new(&subject, roles, Via::Jwt);
        id.scopes = scopes;
        id.claims = claims;
        Ok(id)
    }

    /// Remember a verified token, bounded by `max_cached_tokens`: when full, expired entries
    /// go first, then everything (a cache miss only costs a signature check). Hand-written:
    /// the bound and the per-entry expiry are all this needs, not a cache crate.
    fn remember(&self, digest: [u8; 32], id: Arc<Identity>, until: u64) {
        if self.s.max_cached_tokens == 0 {
            return;
        }
        if self.verified.len() >= self.s.max_cached_tokens {
            let t = now();
            self.verified.retain(|_, v| v.1 > t);
            if self.verified.len() >= self.s.max_cached_tokens {
                self.verified.clear();
            }
        }
        self.verified.insert(digest, (id, until));
    }
}

/// A claim by name, dots reaching into objects (`realm_access.roles`).
fn lookup<'c>(claims: &'c Map<String, Value>, path: &str) -> Option<&'c Value> {
    let mut parts = path.split('.');
    let mut v = claims.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

/// A list of strings, or a space-separated string, as strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// What the client is told about an invalid token.
fn explain(e: jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "the token has expired".into(),
        K::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        K::InvalidAudience => "the token was not minted for this gateway (aud)".into(),
        K::InvalidIssuer => "the token's issuer is not trusted (iss)".into(),
        K::InvalidSignature => "the token's signature does not verify".into(),
        K::MissingRequiredClaim(c) => format!("the token has no {c} claim"),
        _ => format!("the token is not valid: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_a_list_or_a_string_and_dots_reach_in() {
        let claims: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "realm": {"roles": ["a", "b"]}, "scope": "mcp read"
        }))
        .unwrap();
        assert_eq!(strings(lookup(&claims, "realm.roles")), ["a", "b"]);
        assert_eq!(strings(claims.get("scope")), ["mcp", "read"]);
        assert!(strings(lookup(&claims, "absent.x")).is_empty());
        assert!(looks_like_jwt("aaaa.bbbb.cccc"));
        assert!(!looks_like_jwt("sk-0123456789abcdef"));
    }
}
