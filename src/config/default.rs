//! The embedded default configuration: two demo servers built into this binary.

use super::expand::Context;
use super::{Config, ConfigError};

/// The default `switchboard.toml`; `${SWITCHBOARD_SELF}` is this executable (in any file).
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// The embedded default's [`Config::source`].
pub const SOURCE: &str = "<embedded default>";

/// Build the default configuration.
pub fn config() -> Result<Config, ConfigError> {
    super::toml::parse(DEFAULT_TOML, SOURCE, &Context::default())
}
