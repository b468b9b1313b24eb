//! The fetch cache: a layer over the engine's fetch step.

use crate::error::Error;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// One name's fetch, made once however many lookups ask at the same time.
struct Entry<V> {
    cell: OnceCell<(V, Instant)>,
}

impl<V> Entry<V> {
    fn new() -> Self {
        Self {
            cell: OnceCell::new(),
        }
    }
}

/// Every fetch, found or not, by name: kept for the provider's life (as
/// dlt keeps it), or, with `max_age`, until it is that old; the next lookup
/// then fetches it again, once however many ask (single flight). A value is
/// never served older than `max_age`. A failed fetch is not kept.
pub struct FetchCache<V> {
    max_age: Option<Duration>,
    entries: Mutex<HashMap<String, Arc<Entry<V>>>>,
}

impl<V> std::fmt::Debug for FetchCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchCache")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl<V: Clone + Send + Sync> FetchCache<V> {
    /// A cache whose values live `max_age` (`None`: for ever).
    pub fn new(max_age: Option<Duration>) -> Self {
        Self {
            max_age,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value of `name`, and whether it came from the cache: the cached
    /// one while it is young enough, else what `fetch` gives (one fetch for
    /// every lookup that asks meanwhile).
    pub async fn get_or_fetch<F, Fut>(&self, name: &str, fetch: F) -> Result<(V, bool), Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, Error>>,
    {
        let entry = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let entry = entries
                .entry(name.to_owned())
                .or_insert_with(|| Arc::new(Entry::new()));
            let stale = match (self.max_age, entry.cell.get()) {
                (Some(max), Some((_, at))) => at.elapsed() >= max,
                _ => false,
            };
            if stale {
                // a fresh cell: the lookups that come now share its fetch
                *entry = Arc::new(Entry::new());
            }
            entry.clone()
        };
        let from_cache = entry.cell.initialized();
        let (value, _) = entry
            .cell
            .get_or_try_init(|| async { Ok::<_, Error>((fetch().await?, Instant::now())) })
            .await?;
        Ok((value.clone(), from_cache))
    }

    /// Forgets `name` (after a store, the next lookup sees the new value).
    pub fn forget(&self, name: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(name);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    async fn fetch_counting(cache: &FetchCache<u32>, count: &AtomicU32) -> (u32, bool) {
        cache
            .get_or_fetch("x", || async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(count.fetch_add(1, Ordering::SeqCst) + 1)
            })
            .await
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn without_max_age_a_value_is_fetched_once_for_ever() {
        let cache = FetchCache::new(None);
        let count = AtomicU32::new(0);
        assert_eq!(fetch_counting(&cache, &count).await, (1, false));
        tokio::time::advance(Duration::from_secs(10 * 24 * 3600)).await;
        assert_eq!(fetch_counting(&cache, &count).await, (1, true));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_value_older_than_max_age_is_fetched_again_once_for_all_who_ask() {
        let cache = FetchCache::new(Some(Duration::from_secs(30)));
        let count = AtomicU32::new(0);
        assert_eq!(fetch_counting(&cache, &count).await, (1, false));
        tokio::time::advance(Duration::from_secs(29)).await;
        assert_eq!(fetch_counting(&cache, &count).await, (1, true));
        tokio::time::advance(Duration::from_secs(1)).await;
        // stale now: many lookups at once share one new fetch
        let got = futures::future::join_all((0..8).map(|_| fetch_counting(&cache, &count))).await;
        assert!(got.iter().all(|(v, _)| *v == 2), "{got:?}");
        assert_eq!(count.load(Ordering::SeqCst), 2);
        // and it is never served past max_age
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(fetch_counting(&cache, &count).await.0, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_are_not_kept_and_forget_forgets() {
        let cache: FetchCache<u32> = FetchCache::new(None);
        let e = cache
            .get_or_fetch("x", || async {
                Err(Error::new(crate::error::ErrorKind::Unavailable, "down"))
            })
            .await;
        assert!(e.is_err());
        let (v, cached) = cache.get_or_fetch("x", || async { Ok(5) }).await.unwrap();
        assert_eq!((v, cached), (5, false));
        cache.forget("x");
        let (v, cached) = cache.get_or_fetch("x", || async { Ok(6) }).await.unwrap();
        assert_eq!((v, cached), (6, false));
    }
}
