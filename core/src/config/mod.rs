//! The kiosk configuration file (`kiosk.toml`, DESIGN §11): parsed with
//! `serde(deny_unknown_fields)`, then validated; every problem names its full key path.
//!
//! * [`model`] — the sections and their defaults.
//! * [`validate`] — value checks that the types alone cannot express.

mod model;
mod validate;

pub use model::{
    CatalogueSection, CentralSection, DevicePort, DeviceSection, DevicesSection, FaceSection,
    KioskConfig, KioskSection, MaintenanceSection, Orientation, StaffEntry, StoreSection,
    TimeoutsSection, UiSection,
};

use std::path::{Path, PathBuf};

/// Why a configuration could not be used. The message names the key and the problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{path} is not valid TOML: {message}")]
    Syntax {
        /// The file (or `<text>` when parsed from a string).
        path: PathBuf,
        /// What the TOML parser said, with line and column.
        message: String,
    },
    /// A key is unknown, missing or has a bad value.
    #[error("{key}: {problem}")]
    Invalid {
        /// Full dotted key path, e.g. `devices.receipt_printer.baud`.
        key: String,
        /// What is wrong and, where possible, what to write instead.
        problem: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

impl KioskConfig {
    /// Reads, parses and validates a configuration file. Relative paths inside it are resolved
    /// against the file's folder.
    pub fn load(path: impl AsRef<Path>) -> Result<KioskConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        KioskConfig::parse_with_base(&text, base).map_err(|e| match e {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates configuration text; relative paths are resolved against `base`.
    pub fn parse_with_base(text: &str, base: &Path) -> Result<KioskConfig, ConfigError> {
        let value: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: PathBuf::from("<text>"),
            message: e.to_string().trim().to_string(),
        })?;
        let mut config: KioskConfig = value.try_into().map_err(|e: toml::de::Error| {
            let message = crate::toml_error::describe(&e, "");
            match message.split_once(": ") {
                Some((key, problem)) => ConfigError::invalid(key, problem),
                None => ConfigError::invalid("(file)", message),
            }
        })?;
        validate::validate(&config)?;
        config.resolve_paths(base);
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.store.path);
        resolve(&mut self.store.key_file);
        if let Some(key) = self.central.key_file.as_mut() {
            resolve(key);
        }
        if let Some(ca) = self.central.ca_file.as_mut() {
            resolve(ca);
        }
        resolve(&mut self.catalogue.path);
        if let Some(keys) = self.catalogue.verifying_keys.as_mut() {
            resolve(keys);
        }
        if let Some(reader) = &mut self.devices.id_card_reader
            && let Some(path) = &mut reader.photo_decoder
        {
            resolve(path);
        }
    }

    /// The device classes this kiosk has, all assumed usable until the device manager says
    /// otherwise.
    pub fn device_presence(&self) -> crate::DevicePresence {
        crate::DevicePresence::with_present(self.devices.configured().map(|(class, _)| class))
    }
}

#[cfg(test)]
mod tests;
