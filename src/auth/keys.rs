//! API keys: a presented key is hashed (SHA-256) and compared with every configured digest in
//! constant time, so neither timing nor the order of keys tells an attacker anything.

use crate::config::ApiKey;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The configured key `presented` is, if any.
pub fn find<'k>(keys: &'k [ApiKey], presented: &str) -> Option<&'k ApiKey> {
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found = None;
    for k in keys {
        // Every digest is compared, whatever matched before.
        if bool::from(k.digest.ct_eq(&digest)) && found.is_none() {
            found = Some(k);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_key_by_its_digest() {
        let key = |id: &str, secret: &str| ApiKey {
            id: id.into(),
            digest: Sha256::digest(secret.as_bytes()).into(),
            roles: vec![],
        };
        let keys = [key("a", "alpha-secret-key"), key("b", "bravo-secret-key")];
        assert_eq!(
            find(&keys, "bravo-secret-key").map(|k| k.id.as_str()),
            Some("b")
        );
        assert!(find(&keys, "bravo-secret-kez").is_none());
        assert!(find(&keys, "").is_none());
    }
}
