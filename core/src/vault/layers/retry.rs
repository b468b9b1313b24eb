//! Passing failures tried again within a deadline.

use super::{Call, CallInfo, Policy};
use crate::error::{Error, ErrorKind};
use backon::BackoffBuilder;
use futures::future::BoxFuture;
use std::time::Duration;

/// The first delay between two tries of a call.
const MIN_DELAY: Duration = Duration::from_millis(100);
/// The longest delay between two tries.
const MAX_DELAY: Duration = Duration::from_secs(4);

/// A call is tried until it succeeds, fails for good, or the `deadline`
/// passes: passing failures (throttling, server errors, dropped
/// connections, timeouts: [`Error::is_temporary`]) are tried again after an
/// exponential backoff with jitter. An error after more than one try says
/// how many were made. A call that is not idempotent (a store) is made
/// once: one that timed out may still have been made.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    deadline: Duration,
}

impl Retry {
    /// The policy for the `deadline` setting.
    pub fn new(deadline: Duration) -> Self {
        Self { deadline }
    }
}

impl Policy for Retry {
    fn around<'a, T: Send + 'a>(
        &'a self,
        info: CallInfo<'a>,
        call: &'a mut Call<'a, T>,
    ) -> BoxFuture<'a, Result<T, Error>> {
        Box::pin(async move {
            if !info.idempotent {
                return call().await;
            }
            let started = tokio::time::Instant::now();
            let deadline = started + self.deadline;
            let mut delays = backon::ExponentialBuilder::default()
                .with_jitter()
                .with_min_delay(MIN_DELAY)
                .with_max_delay(MAX_DELAY)
                .without_max_times()
                .build();
            let mut tries = 0u32;
            let mut last: Option<Error> = None;
            loop {
                tries += 1;
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let result = match tokio::time::timeout(left, call()).await {
                    Ok(result) => result,
                    // cut short by the deadline: the failure before it says more
                    Err(_) => Err(last.take().unwrap_or_else(|| {
                        Error::new(
                            ErrorKind::Unavailable,
                            format!("{}: no answer before the deadline", info.what),
                        )
                        .set_temporary(true)
                    })),
                };
                let e = match result {
                    Ok(v) => return Ok(v),
                    Err(e) if !e.is_temporary() => return Err(e),
                    Err(e) => e,
                };
                let delay = delays.next().unwrap_or(MAX_DELAY);
                let now = tokio::time::Instant::now();
                if now + delay >= deadline {
                    let took = now.duration_since(started).as_secs_f64();
                    let note = if tries == 1 {
                        format!("(1 try in {took:.1} s; the `deadline` setting allows no other)")
                    } else {
                        format!(
                            "(gave up after {tries} tries in {took:.1} s, the `deadline` setting)"
                        )
                    };
                    return Err(e.with_note(note));
                }
                tracing::debug!(
                    vault = info.vault,
                    what = info.what,
                    tries,
                    kind = %e.kind(),
                    "a passing failure: trying again"
                );
                last = Some(e);
                tokio::time::sleep(delay).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::FutureExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn info(idempotent: bool) -> CallInfo<'static> {
        CallInfo {
            what: "read `x`",
            idempotent,
            vault: "acme",
        }
    }

    fn passing() -> Error {
        Error::new(ErrorKind::Unavailable, "503").set_temporary(true)
    }

    #[tokio::test(start_paused = true)]
    async fn passing_failures_are_tried_again_until_one_succeeds() {
        let tries = AtomicU32::new(0);
        let mut call = || {
            let n = tries.fetch_add(1, Ordering::SeqCst);
            async move { if n < 3 { Err(passing()) } else { Ok(n) } }.boxed()
        };
        let r = Retry::new(Duration::from_secs(60));
        assert_eq!(r.around(info(true), &mut call).await.unwrap(), 3);
        assert_eq!(tries.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_the_tries_and_the_error_counts_them() {
        let tries = AtomicU32::new(0);
        let mut call = || {
            tries.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(passing()) }.boxed()
        };
        let started = tokio::time::Instant::now();
        let e = Retry::new(Duration::from_secs(10))
            .around(info(true), &mut call)
            .await
            .unwrap_err();
        assert!(started.elapsed() <= Duration::from_secs(10));
        let n = tries.load(Ordering::SeqCst);
        assert!(n > 2, "{n}");
        assert!(
            e.to_string().contains(&format!("gave up after {n} tries")),
            "{e}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_failures_and_stores_are_not_repeated() {
        let tries = AtomicU32::new(0);
        let mut permanent = || {
            tries.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(Error::new(ErrorKind::PermissionDenied, "no")) }.boxed()
        };
        let r = Retry::new(Duration::from_secs(60));
        r.around(info(true), &mut permanent).await.unwrap_err();
        assert_eq!(tries.load(Ordering::SeqCst), 1);
        let stores = AtomicU32::new(0);
        let mut store = || {
            stores.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(passing()) }.boxed()
        };
        r.around(info(false), &mut store).await.unwrap_err();
        assert_eq!(stores.load(Ordering::SeqCst), 1);
    }
}
