//! Worker primitives, below every other layer (`hub`, `audio`, `tasks` and
//! the workers all use them; they use nothing of Spaceport's): [`CancelToken`] (checked by long jobs between chunks of
//! work), [`spawn_named`] (every worker thread has a name, so a stack dump
//! or a profiler says who is busy), and [`Throttle`] (progress reports at a
//! bounded rate, so a fast download cannot flood the UI), and
//! [`catch_panic`] (a third-party decoder's panic on a damaged file becomes
//! an error).

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

/// A token that Ctrl-C (SIGINT) cancels, for the CLI: the running job
/// stops between chunks of work and the command exits with 130. A second
/// Ctrl-C ends the process at once, as usual. One token for the process
/// (later calls return the same one).
pub fn cancel_on_interrupt() -> CancelToken {
    static TOKEN: std::sync::OnceLock<CancelToken> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let token = CancelToken::new();
            #[cfg(unix)]
            interrupt::install(&token);
            token
        })
        .clone()
}

#[cfg(unix)]
mod interrupt {
    use super::CancelToken;
    use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

    /// The token's flag, leaked so it lives as long as the process.
    static FLAG: AtomicPtr<AtomicBool> = AtomicPtr::new(std::ptr::null_mut());
    const SIGINT: i32 = 2;
    const SIG_DFL: usize = 0;

    unsafe extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }

    extern "C" fn on_interrupt(_: i32) {
        let flag = FLAG.load(Ordering::SeqCst);
        // SAFETY: FLAG is null or points at a leaked, never-freed
        // AtomicBool; an atomic store and signal() are async-signal-safe.
        unsafe {
            if let Some(f) = flag.as_ref() {
                f.store(true, Ordering::Relaxed);
            }
            signal(SIGINT, SIG_DFL);
        }
    }

    pub(super) fn install(token: &CancelToken) {
        let raw = std::sync::Arc::into_raw(token.0.clone()) as *mut AtomicBool;
        FLAG.store(raw, Ordering::SeqCst);
        // SAFETY: installs a handler that only does async-signal-safe work.
        unsafe {
            signal(SIGINT, on_interrupt as extern "C" fn(i32) as usize);
        }
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

/// Runs `f`, turning a panic inside it — a third-party decoder's, on a
/// damaged file — into `Err` with the panic's words, so it reaches the
/// user as a sentence instead of ending the thread or the program.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = CATCHING.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    result.map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "an internal error".into())
    })
}

thread_local! {
    /// Whether this thread is inside [`catch_panic`].
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps the panic report off the terminal for panics that
/// [`catch_panic`] turns into errors (the person reads the sentence
/// instead); every other panic is reported as before. Call once at start.
pub fn quiet_caught_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !CATCHING.with(std::cell::Cell::get) {
            report(info);
        }
    }));
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
