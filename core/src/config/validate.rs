//! Value checks on a parsed configuration that the types alone cannot express.

use super::ConfigError;
use super::model::{DeviceSection, KioskConfig};

/// Checks every value; the first problem found is returned.
pub(super) fn validate(config: &KioskConfig) -> Result<(), ConfigError> {
    check_kiosk_id(&config.kiosk.id)?;
    non_empty("kiosk.name", &config.kiosk.name)?;
    non_empty("kiosk.location", &config.kiosk.location)?;
    non_empty("kiosk.service_phone", &config.kiosk.service_phone)?;
    check_url("central.url", &config.central.url)?;
    check_centre_is_https(&config.central.url)?;
    if config.central.key_file.is_none() {
        non_empty("central.token", &config.central.token).map_err(|_| {
            ConfigError::invalid(
                "central.key_file",
                "missing: give the kiosk's key file (or a legacy token)",
            )
        })?;
    }
    positive(
        "central.heartbeat_interval_s",
        config.central.heartbeat_interval_s,
    )?;
    positive(
        "central.upload_batch_size",
        config.central.upload_batch_size,
    )?;
    non_empty_path("store.path", &config.store.path)?;
    non_empty_path("store.key_file", &config.store.key_file)?;
    non_empty_path("catalogue.path", &config.catalogue.path)?;
    if let Some(keys) = &config.catalogue.verifying_keys {
        non_empty_path("catalogue.verifying_keys", keys)?;
    }
    for (class, device) in config.devices.configured() {
        check_device(&format!("devices.{class}"), device)?;
    }
    let t = &config.timeouts;
    positive("timeouts.step_s", t.step_s)?;
    positive("timeouts.processing_s", t.processing_s)?;
    positive("timeouts.goodbye_s", t.goodbye_s)?;
    if t.warning_s >= t.step_s {
        return Err(ConfigError::invalid(
            "timeouts.warning_s",
            format!(
                "{} must be less than timeouts.step_s ({})",
                t.warning_s, t.step_s
            ),
        ));
    }
    let m = &config.maintenance;
    positive("maintenance.fault_after_s", m.fault_after_s)?;
    positive(
        "maintenance.disinfection_interval_h",
        m.disinfection_interval_h,
    )?;
    positive("maintenance.diagnostics_idle_s", m.diagnostics_idle_s)?;
    positive("maintenance.receipt_roll_mm", m.receipt_roll_mm)?;
    positive("maintenance.a4_sheets", m.a4_sheets)?;
    positive("maintenance.card_stock", m.card_stock)?;
    check_staff(&config.staff)?;
    let f = &config.face;
    if f.liveness != "active" && f.liveness != "off" {
        return Err(ConfigError::invalid(
            "face.liveness",
            format!("`{}`: must be \"active\" or \"off\"", f.liveness),
        ));
    }
    if let Some(threshold) = f.threshold
        && !(threshold > 0.0 && threshold < 2.0)
    {
        return Err(ConfigError::invalid(
            "face.threshold",
            format!("{threshold}: must be between 0 and 2 (an embedding distance)"),
        ));
    }
    positive("face.timeout_s", f.timeout_s)?;
    Ok(())
}

/// Staff ids are unique identifiers; every PIN hash is an Argon2id PHC string.
fn check_staff(staff: &[super::model::StaffEntry]) -> Result<(), ConfigError> {
    use crate::staff_auth::{LockoutPolicy, StaffAuthConfigError, StaffPinVerifier};
    for (i, entry) in staff.iter().enumerate() {
        let key = format!("staff[{i}].id");
        non_empty(&key, &entry.id)?;
        if entry.id.len() > 64
            || !entry
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::invalid(
                key,
                format!(
                    "{:?} must be 1 to 64 ASCII letters, digits, '-' or '_'",
                    entry.id
                ),
            ));
        }
        if staff[..i].iter().any(|other| other.id == entry.id) {
            return Err(ConfigError::invalid(
                key,
                format!("{:?} appears more than once", entry.id),
            ));
        }
        let one = [entry.credential()];
        if let Err(e) = StaffPinVerifier::new(&one, LockoutPolicy::default()) {
            let problem = match e {
                StaffAuthConfigError::BadHash { problem, .. } => format!(
                    "{problem} (write an Argon2id PHC string, `$argon2id$v=19$…`, made with kiosk_core::staff_auth::hash_pin)"
                ),
                other => other.to_string(),
            };
            return Err(ConfigError::invalid(
                format!("staff[{i}].pin_hash"),
                problem,
            ));
        }
    }
    Ok(())
}

fn check_kiosk_id(id: &str) -> Result<(), ConfigError> {
    let key = "kiosk.id";
    let rest = id.strip_prefix("KSK-").ok_or_else(|| {
        ConfigError::invalid(
            key,
            format!("{id:?} must start with \"KSK-\", e.g. \"KSK-SZ-FT-0001\""),
        )
    })?;
    if rest.is_empty()
        || id.len() > 40
        || !rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ConfigError::invalid(
            key,
            format!(
                "{id:?} must be \"KSK-\" followed by 1 to 36 ASCII letters, digits, '-' or '_'"
            ),
        ));
    }
    Ok(())
}

