//! A request's deadline: a timeout measured from the last sign of life (progress), capped by a
//! hard maximum measured from the start.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Signs of life of one request in flight (progress notifications, a relayed server-to-client
/// request); each one pushes an extendable deadline further.
#[derive(Debug)]
pub struct Activity {
    base: Instant,
    /// Milliseconds after `base` of the latest sign of life (0: none yet).
    last_ms: AtomicU64,
}

impl Activity {
    /// No activity yet.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            base: Instant::now(),
            last_ms: AtomicU64::new(0),
        })
    }

    /// The request just showed a sign of life.
    pub fn touch(&self) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.last_ms.fetch_max(ms, Ordering::AcqRel);
    }

    fn last(&self) -> Instant {
        self.base + Duration::from_millis(self.last_ms.load(Ordering::Acquire))
    }
}

/// When a request gives up.
#[derive(Debug, Clone)]
pub struct Deadline {
    start: Instant,
    timeout: Duration,
    max: Duration,
    activity: Option<Arc<Activity>>,
}

impl Deadline {
    /// `timeout` from now, extended by `activity` (each sign of life restarts it) up to `max` from now.
    pub fn extendable(timeout: Duration, max: Duration, activity: Arc<Activity>) -> Deadline {
        Deadline {
            start: Instant::now(),
            timeout,
            max: max.max(timeout),
            activity: Some(activity),
        }
    }

    /// Exactly `timeout` from now.
    pub fn fixed(timeout: Duration) -> Deadline {
        Deadline {
            start: Instant::now(),
            timeout,
            max: timeout,
            activity: None,
        }
    }

    /// The timeout (from the last sign of life), for messages.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The instant it expires, as of now.
    pub fn due(&self) -> Instant {
        let from = self
            .activity
            .as_ref()
            .map_or(self.start, |a| a.last().max(self.start));
        (from + self.timeout).min(self.start + self.max)
    }

    /// Whether it has expired.
    pub fn is_expired(&self) -> bool {
        Instant::now() >= self.due()
    }

    /// Resolves when it expires (re-checking after each extension).
    pub async fn expired(&self) {
        loop {
            let due = self.due();
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}
