//! The breaker's state: a gate the request path reads, and the task that moves it.

use super::Settings;
use crate::call::Verdict;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Where the breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Requests pass.
    Closed = 0,
    /// Requests fail fast.
    Open = 1,
    /// One probe may pass.
    HalfOpen = 2,
}

/// Shared between the service clones and the deciding task.
pub struct Gate {
    phase: AtomicU8,
    /// Milliseconds since `base` when an open breaker lets a probe through.
    open_until: AtomicU64,
    probing: AtomicBool,
    base: Instant,
    outcomes: mpsc::UnboundedSender<Outcome>,
    /// `switchboard_circuit_state{server}`, set on every transition.
    gauge: metrics::Gauge,
}

/// One finished request, as the deciding task hears of it.
struct Outcome {
    verdict: Verdict,
    /// It was the half-open probe.
    probe: bool,
    /// The event it failed of, shared with the other requests that failed of it.
    incident: Option<u64>,
}

/// What the gate says about one request.
pub enum Admit {
    /// Go (a probe when `probe`).
    Yes { probe: bool },
    /// Fail fast; a probe is allowed in this many milliseconds.
    No { retry_in_ms: u64 },
}

impl Gate {
    /// A closed gate and its deciding task.
    pub fn new(settings: Settings, server: &str) -> Arc<Gate> {
        let (tx, rx) = mpsc::unbounded_channel();
        let gauge = metrics::gauge!(crate::observe::CIRCUIT, "server" => server.to_string());
        gauge.set(Phase::Closed as u8 as f64);
        let gate = Arc::new(Gate {
            phase: AtomicU8::new(Phase::Closed as u8),
            open_until: AtomicU64::new(0),
            probing: AtomicBool::new(false),
            base: Instant::now(),
            outcomes: tx,
            gauge,
        });
        tokio::spawn(decide(Arc::downgrade(&gate), rx, settings));
        gate
    }

    fn now_ms(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Closed,
            1 => Phase::Open,
            _ => Phase::HalfOpen,
        }
    }

    /// Whether a request may go now. Reads atomics only (and one compare-and-swap to take the probe).
    pub fn admit(&self) -> Admit {
        match self.phase() {
            Phase::Closed => Admit::Yes { probe: false },
            Phase::Open => {
                let (now, until) = (self.now_ms(), self.open_until.load(Ordering::Acquire));
                if now < until {
                    return Admit::No {
                        retry_in_ms: until - now,
                    };
                }
                self.set(Phase::HalfOpen);
                self.take_probe()
            }
            Phase::HalfOpen => self.take_probe(),
        }
    }

    fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
        self.gauge.set(phase as u8 as f64);
    }

    fn open(&self, open_for: std::time::Duration) {
        self.open_until.store(
            self.now_ms() + open_for.as_millis() as u64,
            Ordering::Release,
        );
        self.set(Phase::Open);
    }

    fn take_probe(&self) -> Admit {
        if self
            .probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            Admit::Yes { probe: true }
        } else {
            Admit::No { retry_in_ms: 0 }
        }
    }

    /// Report a finished request (`probe`: it was the half-open probe; `incident`: the event
    /// it failed of, if several requests failed of one).
    pub fn report(&self, verdict: Verdict, probe: bool, incident: Option<u64>) {
        if probe && verdict == Verdict::Neutral {
            self.probing.store(false, Ordering::Release); // says nothing: let another probe try
        }
        let _ = self.outcomes.send(Outcome {
            verdict,
            probe,
            incident,
        });
    }
}

/// How many recent incidents the deciding task remembers.
const INCIDENTS: usize = 16;

/// The deciding task: counts consecutive faults and the faults among recent requests; opens, closes.
async fn decide(
    gate: std::sync::Weak<Gate>,
    mut outcomes: mpsc::UnboundedReceiver<Outcome>,
    settings: Settings,
) {
    let mut streak = 0u32;
    let mut recent = Recent::new(settings.window);
    // The incidents already counted (one crash fails every request in flight: one fault).
    let mut counted = std::collections::VecDeque::with_capacity(INCIDENTS);
    while let Some(Outcome {
        verdict,
        probe,
        incident,
    }) = outcomes.recv().await
    {
        let Some(g) = gate.upgrade() else { return };
        let v = match incident {
            Some(i) if verdict == Verdict::Fault && counted.contains(&i) => Verdict::Neutral,
            Some(i) if verdict == Verdict::Fault => {
                if counted.len() == INCIDENTS {
                    counted.pop_front();
                }
                counted.push_back(i);
                verdict
            }
            _ => verdict,
        };
        match (g.phase(), v) {
            (_, Verdict::Neutral) => {}
            // Only the probe decides a half-open breaker.
            (Phase::HalfOpen, _) if !probe => {}
            (Phase::HalfOpen, Verdict::Healthy) => {
                streak = 0;
                recent.clear();
                g.set(Phase::Closed);
                g.probing.store(false, Ordering::Release);
            }
            (Phase::HalfOpen, Verdict::Fault) => {
                g.open(settings.open_for);
                g.probing.store(false, Ordering::Release);
            }
            (Phase::Closed, v) => {
                let fault = v == Verdict::Fault;
                streak = if fault { streak + 1 } else { 0 };
                let rate = recent.push(fault);
                if streak >= settings.failures || rate.is_some_and(|r| r >= settings.error_rate) {
                    streak = 0;
                    recent.clear();
                    g.open(settings.open_for);
                }
            }
            (Phase::Open, _) => {} // late outcomes of requests admitted before it opened
        }
    }
}

/// The last N verdicts of a closed breaker (true: a fault).
struct Recent {
    ring: std::collections::VecDeque<bool>,
    size: usize,
    faults: usize,
}

impl Recent {
    fn new(size: u32) -> Recent {
        Recent {
            ring: Default::default(),
            size: size.max(1) as usize,
            faults: 0,
        }
    }

    /// Add one; the share of faults once the window is full.
    fn push(&mut self, fault: bool) -> Option<f64> {
        if self.ring.len() == self.size && self.ring.pop_front() == Some(true) {
            self.faults -= 1;
        }
        self.ring.push_back(fault);
        self.faults += usize::from(fault);
        (self.ring.len() == self.size).then(|| self.faults as f64 / self.size as f64)
    }

    fn clear(&mut self) {
        self.ring.clear();
        self.faults = 0;
    }
}
