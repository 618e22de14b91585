//! `[auth]`: who may connect (API keys, JWT access tokens, the stdio face's local user), and
//! what the OAuth protected-resource metadata says.

use super::expand::Context;
use super::ConfigError;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Nobody authenticates: every caller is `anonymous` (the default on a loopback address).
    #[default]
    Off,
    /// Every request to a face or an admin endpoint needs valid credentials.
    Required,
    /// Credentials are checked when given; a request without any is `anonymous`.
    Optional,
}

/// `auth` as written: a table, or the string `"off"` that acknowledges an open gateway on a
/// non-loopback address.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Written {
    Word(String),
    Table(Box<AuthSpec>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthSpec {
    mode: Option<Mode>,
    #[serde(default = "admin_default")]
    admin_roles: Vec<String>,
    #[serde(default)]
    required_scopes: Vec<String>,
    #[serde(default)]
    api_keys: Vec<ApiKeySpec>,
    jwt: Option<JwtSpec>,
    #[serde(default)]
    metadata: MetadataSpec,
    #[serde(default)]
    stdio: StdioSpec,
}

fn admin_default() -> Vec<String> {
    vec!["admin".into()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeySpec {
    id: String,
    sha256: Option<String>,
    env: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtSpec {
    issuer: String,
    audience: Option<OneOrMany>,
    jwks: String,
    #[serde(default = "roles_claim_default")]
    roles_claim: String,
    #[serde(default, with = "humantime_serde")]
    leeway: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    jwks_refresh: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    jwks_min_refetch: Option<Duration>,
    max_cached_tokens: Option<usize>,
}

fn roles_claim_default() -> String {
    "roles".into()
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataSpec {
    resource: Option<String>,
    #[serde(default)]
    authorization_servers: Vec<String>,
    #[serde(default)]
    scopes_supported: Vec<String>,
    resource_documentation: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StdioSpec {
    subject: Option<String>,
    roles: Option<Vec<String>>,
}

/// Authentication, parsed.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// How requests are authenticated.
    pub mode: Mode,
    /// Whether the file says so (`auth = "off"` or an `[auth]` table): a non-loopback listener
    /// without it refuses to start.
    pub explicit: bool,
    /// Roles that may use the admin endpoints (`/servers`, `/metrics`, `/analyze`, `/route`, `/`).
    pub admin_roles: Vec<String>,
    /// Scopes every JWT must carry (403 `insufficient_scope` otherwise).
    pub required_scopes: Vec<String>,
    /// API keys.
    pub api_keys: Vec<ApiKey>,
    /// JWT access tokens.
    pub jwt: Option<JwtSettings>,
    /// What `/.well-known/oauth-protected-resource` says.
    pub metadata: Metadata,
    /// Who the stdio face's caller is.
    pub stdio_subject: String,
    /// Its roles.
    pub stdio_roles: Vec<String>,
}

/// One API key: its id, the SHA-256 of the key, its roles.
#[derive(Clone)]
pub struct ApiKey {
    /// The identity's subject.
    pub id: String,
    /// SHA-256 of the key (the key itself is never kept).
    pub digest: [u8; 32],
    /// Roles.
    pub roles: Vec<String>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// Where the signing keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// A JWKS document on disk (read at start).
    File(PathBuf),
    /// A JWKS URL (fetched, cached, refetched on an unknown `kid`).
    Url(Url),
}

/// JWT verification settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Required `iss`.
    pub issuer: String,
    /// Accepted `aud` values (RFC 8707: this gateway's resource URL).
    pub audience: Vec<String>,
    /// Signing keys.
    pub jwks: JwksSource,
    /// The claim holding roles (a list, or a space-separated string); dots reach into objects.
    pub roles_claim: String,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// How long fetched keys are used before they are fetched again.
    pub jwks_refresh: Duration,
    /// The least time between two fetches caused by an unknown `kid`.
    pub jwks_min_refetch: Duration,
    /// Verified tokens remembered (so a repeated token is not verified again), at most.
    pub max_cached_tokens: usize,
}

/// RFC 9728 protected-resource metadata.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// `resource`; when absent, the first JWT audience, else the URL the request came to.
    pub resource: Option<String>,
    /// `authorization_servers`.
    pub authorization_servers: Vec<String>,
    /// `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// `resource_documentation`.
    pub resource_documentation: Option<String>,
}

impl Written {
    pub(super) fn build(self, file: &str, ctx: &Context) -> Result<AuthSettings, ConfigError> {
        match self {
            Written::Word(w) if w == "off" => Ok(AuthSettings {
                explicit: true,
                ..AuthSettings::open()
            }),
            Written::Word(w) => Err(ConfigError::invalid(
                file,
                "auth",
                format!("{w:?}: write auth = \"off\", or an [auth] table"),
            )),
            Written::Table(t) => t.build(file, ctx),
        }
    }
}

impl AuthSettings {
    /// No authentication (no `[auth]` in the file).
    pub fn open() -> AuthSettings {
        let stdio = StdioSpec::default();
        AuthSettings {
            admin_roles: admin_default(),
            stdio_subject: stdio.subject(),
            stdio_roles: stdio.roles(),
            ..AuthSettings::default()
        }
    }
}

impl StdioSpec {
    fn subject(&self) -> String {
        self.subject
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "local".into())
    }

    fn roles(&self) -> Vec<String> {
        self.roles.clone().unwrap_or_else(|| vec!["local".into()])
    }
}

impl AuthSpec {
    fn build(self, file: &str, ctx: &Context) -> Result<AuthSettings, ConfigError> {
        let bad = |path: &str, m: String| ConfigError::invalid(file, path, m);
        let mut api_keys = Vec::new();
        for (i, k) in self.api_keys.iter().enumerate() {
            api_keys.push(k.build(file, &format!("auth.api_keys[{i}]"), ctx)?);
        }
        let jwt = match self.jwt {
            Some(j) => Some(j.build(file, ctx, self.metadata.resource.as_deref())?),
            None => None,
        };
        // Credentials to check: required unless said otherwise; none (only `[auth.stdio]`, say):
        // off, and not an acknowledgement of an open gateway either.
        let credentials = !api_keys.is_empty() || jwt.is_some();
        let explicit = self.mode.is_some() || credentials;
        let mode = self.mode.unwrap_or(if credentials {
            Mode::Required
        } else {
            Mode::Off
        });
        if mode != Mode::Off && api_keys.is_empty() && jwt.is_none() {
            return Err(bad(
                "auth",
                format!("mode {mode:?} needs [[auth.api_keys]] or [auth.jwt] to check credentials against").to_lowercase(),
            ));
        }
        let m = self.metadata;
        let authorization_servers = if m.authorization_servers.is_empty() {
            jwt.iter().map(|j| j.issuer.clone()).collect()
        } else {
            m.authorization_servers
        };
        let resource = match m.resource {
            Some(r) => Some(ctx.expand(&r, file, "auth.metadata.resource")?),
            None => jwt.as_ref().and_then(|j| j.audience.first().cloned()),
        };
        Ok(AuthSettings {
            mode,
            explicit,
            admin_roles: self.admin_roles,
            required_scopes: self.required_scopes,
            api_keys,
            jwt,
            metadata: Metadata {
                resource,
                authorization_servers,
                scopes_supported: m.scopes_supported,
                resource_documentation: m.resource_documentation,
            },
            stdio_subject: self.stdio.subject(),
            stdio_roles: self.stdio.roles(),
        })
    }
}

impl ApiKeySpec {
    fn build(&self, file: &str, path: &str, ctx: &Context) -> Result<ApiKey, ConfigError> {
        let digest = match (&self.sha256, &self.env) {
            (Some(hex), None) => parse_digest(hex)
                .ok_or_else(|| ConfigError::invalid(file, &format!("{path}.sha256"), "must be 64 hex digits (the SHA-256 of the key)"))?,
            (None, Some(var)) => {
                let key = ctx.expand(&format!("${{{var}}}"), file, &format!("{path}.env"))?;
                if key.len() < 16 {
                    return Err(ConfigError::invalid(file, &format!("{path}.env"), format!("the key in {var} is shorter than 16 characters")));
                }
                Sha256::digest(key.as_bytes()).into()
            }
            _ => return Err(ConfigError::invalid(file, path, "give exactly one of sha256 (the key's SHA-256 in hex) or env (a variable holding the key)")),
        };
        if self.id.trim().is_empty() {
            return Err(ConfigError::invalid(
                file,
                &format!("{path}.id"),
                "is empty",
            ));
        }
        Ok(ApiKey {
            id: self.id.clone(),
            digest,
            roles: self.roles.clone(),
        })
    }
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl JwtSpec {
    fn build(
        self,
        file: &str,
        ctx: &Context,
        resource: Option<&str>,
    ) -> Result<JwtSettings, ConfigError> {
        let audience = match self.audience {
            Some(OneOrMany::One(a)) => vec![a],
            Some(OneOrMany::Many(a)) => a,
            None => resource.map(|r| vec![r.to_string()]).unwrap_or_default(),
        };
        if audience.is_empty() {
            return Err(ConfigError::invalid(file, "auth.jwt.audience", "is required: the URL clients reach this gateway's /mcp at (RFC 8707 resource indicator)"));
        }
        let audience = audience
            .iter()
            .map(|a| ctx.expand(a, file, "auth.jwt.audience"))
            .collect::<Result<Vec<_>, _>>()?;
        let raw = ctx.expand(&self.jwks, file, "auth.jwt.jwks")?;
        let jwks = if raw.starts_with("http://") || raw.starts_with("https://") {
            JwksSource::Url(Url::parse(&raw).map_err(|e| {
                ConfigError::invalid(file, "auth.jwt.jwks", format!("not a valid URL ({e})"))
            })?)
        } else {
            JwksSource::File(ctx.relative(&super::tilde(&raw)))
        };
        Ok(JwtSettings {
            issuer: ctx.expand(&self.issuer, file, "auth.jwt.issuer")?,
            audience,
            jwks,
            roles_claim: self.roles_claim,
            leeway: self.leeway.unwrap_or(Duration::from_secs(30)),
            jwks_refresh: self.jwks_refresh.unwrap_or(Duration::from_secs(600)),
            jwks_min_refetch: self.jwks_min_refetch.unwrap_or(Duration::from_secs(30)),
            max_cached_tokens: self.max_cached_tokens.unwrap_or(10_000),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_and_keys_need_one_source() {
        let d = parse_digest("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
            .unwrap();
        assert_eq!(d, <[u8; 32]>::from(Sha256::digest(b"test")));
        assert!(parse_digest("9f86").is_none());
        assert!(parse_digest(&"zz".repeat(32)).is_none());
        let both = ApiKeySpec {
            id: "x".into(),
            sha256: Some("a".into()),
            env: Some("B".into()),
            roles: vec![],
        };
        let err = both
            .build("f", "auth.api_keys[0]", &Context::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("exactly one of sha256"), "{err}");
    }
}