fn non_empty(key: &str, value: &str) -> Result<(), ConfigError> {
    if value.trim().is_empty() {
        Err(ConfigError::invalid(key, "must not be empty"))
    } else {
        Ok(())
    }
}

fn non_empty_path(key: &str, value: &std::path::Path) -> Result<(), ConfigError> {
    if value.as_os_str().is_empty() {
        Err(ConfigError::invalid(key, "must not be empty"))
    } else {
        Ok(())
    }
}

fn positive(key: &str, value: u32) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::invalid(key, "must be greater than 0"))
    } else {
        Ok(())
    }
}

fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match host {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(' ') => Ok(()),
        _ => Err(ConfigError::invalid(
            key,
            format!("{url:?} is not an http:// or https:// URL with a host"),
        )),
    }
}

/// Requests carry citizens' applications: plain HTTP is allowed only to this machine.
fn check_centre_is_https(url: &str) -> Result<(), ConfigError> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Ok(());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            "central.url",
            format!(
                "{url:?} is plain HTTP to another machine; use https:// (plain http:// only \
                 reaches a centre on this machine)"
            ),
        ))
    }
}

fn check_device(key: &str, device: &DeviceSection) -> Result<(), ConfigError> {
    let port = device.port.trim();
    let is_camera = key.ends_with("camera");
    // The camera may also play a folder of images or one picture (bench and demo set-ups).
    let camera_file = is_camera
        && ["sequence:", "sequence-once:", "still:"]
            .iter()
            .any(|p| port.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    let port_ok = port == "simulator"
        || camera_file
        || (port.starts_with('/') && port.len() > 1)
        || port
            .split_once("://")
            .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty());
    if !port_ok {
        return Err(ConfigError::invalid(
            format!("{key}.port"),
            format!(
                "{:?} is not a device path (\"/dev/ttyUSB0\"), an address (\"tcp://10.0.0.5:9100\") or \"simulator\"",
                device.port
            ),
        ));
    }
    if let Some(model) = &device.model {
        non_empty(&format!("{key}.model"), model)?;
    }
    for (name, value, range) in [
        ("width", device.width, 16..=4096),
        ("height", device.height, 16..=4096),
        ("fps", device.fps, 1..=120),
    ] {
        let Some(value) = value else { continue };
        if !is_camera {
            return Err(ConfigError::invalid(
                format!("{key}.{name}"),
                "only the camera has a frame size and rate",
            ));
        }
        if !range.contains(&value) {
            return Err(ConfigError::invalid(
                format!("{key}.{name}"),
                format!("{value} is outside {}–{}", range.start(), range.end()),
            ));
        }
    }
    let is_reader = key.ends_with("id_card_reader");
    if !is_reader && device.photo_decoder.is_some() {
        return Err(ConfigError::invalid(
            format!("{key}.photo_decoder"),
            "only the ID card reader has a photo decoder",
        ));
    }
    if let Some(path) = &device.photo_decoder
        && path.as_os_str().is_empty()
    {
        return Err(ConfigError::invalid(
            format!("{key}.photo_decoder"),
            "must name the decoder library file",
        ));
    }
    let is_card_writer = key.ends_with("card_writer");
    if !is_card_writer && (device.key_file.is_some() || device.take_timeout_s.is_some()) {
        let field = if device.key_file.is_some() {
            "key_file"
        } else {
            "take_timeout_s"
        };
        return Err(ConfigError::invalid(
            format!("{key}.{field}"),
            "only the card writer has a record key and a take-away time",
        ));
    }
    if is_card_writer {
        if let Some(model) = &device.model
            && !matches!(model.as_str(), "crt591" | "k720")
        {
            return Err(ConfigError::invalid(
                format!("{key}.model"),
                format!("{model:?} is not a card writer model (crt591 or k720)"),
            ));
        }
        if port != "simulator" && device.key_file.is_none() {
            return Err(ConfigError::invalid(
                format!("{key}.key_file"),
                "a card writer needs the card-record key file",
            ));
        }
        if let Some(s) = device.take_timeout_s
            && !(5..=600).contains(&s)
        {
            return Err(ConfigError::invalid(
                format!("{key}.take_timeout_s"),
                format!("{s} is out of range (5 to 600 s)"),
            ));
        }
    }
    match (is_reader, device.poll_interval_ms) {
        (false, Some(_)) => {
            return Err(ConfigError::invalid(
                format!("{key}.poll_interval_ms"),
                "only the ID card reader is polled",
            ));
        }
        (true, Some(ms)) if !(50..=1000).contains(&ms) => {
            return Err(ConfigError::invalid(
                format!("{key}.poll_interval_ms"),
                format!("{ms} is out of range (50 to 1000 ms)"),
            ));
        }
        _ => {}
    }
    if let Some(baud) = device.baud
        && !DeviceSection::SUPPORTED_BAUDS.contains(&baud)
    {
        return Err(ConfigError::invalid(
            format!("{key}.baud"),
            format!(
                "{baud} is not a supported baud rate (use 9600, 19200, 38400, 57600 or 115200)"
            ),
        ));
    }
    Ok(())
}
