//! The resilience settings of one upstream's layer stack, parsed: deadlines, rate limits, the
//! concurrency limit, the circuit breaker and retries. The layers read these; they are built here
//! from the configuration, with every default in one place.

use std::collections::HashMap;
use std::time::Duration;

/// The list methods (fetched by the gateway itself; shorter default deadline).
pub const LIST_METHODS: &[&str] = &[
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
];

/// Every layer's settings for one upstream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resilience {
    /// Deadlines by method and tool.
    pub timeouts: Timeouts,
    /// Token buckets (none by default).
    pub rate: RateLimits,
    /// Requests in flight before more are refused.
    pub max_concurrent: usize,
    /// When the breaker opens.
    pub breaker: Breaker,
    /// When safe requests are retried.
    pub retry: Retry,
}

/// Default requests in flight per upstream.
pub const DEFAULT_MAX_CONCURRENT: usize = 64;

/// Deadlines of one upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeouts {
    /// Every method not named below (`tools/call` included).
    pub default: Duration,
    /// The list methods.
    pub lists: Duration,
    /// By method name.
    pub methods: HashMap<String, Duration>,
    /// By the upstream's own tool name (`tools/call`).
    pub tools: HashMap<String, Duration>,
    /// How far progress notifications may extend a request, from its start.
    pub max: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            default: Duration::from_secs(60),
            lists: Duration::from_secs(15),
            methods: HashMap::new(),
            tools: HashMap::new(),
            max: Duration::from_secs(600),
        }
    }
}

impl Timeouts {
    /// The timeout of one request: per tool, else per method, else lists or default.
    pub fn for_call(&self, method: &str, tool: Option<&str>) -> Duration {
        if let Some(d) = tool.and_then(|t| self.tools.get(t)) {
            return *d;
        }
        if let Some(d) = self.methods.get(method) {
            return *d;
        }
        if LIST_METHODS.contains(&method) {
            self.lists
        } else {
            self.default
        }
    }
}

/// One token bucket's size and refill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Sustained requests per second (positive).
    pub per_second: f64,
    /// How many may come at once (bucket size, at least 1).
    pub burst: u32,
}

/// The rate limits of one upstream (none by default).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateLimits {
    /// All clients together.
    pub upstream: Option<Rate>,
    /// Each client on its own.
    pub client: Option<Rate>,
}

/// When the circuit breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breaker {
    /// Consecutive faults that open it.
    pub failures: u32,
    /// How long it stays open before letting a probe through.
    pub open_for: Duration,
    /// Share of faults among the last `window` requests that opens it (above 1: never).
    pub error_rate: f64,
    /// How many recent requests `error_rate` looks at (it waits for that many).
    pub window: u32,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            failures: 5,
            open_for: Duration::from_secs(30),
            error_rate: 0.5,
            window: 20,
        }
    }
}

/// How often and how patiently safe requests are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    /// Retries after the first attempt (0: never).
    pub max: u32,
    /// First backoff.
    pub min_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max: 2,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

// ---- As written in a server entry ----

use super::entry::At;
use super::ConfigError;
use indexmap::IndexMap;
use serde::Deserialize;

/// `breaker = { ... }` as written.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Consecutive upstream faults that open it.
    pub failures: Option<u32>,
    /// How long it stays open before a probe.
    #[serde(default, with = "humantime_serde")]
    pub open_for: Option<Duration>,
    /// Share of faults among the last `window` requests that opens it (0 < rate <= 1).
    pub error_rate: Option<f64>,
    /// How many recent requests `error_rate` considers.
    pub window: Option<u32>,
}

/// `rate_limit = { ... }` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSpec {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once (default: one second's worth).
    pub burst: Option<u32>,
}

/// `retry = { ... }` as written.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Retries after the first attempt (0: never).
    pub max: Option<u32>,
    /// First backoff.
    #[serde(default, with = "humantime_serde")]
    pub min_backoff: Option<Duration>,
    /// Longest backoff.
    #[serde(default, with = "humantime_serde")]
    pub max_backoff: Option<Duration>,
}

