//! Takes the catalogue the centre publishes to this kiosk (DESIGN §7 "catalogue pull"): when a
//! heartbeat reply names a newer desired version, fetch the signed envelope, check its Ed25519
//! signature against the configured verifying keys, parse it, check its version, and hand it to
//! the controller (which keeps it in the store and swaps it in between sessions). Anything that
//! fails those checks is refused and reported; a refused version is not fetched again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use kiosk_core::catalogue::Catalogue;
use kiosk_protocol::VerifyingKeySet;
use kiosk_protocol::wire::HeartbeatReply;
use kiosk_services::store::StoredCatalogue;
use kiosk_services::sync::CentralClient;

/// What the updater hands to the controller.
#[derive(Debug)]
pub enum CatalogueDelivery {
    /// Verified and parsed; newer than what the kiosk ran when it was fetched.
    Verified {
        catalogue: Box<Catalogue>,
        stored: StoredCatalogue,
    },
    /// Refused: why, and which version (when known).
    Refused {
        version: Option<u32>,
        reason: String,
    },
}

/// The updater thread. Stops on drop.
pub struct CatalogueUpdater {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CatalogueUpdater {
    /// Starts watching `reply` for a desired version above `current`.
    pub fn spawn(
        client: CentralClient,
        keys_file: PathBuf,
        current: u32,
        reply: impl Fn() -> Option<HeartbeatReply> + Send + 'static,
        check_every: Duration,
    ) -> (CatalogueUpdater, Receiver<CatalogueDelivery>) {
        let (tx, rx) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("catalogue-updater".into())
                .spawn(move || {
                    run(
                        &client,
                        &keys_file,
                        current,
                        &reply,
                        check_every,
                        &stop,
                        &tx,
                    )
                })
                .ok()
        };
        (CatalogueUpdater { stop, thread }, rx)
    }
}

impl Drop for CatalogueUpdater {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    client: &CentralClient,
    keys_file: &Path,
    mut current: u32,
    reply: &dyn Fn() -> Option<HeartbeatReply>,
    check_every: Duration,
    stop: &AtomicBool,
    deliveries: &Sender<CatalogueDelivery>,
) {
    let mut refused: BTreeSet<u32> = BTreeSet::new();
    while !stop.load(Ordering::SeqCst) {
        let desired = reply().and_then(|r| r.desired_catalogue_version);
        if let Some(version) = desired
            && version > current
            && !refused.contains(&version)
        {
            match fetch(client, keys_file, current) {
                Ok(None) => {}
                Ok(Some(delivery)) => {
                    match &delivery {
                        CatalogueDelivery::Verified { catalogue, .. } => {
                            current = catalogue.version;
                        }
                        CatalogueDelivery::Refused { version: v, .. } => {
                            refused.insert(v.unwrap_or(version));
                        }
                    }
                    if deliveries.send(delivery).is_err() {
                        return;
                    }
                }
                // The centre is unreachable or busy: try again at the next check.
                Err(e) => tracing::warn!(error = %e, "catalogue not fetched"),
            }
        }
        sleep_unless_stopped(check_every, stop);
    }
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(100);
    let mut slept = Duration::ZERO;
    while slept < total && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(step);
        slept += step;
    }
}

/// One pull: `Ok(None)` when nothing is published; network trouble is `Err`.
fn fetch(
    client: &CentralClient,
    keys_file: &Path,
    current: u32,
) -> Result<Option<CatalogueDelivery>, String> {
    let Some(envelope) = client.get_desired_catalogue().map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let refuse = |reason: String| {
        Ok(Some(CatalogueDelivery::Refused {
            version: Some(envelope.version),
            reason,
        }))
    };
    let keys = match VerifyingKeySet::load(keys_file) {
        Ok(keys) => keys,
        Err(e) => return refuse(format!("verifying keys: {e}")),
    };
    if let Err(e) = keys.verify(&envelope) {
        return refuse(format!("signature: {e}"));
    }
    let catalogue = match Catalogue::parse(&envelope.catalogue) {
        Ok(c) => c,
        Err(e) => return refuse(format!("catalogue: {e}")),
    };
    if catalogue.version != envelope.version {
        return refuse(format!(
            "the envelope says version {} but the catalogue is version {}",
            envelope.version, catalogue.version
        ));
    }
    if catalogue.version <= current {
        return refuse(format!(
            "version {} is not newer than {current}",
            catalogue.version
        ));
    }
    Ok(Some(CatalogueDelivery::Verified {
        stored: StoredCatalogue {
            version: envelope.version,
            text: envelope.catalogue.clone(),
            key_id: envelope.key_id.clone(),
            signature: envelope.signature.clone(),
        },
        catalogue: Box::new(catalogue),
    }))
}
