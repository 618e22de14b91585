//! The signing keys of JWT access tokens: a JWKS from a file (read once) or a URL (fetched,
//! used for `jwks_refresh`, fetched again when a token names an unknown `kid`, at most once per
//! `jwks_min_refetch`, one fetch at a time).

use crate::config::{JwksSource, JwtSettings};
use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A JWKS document is refused beyond this size.
const MAX_JWKS_BYTES: usize = 1 << 20;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One usable key.
#[derive(Clone)]
struct Key {
    kid: Option<String>,
    alg: Option<Algorithm>,
    key: DecodingKey,
}

struct Keys {
    keys: Vec<Key>,
    fetched: Option<Instant>,
}

/// The key set, cached.
pub struct Jwks {
    source: JwksSource,
    refresh: Duration,
    min_refetch: Duration,
    current: ArcSwap<Keys>,
    fetching: tokio::sync::Mutex<Option<Instant>>,
    http: reqwest::Client,
}

impl Jwks {
    /// Keys from `s.jwks`: a file is read now (an unreadable one is an error), a URL on first use.
    pub fn new(s: &JwtSettings) -> Result<Jwks, String> {
        let initial = match &s.jwks {
            JwksSource::File(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("auth.jwt.jwks: cannot read {}: {e}", p.display()))?;
                Keys {
                    keys: parse(&text)
                        .map_err(|e| format!("auth.jwt.jwks: {}: {e}", p.display()))?,
                    fetched: None,
                }
            }
            JwksSource::Url(_) => Keys {
                keys: Vec::new(),
                fetched: None,
            },
        };
        Ok(Jwks {
            source: s.jwks.clone(),
            refresh: s.jwks_refresh,
            min_refetch: s.jwks_min_refetch,
            current: ArcSwap::from_pointee(initial),
            fetching: tokio::sync::Mutex::new(None),
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .map_err(|e| e.to_string())?,
        })
    }

    /// The key for a token's `kid` and `alg`.
    pub async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, String> {
        let stale = self
            .current
            .load()
            .fetched
            .is_none_or(|t| t.elapsed() >= self.refresh);
        if matches!(self.source, JwksSource::Url(_)) && stale {
            self.fetch(false).await;
        }
        if let Some(k) = pick(&self.current.load().keys, kid, alg) {
            return Ok(k);
        }
        if matches!(self.source, JwksSource::Url(_)) && self.fetch(true).await {
            if let Some(k) = pick(&self.current.load().keys, kid, alg) {
                return Ok(k);
            }
        }
        Err(match kid {
            Some(kid) => format!("no signing key with kid {kid:?} for {alg:?} in the JWKS"),
            None => format!("no {alg:?} signing key in the JWKS"),
        })
    }

    /// Fetch the URL again; `unknown_kid`: only if the last fetch is older than
    /// `jwks_min_refetch`. Whether a fetch ran and succeeded.
    async fn fetch(&self, unknown_kid: bool) -> bool {
        let JwksSource::Url(url) = &self.source else {
            return false;
        };
        let mut last = self.fetching.lock().await;
        let recent = |gap: Duration| last.is_some_and(|t| t.elapsed() < gap);
        if recent(if unknown_kid {
            self.min_refetch
        } else {
            Duration::from_millis(100)
        }) {
            return false; // fetched just now (maybe by the caller we waited behind)
        }
        *last = Some(Instant::now());
        match self.download(url).await {
            Ok(keys) => {
                self.current.store(Arc::new(Keys {
                    keys,
                    fetched: Some(Instant::now()),
                }));
                true
            }
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "cannot fetch the JWKS; keeping the keys fetched before");
                false
            }
        }
    }

    async fn download(&self, url: &url::Url) -> Result<Vec<Key>, String> {
        let resp = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        if resp
            .content_length()
            .is_some_and(|n| n as usize > MAX_JWKS_BYTES)
        {
            return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
        }
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
        }
        parse(&String::from_utf8_lossy(&body))
    }
}

/// The usable signing keys of a JWKS document (keys for encryption, or of a kind the JWT crate
/// cannot verify with, are skipped).
fn parse(text: &str) -> Result<Vec<Key>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    Ok(set.keys.iter().filter_map(usable).collect())
}

fn usable(jwk: &Jwk) -> Option<Key> {
    use jsonwebtoken::jwk::PublicKeyUse;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    let alg = jwk
        .common
        .key_algorithm
        .and_then(|a| a.to_string().parse::<Algorithm>().ok());
    Some(Key {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

fn pick(keys: &[Key], kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
    let fits = |k: &&Key| k.alg.is_none_or(|a| a == alg);
    match kid {
        Some(kid) => keys
            .iter()
            .filter(fits)
            .find(|k| k.kid.as_deref() == Some(kid)),
        None => keys.iter().find(fits),
    }
    .map(|k| k.key.clone())
}
