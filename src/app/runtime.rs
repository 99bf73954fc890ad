//! Builds a running kiosk from its configuration: store, devices, controller, uploader and
//! heartbeat. Used by the window, the headless demo and the tests alike.

use super::catalogue_updater::CatalogueUpdater;
use super::clock::AppClock;
use super::controller::KioskController;
use crate::devices::{
    CameraOpener, CardReaderSettings, CardWriterWorkerSettings, DeviceManager, DeviceSettings,
    DocumentPrinterSettings, FaceCheckSettings, PrinterSettings, QrScannerSettings,
    RemoteFaceVerifier,
};
use anyhow::Context;
use kiosk_core::catalogue::Catalogue;
use kiosk_core::config::KioskConfig;
use kiosk_drivers::idcard::{PhotoDecoder, VendorDecoderConfig, VendorWltDecoder};
use kiosk_protocol::SealingKey;
use kiosk_services::store::KioskStore;
use kiosk_services::sync::{
    CentralClient, CentralEndpoint, HeartbeatConfig, HeartbeatSender, KioskIdentity, KioskSnapshot,
    OutboxUploader, TrustedRoots, UploaderConfig,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the card writer is and how to talk to it.
#[derive(Debug, Clone)]
pub struct CardWriterPort {
    pub port: String,
    pub model: kiosk_drivers::cardwriter::CardWriterModel,
    pub baud: u32,
    pub key_file: std::path::PathBuf,
    pub take_timeout: Duration,
}

/// Device ports resolved to real paths (a simulator's pty path in the demo).
#[derive(Debug, Clone, Default)]
pub struct ResolvedPorts {
    pub id_card_reader: Option<(String, u32)>,
    pub receipt_printer: Option<(String, u32)>,
    /// The A4 queue's IPP address.
    pub document_printer: Option<String>,
    /// The card writer: port, model, baud, key file.
    pub card_writer: Option<CardWriterPort>,
    pub qr_scanner: Option<(String, u32)>,
    /// The face camera.
    pub camera: Option<CameraPort>,
    /// A card photo decoder that replaces the configured one (the demo's).
    pub photo_decoder: Option<SharedPhotoDecoder>,
}

/// How to open the face camera.
#[derive(Clone)]
pub struct CameraPort(pub CameraOpener);

impl std::fmt::Debug for CameraPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CameraPort")
    }
}

/// A card photo decoder shared with the camera's worker.
#[derive(Clone)]
pub struct SharedPhotoDecoder(pub Arc<dyn PhotoDecoder>);

impl std::fmt::Debug for SharedPhotoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedPhotoDecoder")
    }
}

pub struct KioskRuntime {
    pub controller: KioskController,
    uploader: Option<Arc<OutboxUploader>>,
    heartbeat: Option<HeartbeatSender>,
    _catalogue_updater: Option<CatalogueUpdater>,
    store: Arc<KioskStore>,
    photo_decoder: Result<Arc<dyn PhotoDecoder>, String>,
}

