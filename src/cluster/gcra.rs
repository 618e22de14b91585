//! The shared rate-limit check: GCRA (the algorithm `governor` runs in process) over a call's
//! buckets, its client's and its upstream's, in one Lua script on the store, so that replicas
//! never race and a call refused by one bucket takes nothing from the other. The store's own
//! clock (`TIME`) is the only clock: replicas' clocks need not agree.

use super::Store;
use crate::config::resilience::Rate;
use std::sync::LazyLock;
use std::time::Duration;

/// KEYS: the buckets; ARGV: per bucket its emission interval (µs) and burst. Returns {1, 0, 0}
/// when admitted (every bucket charged), else {0, wait in µs, the refusing bucket (1-based)}.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local next = tat + interval
  local allowed_at = next - burst * interval
  if allowed_at > now then
    return {0, math.ceil(allowed_at - now), i}
  end
  tats[i] = next
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%.0f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1)
end
return {1, 0, 0}
";

static GCRA: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(SCRIPT));

/// One bucket of a call: its name (the store's key without the prefix) and its rate.
pub struct Bucket<'a> {
    /// `rl:SERVER:upstream`, `rl:SERVER:client:KEY`.
    pub name: &'a str,
    /// Its rate and burst.
    pub rate: Rate,
}

/// What the store decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    /// Within every limit (each bucket charged).
    Admitted,
    /// Over the limit of bucket `bucket` (an index into what was asked); try again in `retry_in`.
    Refused {
        /// Which bucket.
        bucket: usize,
        /// When to try again.
        retry_in: Duration,
    },
    /// The store did not answer within `cluster.timeout` (or is down): decide locally.
    Unknown,
}

impl Store {
    /// Charge a call to `buckets` (all or none), within `cluster.timeout`.
    pub async fn admit(&self, buckets: &[Bucket<'_>]) -> Admission {
        let Some(mut conn) = self.connection() else {
            return Admission::Unknown;
        };
        let mut call = GCRA.prepare_invoke();
        for b in buckets {
            call.key(self.key(b.name));
        }
        for b in buckets {
            let interval = 1e6 / b.rate.per_second.max(1e-6);
            call.arg(interval.round() as u64).arg(b.rate.burst.max(1));
        }
        match self
            .within(call.invoke_async::<(i64, i64, i64)>(&mut conn))
            .await
        {
            Some((1, _, _)) => Admission::Admitted,
            Some((_, wait, which)) => Admission::Refused {
                bucket: (which.max(1) - 1) as usize,
                retry_in: Duration::from_micros(wait.max(0) as u64),
            },
            None => Admission::Unknown,
        }
    }
}
