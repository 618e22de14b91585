//! The protocol revisions the gateway speaks, on both sides: the `initialize` generation
//! (sessions, 2024-11-05 .. 2025-11-25) and the stateless 2026-07-28 revision.

/// Revisions of the `initialize` generation, oldest first.
pub const INITIALIZE_VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The newest revision of the `initialize` generation.
pub const LATEST_INITIALIZE_VERSION: &str = "2025-11-25";

/// The stateless revision: no `initialize`, every request carries its `_meta` envelope.
pub const STATELESS_VERSION: &str = "2026-07-28";

/// Revisions served statelessly.
pub const STATELESS_VERSIONS: &[&str] = &[STATELESS_VERSION];

/// Whether `version` is one of the `initialize` generation's.
pub fn is_initialize(version: &str) -> bool {
    INITIALIZE_VERSIONS.contains(&version)
}

/// Every revision the gateway speaks, newest first (`server/discover`, version errors).
pub fn all_versions() -> Vec<&'static str> {
    let mut v: Vec<&str> = STATELESS_VERSIONS.to_vec();
    v.extend(INITIALIZE_VERSIONS.iter().rev());
    v
}

/// The client's requested version when the gateway speaks it, else the newest it speaks.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested
        .and_then(|r| INITIALIZE_VERSIONS.iter().find(|v| **v == r))
        .copied()
        .unwrap_or(LATEST_INITIALIZE_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_versions() {
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2024-11-05")), "2024-11-05");
        assert_eq!(negotiate(Some("1999-01-01")), LATEST_INITIALIZE_VERSION);
        assert_eq!(negotiate(None), LATEST_INITIALIZE_VERSION);
        assert_eq!(all_versions()[0], "2026-07-28");
        assert!(is_initialize("2025-03-26") && !is_initialize(STATELESS_VERSION));
    }
}
