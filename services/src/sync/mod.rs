//! Sync with the central service (DESIGN §7): the kiosk always connects out.
//!
//! * [`client`] — [`CentralClient`], the HTTP calls and how their answers are classified
//!   (outbox, heartbeat, catalogue pull, remote face verification).
//! * [`uploader`] — [`OutboxUploader`], the outbox → centre thread, and [`OutboxDrainer`], one
//!   drain of the queue (what the thread runs; usable directly in tests and at shutdown).
//! * [`heartbeat`] — [`HeartbeatSender`], the periodic state report.
//! * [`identity`] — [`KioskIdentity`], the kiosk's Ed25519 key file and enrolment; requests
//!   are signed with it.
//! * [`backoff`] — exponential back-off with full jitter.

pub mod backoff;
pub mod client;
pub mod heartbeat;
pub mod identity;
pub mod uploader;

pub use backoff::BackoffPolicy;
pub use client::{CentralClient, CentralEndpoint, PostError, TrustedRoots};
pub use heartbeat::{
    HeartbeatConfig, HeartbeatSender, HeartbeatSource, HeartbeatStatus, KioskSnapshot,
    compose_heartbeat,
};
pub use identity::{IdentityError, KioskIdentity};
/// The remote face verification types (`CentralClient::verify_face_remote`).
pub use kiosk_protocol::face_verify::{HolderReference, RemoteDecision, VerifyOutcome};
pub use uploader::{
    DrainReport, OutboxDrainer, OutboxUploader, SyncProblem, UploadFailure, UploaderConfig,
    UploaderStatus,
};

/// A stop flag and a wake flag a worker thread waits on, and the thread that owns them.
pub(crate) mod signal {
    use std::sync::{Arc, Condvar, Mutex, MutexGuard};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    /// A named background thread with its [`WorkerSignal`]; stopped and joined on drop.
    pub struct WorkerThread {
        name: &'static str,
        signal: Arc<WorkerSignal>,
        thread: Option<JoinHandle<()>>,
    }

    impl WorkerThread {
        pub fn spawn(
            name: &'static str,
            body: impl FnOnce(&WorkerSignal) + Send + 'static,
        ) -> std::io::Result<Self> {
            let signal = Arc::new(WorkerSignal::default());
            let thread = {
                let signal = Arc::clone(&signal);
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(move || body(&signal))?
            };
            Ok(Self {
                name,
                signal,
                thread: Some(thread),
            })
        }

        pub fn wake(&self) {
            self.signal.wake();
        }

        /// Asks the thread to stop and waits for it.
        pub fn stop(&mut self) {
            self.signal.stop();
            if let Some(thread) = self.thread.take()
                && thread.join().is_err()
            {
                tracing::error!(thread = self.name, "worker thread panicked");
            }
        }
    }

    impl Drop for WorkerThread {
        fn drop(&mut self) {
            self.stop();
        }
    }

    /// Locks a status shared with a worker thread, even after a panic in it.
    pub fn lock<T>(status: &Mutex<T>) -> MutexGuard<'_, T> {
        status.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[derive(Default)]
    struct Flags {
        stop: bool,
        wake: bool,
    }

    /// How a [`WorkerSignal::wait`] ended.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum WaitEnd {
        Stop,
        Woken,
        TimedOut,
    }

    #[derive(Default)]
    pub struct WorkerSignal {
        flags: Mutex<Flags>,
        changed: Condvar,
    }

    impl WorkerSignal {
        fn flags(&self) -> MutexGuard<'_, Flags> {
            self.flags.lock().unwrap_or_else(|p| p.into_inner())
        }

        pub fn stop(&self) {
            self.flags().stop = true;
            self.changed.notify_all();
        }

        pub fn wake(&self) {
            self.flags().wake = true;
            self.changed.notify_all();
        }

        pub fn stopping(&self) -> bool {
            self.flags().stop
        }

        /// Clears a pending wake-up; work about to start covers it.
        pub fn take_wake(&self) -> bool {
            std::mem::take(&mut self.flags().wake)
        }

        /// Waits for `timeout`, for a stop, or — when `wakeable` — for a wake-up. A wake-up that
        /// arrives while not wakeable stays pending.
        pub fn wait(&self, timeout: Duration, wakeable: bool) -> WaitEnd {
            let deadline = Instant::now() + timeout;
            let mut flags = self.flags();
            loop {
                if flags.stop {
                    return WaitEnd::Stop;
                }
                if wakeable && flags.wake {
                    return WaitEnd::Woken;
                }
                let now = Instant::now();
                if now >= deadline {
                    return WaitEnd::TimedOut;
                }
                flags = self
                    .changed
                    .wait_timeout(flags, deadline - now)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        }
    }
}
