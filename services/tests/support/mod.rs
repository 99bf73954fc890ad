//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod central;
pub mod fault_proxy;
pub mod pki;
pub mod scripted_central;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kiosk_protocol::wire::{MaskedApplicant, PersonalData, TransactionOutcome, TransactionRecord};
use kiosk_protocol::{mask_id_number, mask_name};

pub const ID_NUMBER: &str = "110105194912310021";
pub const NAME: &str = "王小明";

/// A directory removed when the test ends.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    pub fn new(label: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("kiosk-services-{label}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn applicant() -> PersonalData {
    PersonalData {
        name: NAME.into(),
        id_number: ID_NUMBER.into(),
        address: "北京市东城区和平里东街18号".into(),
    }
}

/// A completed transaction record, masked as the flow engine would hand it over.
pub fn transaction(transaction_id: &str) -> TransactionRecord {
    TransactionRecord {
        transaction_id: transaction_id.into(),
        item_code: "HJ-001".into(),
        item_name: "户籍证明".into(),
        department: "公安局".into(),
        outcome: TransactionOutcome::Completed,
        started_at: "2026-11-21T10:00:00Z".into(),
        finished_at: "2026-11-21T10:04:00Z".into(),
        applicant: Some(MaskedApplicant {
            card_type: "resident".into(),
            masked_name: mask_name(NAME),
            masked_id_number: mask_id_number(ID_NUMBER),
        }),
        form: Default::default(),
        steps: vec!["read_id_card".into(), "submit".into()],
        abandoned_at_step: None,
        catalogue_version: 1,
    }
}

/// Polls `condition` until it holds or `limit` passes; returns whether it held.
pub fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
