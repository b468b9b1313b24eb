//! The timeout of one call.

use super::{Call, CallInfo, Policy};
use crate::error::{Error, ErrorKind};
use futures::future::BoxFuture;
use std::time::Duration;

/// Each call is bounded by one and a half times the `timeout` setting (a
/// backend applies the timeout to each of its network steps and says which
/// one failed; this is the net under them): no answer in time is a passing
/// [`ErrorKind::Unavailable`] error.
#[derive(Debug, Clone, Copy)]
pub struct Timeout {
    setting: Duration,
}

impl Timeout {
    /// The policy for the `timeout` setting.
    pub fn new(setting: Duration) -> Self {
        Self { setting }
    }
}

impl Policy for Timeout {
    fn around<'a, T: Send + 'a>(
        &'a self,
        info: CallInfo<'a>,
        call: &'a mut Call<'a, T>,
    ) -> BoxFuture<'a, Result<T, Error>> {
        Box::pin(async move {
            match tokio::time::timeout(self.setting.mul_f64(1.5), call()).await {
                Ok(result) => result,
                Err(_) => Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "{}: no answer within {} s (the `timeout` setting)",
                        info.what,
                        self.setting.as_secs_f64()
                    ),
                )
                .set_temporary(true)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::FutureExt;

    fn info() -> CallInfo<'static> {
        CallInfo {
            what: "read `x`",
            idempotent: true,
            vault: "acme",
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_the_timeout_fails_as_passing() {
        let t = Timeout::new(Duration::from_secs(2));
        let started = tokio::time::Instant::now();
        let mut call = || {
            async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, Error>(1)
            }
            .boxed()
        };
        let e = t.around(info(), &mut call).await.unwrap_err();
        assert!(e.is_temporary());
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(
            e.to_string().contains("read `x`: no answer within 2 s"),
            "{e}"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        // in time: the answer
        let mut quick = || async { Ok::<_, Error>(7) }.boxed();
        assert_eq!(t.around(info(), &mut quick).await.unwrap(), 7);
    }
}
