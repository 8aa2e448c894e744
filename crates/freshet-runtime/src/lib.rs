// SPDX-License-Identifier: Apache-2.0
//! Components: the long-running parts of a Freshet server (retention, on-demand scaling,
//! later event source mappings and delivery streams), each started once, supervised and
//! stopped together at shutdown.
//!
//! - A [`Component`] runs until its [`Context`] is cancelled. If it fails or panics, the
//!   [`Supervisor`] logs it and starts it again after a back-off (1 s doubling to 30 s), so one
//!   bad run never stops a pipeline for good; if it returns `Ok` it is finished.
//! - [`Periodic`] is the common case: do something every interval.
//! - [`Tasks`] is the handle services use for short-lived background work (a status
//!   transition after a delay): tracked, and cancelled at shutdown like components.
//! - [`Supervisor::shutdown`] cancels everything and waits up to a grace period for tasks to
//!   finish what they are doing.
//!
//! - [`Platform`]: the log backend, metadata store, clock and task handle every service is
//!   built on.
//!
//! Time comes from the injected [`Clock`]; waiting is tokio's (tests pause tokio time or use a
//! `ManualClock` for what the clock decides).

mod platform;

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use freshet_types::Clock;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use crate::platform::{Platform, PlatformError};

/// Why a component run failed; the supervisor logs it and restarts the component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ComponentError(pub String);

/// What a component gets to run with.
#[derive(Debug, Clone)]
pub struct Context {
    cancel: CancellationToken,
    clock: Arc<dyn Clock>,
}

impl Context {
    /// Resolves when the server is shutting down.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Whether the server is shutting down.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Sleeps for `d`; `false` if shutdown began first.
    pub async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = self.cancel.cancelled() => false,
        }
    }

    /// The server's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// A long-running part of the server.
pub trait Component: Send + Sync + 'static {
    /// Its name in logs.
    fn name(&self) -> Cow<'static, str>;

    /// Runs until `ctx` is cancelled (then returns promptly, `Ok`), or fails.
    fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>>;
}

/// A component that calls `tick` every `every` (the first time one interval after start).
pub struct Periodic<F> {
    name: &'static str,
    every: Duration,
    tick: F,
}

impl<F, Fut> Periodic<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    /// Calls `tick` every `every`.
    pub fn new(name: &'static str, every: Duration, tick: F) -> Arc<Self> {
        Arc::new(Periodic { name, every, tick })
    }
}

impl<F, Fut> Component for Periodic<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name)
    }

    fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>> {
        Box::pin(async move {
            let mut tick = tokio::time::interval(self.every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick of an interval is immediate; start one interval later.
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = ctx.cancelled() => return Ok(()),
                }
                tokio::select! {
                    () = (self.tick)() => {}
                    () = ctx.cancelled() => return Ok(()),
                }
            }
        })
    }
}

/// Short-lived background work of a service, cancelled at shutdown. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Tasks {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Tasks {
    /// A handle not tied to any supervisor (tests, tools): its tasks run until they end.
    pub fn detached() -> Tasks {
        Tasks {
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        }
    }

    /// Runs `fut` in the background until it ends or shutdown begins (then it is dropped at
    /// its next await point).
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                () = fut => {}
                () = cancel.cancelled() => {}
            }
        });
    }

    /// Whether shutdown began.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Starts components, restarts the ones that fail, and stops them all at shutdown.
#[derive(Debug)]
pub struct Supervisor {
    cancel: CancellationToken,
    tracker: TaskTracker,
    clock: Arc<dyn Clock>,
}

/// First delay before restarting a failed component.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest delay between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Supervisor {
    /// A supervisor whose components read time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Supervisor {
        Supervisor {
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            clock,
        }
    }

    /// The handle services spawn their background work with.
    pub fn tasks(&self) -> Tasks {
        Tasks {
            cancel: self.cancel.clone(),
            tracker: self.tracker.clone(),
        }
    }

    /// Starts `component` under supervision.
    pub fn start(&self, component: Arc<dyn Component>) {
        let ctx = Context {
            cancel: self.cancel.clone(),
            clock: self.clock.clone(),
        };
        self.tracker.spawn(supervise(component, ctx));
    }

    /// Cancels every component and task and waits up to `grace` for them to end. Returns
    /// whether they all ended in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.cancel.cancel();
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }
}

async fn supervise(component: Arc<dyn Component>, ctx: Context) {
    let name = component.name();
    let mut backoff = FIRST_BACKOFF;
    loop {
        // Run each attempt in its own task, so a panic is caught as a JoinError.
        let attempt = tokio::spawn(component.clone().run(ctx.clone()));
        let outcome = tokio::select! {
            r = attempt.map(|r| r.map_err(|e| e.to_string())) => r,
            () = ctx.cancelled() => return,
        };
        let reason = match outcome {
            Ok(Ok(())) => {
                tracing::debug!(component = %name, "Component finished.");
                return;
            }
            Ok(Err(e)) => e.0,
            Err(panic) => format!("panicked: {panic}"),
        };
        if ctx.is_cancelled() {
            return;
        }
        tracing::error!(component = %name, error = %reason, retry_in = ?backoff, "Component failed; restarting it.");
        if !ctx.sleep(backoff).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use freshet_types::SystemClock;

    use super::*;

    struct Flaky {
        runs: AtomicUsize,
    }

    impl Component for Flaky {
        fn name(&self) -> Cow<'static, str> {
            Cow::Borrowed("flaky")
        }

        fn run(self: Arc<Self>, ctx: Context) -> BoxFuture<'static, Result<(), ComponentError>> {
            Box::pin(async move {
                match self.runs.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(ComponentError("first run fails".into())),
                    1 => panic!("second run panics"),
                    _ => {
                        ctx.cancelled().await;
                        Ok(())
                    }
                }
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn failed_and_panicking_components_are_restarted_until_shutdown() {
        let sup = Supervisor::new(Arc::new(SystemClock));
        let c = Arc::new(Flaky {
            runs: AtomicUsize::new(0),
        });
        sup.start(c.clone());
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(c.runs.load(Ordering::SeqCst), 3);
        assert!(sup.shutdown(Duration::from_secs(5)).await);
    }

    #[tokio::test(start_paused = true)]
    async fn periodic_components_tick_and_stop_at_shutdown() {
        let sup = Supervisor::new(Arc::new(SystemClock));
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        sup.start(Periodic::new("tick", Duration::from_secs(1), move || {
            let t = t.clone();
            async move {
                t.fetch_add(1, Ordering::SeqCst);
            }
        }));
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert_eq!(ticks.load(Ordering::SeqCst), 3);
        assert!(sup.shutdown(Duration::from_secs(1)).await);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(ticks.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_are_cancelled_at_shutdown() {
        let sup = Supervisor::new(Arc::new(SystemClock));
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        sup.tasks().spawn(async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            d.fetch_add(1, Ordering::SeqCst);
        });
        assert!(sup.shutdown(Duration::from_secs(1)).await);
        assert_eq!(done.load(Ordering::SeqCst), 0);
        assert!(sup.tasks().is_cancelled());
    }
}
