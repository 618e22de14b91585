//! `governor` measures time with this clock: tokio's, so a paused test clock drives refills.

use std::time::Duration;
use tokio::time::Instant;

/// Time since the limiter was built, on tokio's clock.
#[derive(Debug, Clone)]
pub struct TokioClock {
    base: Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock {
            base: Instant::now(),
        }
    }
}

impl governor::clock::Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.base.elapsed()
    }
}
