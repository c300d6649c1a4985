//! Worker primitives: [`CancelToken`] (checked by long jobs between chunks of
//! work), [`spawn_named`] (every worker thread has a name, so a stack dump
//! or a profiler says who is busy), and [`Throttle`] (progress reports at a
//! bounded rate, so a fast download cannot flood the UI).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A shared flag a job checks between chunks of work. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Spawns a named thread. Spawning only fails when the OS is out of
/// threads; the error says so in words.
pub fn spawn_named<F>(name: impl Into<String>, f: F) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    std::thread::Builder::new().name(name.into()).spawn(f)
}

/// Lets an event through at most once per `interval`.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    last: Option<Instant>,
}

impl Throttle {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: None,
        }
    }

    /// Whether to report now.
    pub fn ready(&mut self) -> bool {
        let now = Instant::now();
        match self.last {
            Some(t) if now.duration_since(t) < self.interval => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_is_shared_and_throttle_limits() {
        let a = CancelToken::new();
        let b = a.clone();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
        let mut t = Throttle::new(Duration::from_secs(60));
        assert!(t.ready());
        assert!(!t.ready());
    }
}
