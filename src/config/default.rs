//! The embedded default configuration: two demo servers built into this binary.

use super::expand::Context;
use super::{Config, ConfigError};

/// The default `switchboard.toml`; `${SWITCHBOARD_SELF}` is this executable (in any file).
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Build the default configuration.
pub fn config() -> Result<Config, ConfigError> {
    super::toml::parse(DEFAULT_TOML, "<embedded default>", &Context::default())
}
