//! The enrolled kiosk keys, kept in memory so that a signed request does not read `kiosk_keys`
//! every time (it is the same row for every request of a kiosk).
//!
//! Several central instances (and the `kiosk-central kiosk` CLI) share one database, so a key
//! enrolled or revoked by any of them must reach every cache at once. Every change of a key
//! sends `NOTIFY kiosk_key_changed, '<kiosk id>'` in its own transaction (delivered at commit);
//! each store keeps one session that `LISTEN`s and drops the named entry. While that session
//! is down the cache is not used at all (every lookup reads the table), and it is emptied when
//! the session is back, so a notification missed meanwhile cannot leave a stale key behind.
//!
//! A lookup that misses reads the table and then stores the row only if no notification
//! arrived in between (a generation counter), so a revocation racing a lookup is never undone
//! by the lookup's older row.

use crate::storage::{KioskKeyRecord, StorageError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The channel key changes are announced on.
pub const KEY_CHANNEL: &str = "kiosk_key_changed";

/// How often the listener looks at its stop flag while no notification arrives.
const POLL: Duration = Duration::from_millis(100);
/// Wait before connecting again after the listening session failed.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// A round trip on the listening session this often finds a session that died silently.
const LIVENESS_CHECK_EVERY: Duration = Duration::from_secs(10);
const LIVENESS_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Entries {
    keys: HashMap<String, KioskKeyRecord>,
    /// Bumped by every invalidation.
    generation: u64,
}

/// State shared by the store and its listener thread.
#[derive(Default)]
struct Shared {
    entries: Mutex<Entries>,
    /// The listening session is up: cached entries may be used.
    listening: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    fn entries(&self) -> MutexGuard<'_, Entries> {
        // Only plain map operations happen under the lock; a poisoned lock holds a usable map.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget(&self, kiosk_id: &str) {
        let mut entries = self.entries();
        entries.generation += 1;
        entries.keys.remove(kiosk_id);
    }

    fn forget_all(&self) {
        let mut entries = self.entries();
        entries.generation += 1;
        entries.keys.clear();
    }
}

/// The cache and its listening thread (stopped on drop).
pub struct KeyCache {
    shared: Arc<Shared>,
    listener: Option<JoinHandle<()>>,
}

impl KeyCache {
    /// Starts listening on a session of its own to the server `config` names.
    pub fn start(config: ::postgres::Config) -> Self {
        let shared = Arc::new(Shared::default());
        let listener = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("kiosk-central-key-listener".into())
                .spawn(move || listen(&config, &shared))
                .map_err(|error| {
                    tracing::warn!(%error, "no key-change listener; kiosk keys are read every time");
                })
                .ok()
        };
        Self { shared, listener }
    }

    /// The key of a kiosk: from memory when the listener is up and the key is there, else from
    /// `read` (kept for next time when nothing changed meanwhile).
    pub fn get_or_read(
        &self,
        kiosk_id: &str,
        read: impl FnOnce() -> Result<Option<KioskKeyRecord>, StorageError>,
    ) -> Result<Option<KioskKeyRecord>, StorageError> {
        if !self.shared.listening.load(Ordering::Acquire) {
            return read();
        }
        let generation = {
            let entries = self.shared.entries();
            if let Some(record) = entries.keys.get(kiosk_id) {
                return Ok(Some(record.clone()));
            }
            entries.generation
        };
        let record = read()?;
        if let Some(record) = &record {
            let mut entries = self.shared.entries();
            if entries.generation == generation && self.shared.listening.load(Ordering::Acquire) {
                entries.keys.insert(kiosk_id.to_string(), record.clone());
            }
        }
        Ok(record)
    }

    /// Drops a kiosk's entry (this instance changed its key; the notification follows).
    pub fn forget(&self, kiosk_id: &str) {
        self.shared.forget(kiosk_id);
    }

    /// Whether cached keys are in use (the listening session is up).
    pub fn is_listening(&self) -> bool {
        self.shared.listening.load(Ordering::Acquire)
    }
}

impl Drop for KeyCache {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(listener) = self.listener.take() {
            let _ = listener.join();
        }
    }
}

/// The listener thread: (re)connects, `LISTEN`s, empties the cache, and drops the entries named
/// by notifications until stopped.
fn listen(config: &::postgres::Config, shared: &Shared) {
    while !shared.stop.load(Ordering::Acquire) {
        match listen_once(config, shared) {
            Ok(()) => return,
            Err(error) => {
                shared.listening.store(false, Ordering::Release);
                shared.forget_all();
                tracing::warn!(
                    %error,
                    "key-change listener lost its session; kiosk keys are read every time until it is back"
                );
            }
        }
        let mut waited = Duration::ZERO;
        while waited < RECONNECT_AFTER && !shared.stop.load(Ordering::Acquire) {
            std::thread::sleep(POLL);
            waited += POLL;
        }
    }
}

/// One listening session; `Ok` when stopped, the reason when the session failed.
fn listen_once(config: &::postgres::Config, shared: &Shared) -> Result<(), String> {
    use ::postgres::fallible_iterator::FallibleIterator;
    let failed = |e: ::postgres::Error| super::error_text(&e);
    let mut client = config.connect(::postgres::NoTls).map_err(failed)?;
    client
        .batch_execute(&format!("LISTEN {KEY_CHANNEL}"))
        .map_err(failed)?;
    // Anything cached before this session listened may have missed a change.
    shared.forget_all();
    shared.listening.store(true, Ordering::Release);
    let mut last_check = std::time::Instant::now();
    while !shared.stop.load(Ordering::Acquire) {
        {
            let mut notifications = client.notifications();
            let mut arriving = notifications.timeout_iter(POLL);
            while let Some(notification) = arriving.next().map_err(failed)? {
                shared.forget(notification.payload());
            }
        }
        // The iterator also ends quietly when the session closed; a session that died without
        // a word shows at the periodic round trip.
        if client.is_closed() {
            return Err("the server closed the session".into());
        }
        if last_check.elapsed() >= LIVENESS_CHECK_EVERY {
            client.is_valid(LIVENESS_TIMEOUT).map_err(failed)?;
            last_check = std::time::Instant::now();
        }
    }
    shared.listening.store(false, Ordering::Release);
    Ok(())
}
