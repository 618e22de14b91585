//! The embedded default configuration: two demo servers built into this binary.

use super::expand::Context;
use super::{Config, ConfigError};

/// The default `switchboard.toml`; `${SWITCHBOARD_SELF}` is this executable.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Build the default configuration.
pub fn config() -> Result<Config, ConfigError> {
    let exe = std::env::current_exe().map_err(|source| ConfigError::Read {
        file: "<embedded default>".into(),
        source,
    })?;
    let ctx = Context::default().with_var("SWITCHBOARD_SELF", exe.display().to_string());
    super::toml::parse(DEFAULT_TOML, "<embedded default>", &ctx)
}
