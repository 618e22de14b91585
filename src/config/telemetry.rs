//! `[telemetry]`: where traces go. Off by default: the gateway continues and propagates W3C
//! trace context either way, and exports spans only when `otlp_endpoint` is set.

use super::ConfigError;
use serde::Deserialize;
use url::Url;

/// `[telemetry]` as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetrySettings {
    /// The OTLP/HTTP traces endpoint (`http://collector:4318/v1/traces`); `None`: no export.
    pub otlp_endpoint: Option<Url>,
    /// The `service.name` spans carry.
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            otlp_endpoint: None,
            service_name: "switchboard".into(),
        }
    }
}

/// `[telemetry]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySpec {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
}

impl TelemetrySpec {
    /// Parse into runtime settings.
    pub fn build(self, file: &str) -> Result<TelemetrySettings, ConfigError> {
        let otlp_endpoint = match self.otlp_endpoint {
            None => None,
            Some(u) => Some(
                Url::parse(&u)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            file,
                            "telemetry.otlp_endpoint",
                            format!("{u:?} is not an http(s) URL like \"http://127.0.0.1:4318/v1/traces\""),
                        )
                    })?,
            ),
        };
        Ok(TelemetrySettings {
            otlp_endpoint,
            service_name: self
                .service_name
                .unwrap_or_else(|| TelemetrySettings::default().service_name),
        })
    }
}