impl KioskRuntime {
    /// Opens the store, starts the devices and the sync threads, loads the catalogue.
    pub fn start(config: KioskConfig, ports: ResolvedPorts) -> anyhow::Result<Self> {
        let catalogue = Catalogue::load(&config.catalogue.path)
            .with_context(|| format!("catalogue {}", config.catalogue.path.display()))?;
        if let Some(dir) = config.store.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("store folder {}", dir.display()))?;
        }
        let key = SealingKey::load_or_create(&config.store.key_file)?;
        let store = Arc::new(KioskStore::open(&config.store.path, key)?);
        let catalogue = newest_catalogue(catalogue, &store);

        let reader_section = config.devices.id_card_reader.clone();
        let poll_interval = Duration::from_millis(u64::from(
            reader_section
                .as_ref()
                .and_then(|r| r.poll_interval_ms)
                .unwrap_or(200),
        ));
        // With a key file (the normal case) every request is signed with the kiosk's own key,
        // enrolling first with `[central] enrol_code` when needed; otherwise the legacy token.
        let mut endpoint = match &config.central.key_file {
            Some(key_file) => {
                let identity = KioskIdentity::load_or_create(
                    key_file,
                    &config.kiosk.id,
                    config.central.enrol_code.clone(),
                )
                .context("the kiosk's key file")?;
                CentralEndpoint::signed(config.central.url.clone(), Arc::new(identity))
            }
            None => CentralEndpoint::new(
                config.central.url.clone(),
                config.kiosk.id.clone(),
                config.central.token.clone(),
            ),
        };
        if let Some(ca_file) = &config.central.ca_file {
            endpoint.trusted_roots = TrustedRoots::from_pem_file(ca_file)
                .map_err(|e| anyhow::anyhow!("[central] ca_file: {e}"))?;
        }
        let photo_decoder = match &ports.photo_decoder {
            Some(decoder) => Ok(Arc::clone(&decoder.0)),
            None => load_photo_decoder(reader_section.as_ref()),
        };
        // Face chips go to the centre when the card photo cannot be decoded or the item asks.
        let remote_face: Option<Arc<dyn RemoteFaceVerifier>> = Some(Arc::new(
            super::remote_face::CentreFaceVerifier::new(CentralClient::new(endpoint.clone())),
        ));
        let face_check = ports.camera.as_ref().map(|camera| {
            face_check_settings(
                &config,
                camera,
                photo_decoder.as_ref().ok(),
                remote_face.clone(),
            )
        });
        let devices = DeviceManager::start(DeviceSettings {
            card_reader: ports.id_card_reader.map(|(port, baud)| CardReaderSettings {
                port,
                baud,
                poll_interval,
            }),
            receipt_printer: ports.receipt_printer.map(|(port, baud)| PrinterSettings {
                port,
                baud,
                status_interval: Duration::from_secs(2),
            }),
            document_printer: ports.document_printer.map(|uri| DocumentPrinterSettings {
                uri,
                status_interval: Duration::from_secs(3),
                job_timeout: Duration::from_secs(u64::from(config.timeouts.processing_s)),
            }),
            card_writer: ports.card_writer.map(|c| CardWriterWorkerSettings {
                port: c.port,
                model: c.model,
                baud: c.baud,
                key_file: c.key_file,
                take_timeout: c.take_timeout,
                status_interval: Duration::from_secs(2),
            }),
            qr_scanner: ports
                .qr_scanner
                .map(|(port, baud)| QrScannerSettings { port, baud }),
            face_check,
        });
        devices.wait_until_started(Duration::from_secs(3));

        let uploader = OutboxUploader::spawn(
            Arc::clone(&store),
            CentralClient::new(endpoint.clone()),
            UploaderConfig {
                batch_size: config.central.upload_batch_size as usize,
                ..UploaderConfig::default()
            },
        )
        .context("starting the outbox uploader")?;
        let uploader = Arc::new(uploader);
        let wake = {
            let uploader = Arc::downgrade(&uploader);
            Box::new(move || {
                if let Some(u) = uploader.upgrade() {
                    u.wake();
                }
            }) as Box<dyn Fn() + Send>
        };
        let mut controller = KioskController::new(
            config.clone(),
            catalogue,
            Arc::clone(&store),
            devices,
            Arc::new(AppClock::default()),
            wake,
        );
        {
            let uploader = Arc::downgrade(&uploader);
            controller
                .set_sync_status_source(Box::new(move || uploader.upgrade().map(|u| u.status())));
        }
        let snapshot: Arc<Mutex<KioskSnapshot>> = controller.heartbeat_snapshot();
        let heartbeat = HeartbeatSender::spawn(
            Arc::clone(&store),
            CentralClient::new(endpoint.clone()),
            move || snapshot.lock().map(|s| s.clone()).unwrap_or_default(),
            HeartbeatConfig {
                interval: Duration::from_secs(u64::from(config.central.heartbeat_interval_s)),
                ..HeartbeatConfig::default()
            },
        )
        .context("starting the heartbeat")?;
        let updater_endpoint = endpoint;
        let catalogue_updater = match &config.catalogue.verifying_keys {
            Some(keys) => {
                let (updater, deliveries) = CatalogueUpdater::spawn(
                    CentralClient::new(updater_endpoint),
                    keys.clone(),
                    controller.catalogue_version(),
                    heartbeat.reply_watch(),
                    Duration::from_secs(1),
                );
                controller.set_catalogue_deliveries(deliveries);
                Some(updater)
            }
            None => {
                tracing::info!("no catalogue verifying keys configured: catalogue updates off");
                None
            }
        };
        Ok(Self {
            controller,
            uploader: Some(uploader),
            heartbeat: Some(heartbeat),
            _catalogue_updater: catalogue_updater,
            store,
            photo_decoder,
        })
    }

    /// The card photo decoder, or why there is none (face checks then ask the centre).
    pub fn photo_decoder(&self) -> Result<&Arc<dyn PhotoDecoder>, &str> {
        self.photo_decoder.as_ref().map_err(String::as_str)
    }

    /// Sends a heartbeat at once (the centre's reply may name a new catalogue).
    pub fn send_heartbeat_now(&self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.send_now();
        }
    }

    pub fn store(&self) -> &Arc<KioskStore> {
        &self.store
    }

    pub fn uploader(&self) -> Option<&OutboxUploader> {
        self.uploader.as_deref()
    }

    /// Waits until the outbox is empty (everything acknowledged by the centre).
    pub fn wait_for_outbox_drained(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(u) = &self.uploader {
                u.wake();
            }
            if self.store.outbox_depth().map(|d| d == 0).unwrap_or(false) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for KioskRuntime {
    fn drop(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.stop();
        }
        if let Some(u) = self.uploader.take().and_then(Arc::into_inner) {
            u.stop();
        }
    }
}

