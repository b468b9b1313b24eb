//! The request budget: at most so many calls a minute.

use super::{Call, CallInfo, Policy};
use crate::error::{Error, ErrorKind};
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The window the budget counts over.
const WINDOW: Duration = Duration::from_secs(60);

/// At most `max` calls in any minute (the `max_requests` setting): a call
/// over the budget is not made; it is an error naming the vault and the
/// budget, permanent (never retried), so a bug that asks in a loop stops at
/// once instead of hammering the vault (dlt #2956), and never waits in
/// silence.
#[derive(Debug)]
pub struct Budget {
    max: u32,
    sent: Mutex<VecDeque<Instant>>,
}

impl Budget {
    /// At most `max` calls a minute.
    pub fn per_minute(max: u32) -> Self {
        Self {
            max,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Takes one call from the budget, or says why not.
    fn take(&self, info: &CallInfo<'_>) -> Result<(), Error> {
        let now = Instant::now();
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        while sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            sent.pop_front();
        }
        if sent.len() >= self.max as usize {
            return Err(Error::new(
                ErrorKind::RateLimited,
                format!(
                    "{}: not sent: {} has made its {} requests of the last minute (the `max_requests` setting of providers.{}); a lookup that asks this much is likely a loop",
                    info.what, info.vault, self.max, info.vault
                ),
            )
            // a 429 of the vault's own passes; this budget does not
            .set_temporary(false)
            .with_provider(info.vault.to_owned()));
        }
        sent.push_back(now);
        Ok(())
    }
}

impl Policy for Budget {
    fn around<'a, T: Send + 'a>(
        &'a self,
        info: CallInfo<'a>,
        call: &'a mut Call<'a, T>,
    ) -> BoxFuture<'a, Result<T, Error>> {
        Box::pin(async move {
            self.take(&info)?;
            call().await
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::FutureExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn over_the_budget_is_an_error_naming_vault_and_budget_until_the_minute_passes() {
        let b = Budget::per_minute(3);
        let sent = AtomicU32::new(0);
        let info = CallInfo {
            what: "read `x`",
            idempotent: true,
            vault: "acme_vault",
        };
        for _ in 0..3 {
            let mut call = || {
                sent.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, Error>(()) }.boxed()
            };
            b.around(info, &mut call).await.unwrap();
        }
        let mut call = || {
            sent.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Error>(()) }.boxed()
        };
        let e = b.around(info, &mut call).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert!(!e.is_temporary(), "never retried into a stall");
        assert!(e.to_string().contains("acme_vault"), "{e}");
        assert!(e.to_string().contains("max_requests"), "{e}");
        assert!(e.to_string().contains('3'), "{e}");
        assert_eq!(
            sent.load(Ordering::SeqCst),
            3,
            "the call over budget was not made"
        );
        // a sliding minute: the first call leaves the window after 60 s
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(b.take(&info).is_err());
        tokio::time::advance(Duration::from_secs(1)).await;
        b.take(&info).unwrap();
    }
}