/// The resilience fields of one entry, borrowed.
pub(super) struct Written<'a> {
    pub timeouts: &'a IndexMap<String, humantime_serde::Serde<Duration>>,
    pub tool_timeouts: &'a IndexMap<String, humantime_serde::Serde<Duration>>,
    pub max_timeout: Option<Duration>,
    pub rate_limit: Option<RateSpec>,
    pub client_rate_limit: Option<RateSpec>,
    pub max_concurrent: Option<usize>,
    pub retry: Option<RetrySpec>,
    pub breaker: Option<BreakerSpec>,
}

/// Parse an entry's resilience fields (the gateway-wide defaults are applied by
/// [`super::Config::resilience`]).
pub(super) fn build(w: &Written<'_>, at: &At<'_>) -> Result<Resilience, ConfigError> {
    Ok(Resilience {
        timeouts: timeouts(w, at)?,
        rate: RateLimits {
            upstream: rate(w.rate_limit, "rate_limit", at)?,
            client: rate(w.client_rate_limit, "client_rate_limit", at)?,
        },
        max_concurrent: match w.max_concurrent {
            Some(0) => return Err(at.invalid("max_concurrent", "must be at least 1")),
            Some(n) => n,
            None => DEFAULT_MAX_CONCURRENT,
        },
        breaker: breaker(w.breaker.unwrap_or_default(), at)?,
        retry: retry(w.retry.unwrap_or_default(), at)?,
    })
}

fn positive(d: Duration, field: &str, at: &At<'_>) -> Result<Duration, ConfigError> {
    match d.is_zero() {
        true => Err(at.invalid(field, "must be longer than zero")),
        false => Ok(d),
    }
}

fn timeouts(w: &Written<'_>, at: &At<'_>) -> Result<Timeouts, ConfigError> {
    let mut t = Timeouts::default();
    for (method, d) in w.timeouts {
        let d = positive(**d, &format!("timeouts.{method:?}"), at)?;
        t.methods.insert(method.clone(), d);
    }
    for (tool, d) in w.tool_timeouts {
        let d = positive(**d, &format!("tool_timeouts.{tool:?}"), at)?;
        t.tools.insert(tool.clone(), d);
    }
    if let Some(m) = w.max_timeout {
        t.max = positive(m, "max_timeout", at)?;
    }
    Ok(t)
}

fn rate(spec: Option<RateSpec>, field: &str, at: &At<'_>) -> Result<Option<Rate>, ConfigError> {
    let Some(r) = spec else { return Ok(None) };
    if !(r.per_second.is_finite() && r.per_second > 0.0) {
        return Err(at.invalid(&format!("{field}.per_second"), "must be a positive number"));
    }
    let one_second = r.per_second.ceil().min(f64::from(u32::MAX)) as u32;
    Ok(Some(Rate {
        per_second: r.per_second,
        burst: r.burst.unwrap_or(one_second).max(1),
    }))
}

fn breaker(b: BreakerSpec, at: &At<'_>) -> Result<Breaker, ConfigError> {
    let d = Breaker::default();
    let error_rate = b.error_rate.unwrap_or(d.error_rate);
    if !(error_rate > 0.0 && error_rate <= 1.0) {
        return Err(at.invalid("breaker.error_rate", "must be in (0, 1]"));
    }
    Ok(Breaker {
        failures: b.failures.unwrap_or(d.failures).max(1),
        open_for: b.open_for.unwrap_or(d.open_for),
        error_rate,
        window: b.window.unwrap_or(d.window).max(1),
    })
}

fn retry(r: RetrySpec, at: &At<'_>) -> Result<Retry, ConfigError> {
    let d = Retry::default();
    let retry = Retry {
        max: r.max.unwrap_or(d.max),
        min_backoff: r.min_backoff.unwrap_or(d.min_backoff),
        max_backoff: r.max_backoff.unwrap_or(d.max_backoff),
    };
    if retry.min_backoff.is_zero() || retry.min_backoff > retry.max_backoff {
        return Err(at.invalid("retry", "needs 0 < min_backoff <= max_backoff"));
    }
    Ok(retry)
}