/// The face check's settings from `[face]` and the camera's port. Liveness off is logged loudly
/// at every start (it also shows on the diagnostics screen and in every heartbeat).
fn face_check_settings(
    config: &KioskConfig,
    camera: &CameraPort,
    photo_decoder: Option<&Arc<dyn PhotoDecoder>>,
    remote: Option<Arc<dyn RemoteFaceVerifier>>,
) -> FaceCheckSettings {
    let face = &config.face;
    if !face.liveness_active() {
        tracing::warn!("face check liveness challenge is OFF ([face] liveness = \"off\")");
    }
    FaceCheckSettings {
        open_camera: Arc::clone(&camera.0),
        models: face
            .models_dir
            .as_ref()
            .map(kiosk_face::ModelPaths::in_dir)
            .unwrap_or_else(kiosk_face::ModelPaths::bundled),
        liveness_active: face.liveness_active(),
        threshold: face.threshold.unwrap_or(kiosk_face::DEFAULT_THRESHOLD),
        timeout: Duration::from_secs(u64::from(face.timeout_s)),
        photo_decoder: photo_decoder.cloned(),
        remote,
        probe_interval: Duration::from_secs(5),
    }
}

/// Loads the vendor's WLT photo decoder named in the configuration. A missing or broken
/// library does not stop the kiosk: it is logged, and face checks fall back to the centre.
fn load_photo_decoder(
    reader: Option<&kiosk_core::config::DeviceSection>,
) -> Result<Arc<dyn PhotoDecoder>, String> {
    let Some(path) = reader.and_then(|r| r.photo_decoder.as_ref()) else {
        return Err("no photo decoder configured".into());
    };
    match VendorWltDecoder::load(VendorDecoderConfig::new(path)) {
        Ok(decoder) => {
            tracing::info!(library = %path.display(), "card photo decoder loaded");
            Ok(Arc::new(decoder))
        }
        Err(e) => {
            tracing::error!(library = %path.display(), error = %e, "card photo decoder not loaded");
            Err(e.to_string())
        }
    }
}

/// The configured catalogue, or a newer one the centre sent earlier (kept in the store), so a
/// restart does not fall back to an older catalogue.
fn newest_catalogue(from_file: Catalogue, store: &KioskStore) -> Catalogue {
    match store.latest_catalogue() {
        Ok(Some(stored)) if stored.version > from_file.version => {
            match Catalogue::parse(&stored.text) {
                Ok(catalogue) => {
                    tracing::info!(version = catalogue.version, "catalogue from the centre");
                    catalogue
                }
                Err(e) => {
                    tracing::error!(error = %e, "stored catalogue unreadable; using the file");
                    from_file
                }
            }
        }
        Ok(_) => from_file,
        Err(e) => {
            tracing::error!(error = %e, "stored catalogues not read; using the file");
            from_file
        }
    }
}
