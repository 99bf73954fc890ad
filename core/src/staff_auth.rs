//! Staff PIN check for diagnostics mode (issue 8): Argon2id PHC hashes, lock-out with a growing
//! delay after wrong PINs.
//!
//! Pure logic: the caller passes the monotonic time (`now_ms`) in; nothing here reads a clock,
//! touches files or logs. A PIN is only ever borrowed for the check and never kept. The hashes
//! come from the kiosk configuration or from the centre as PHC strings
//! (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), made with [`hash_pin`] (or any Argon2id tool).
//!
//! Lock-out schedule ([`LockoutPolicy`], defaults): the first 3 wrong PINs in a row are free; the
//! 3rd starts a 30 s lock-out; every further wrong PIN (each one possible only once the previous
//! lock-out has passed) locks out for twice as long as the last one, capped at 15 min. While
//! locked out, PINs are not checked at all. A correct PIN resets the count. A malformed entry
//! (empty, not 4–12 digits) is refused without counting: it can never be a PIN.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Deserialize;

/// Shortest accepted PIN.
pub const MIN_PIN_DIGITS: usize = 4;
/// Longest accepted PIN.
pub const MAX_PIN_DIGITS: usize = 12;

/// A member of staff, as identified by a correct PIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StaffId(String);

impl StaffId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StaffId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One member of staff's credential, as written in the kiosk config or pushed by the centre.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffCredential {
    pub staff_id: String,
    /// Argon2id PHC string.
    pub pin_hash: String,
}

impl std::fmt::Debug for StaffCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffCredential")
            .field("staff_id", &self.staff_id)
            .field("pin_hash", &"…")
            .finish()
    }
}

/// Why a PIN did not open diagnostics mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No member of staff has this PIN. `attempts_left_before_lockout` is how many more wrong
    /// PINs are possible before a lock-out (0: this one started a lock-out; see
    /// [`StaffPinVerifier::locked_out_for`]).
    #[error("wrong PIN ({attempts_left_before_lockout} attempts left before lock-out)")]
    WrongPin { attempts_left_before_lockout: u32 },
    /// Too many wrong PINs: no PIN is checked until the delay has passed.
    #[error("too many wrong PINs: try again in {} s", retry_after_ms.div_ceil(1000))]
    LockedOut { retry_after_ms: u64 },
    /// Not a PIN at all (empty, or not 4–12 digits); not counted as an attempt.
    #[error("a PIN is 4 to 12 digits")]
    Malformed,
}

/// A credential that cannot be used; names the member of staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffAuthConfigError {
    #[error("staff.{staff_id}.pin_hash: {problem}")]
    BadHash { staff_id: String, problem: String },
    #[error("staff id {0:?} is empty or appears more than once")]
    BadStaffId(String),
}

/// How hard wrong PINs are punished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong PINs in a row allowed before the first lock-out (the last of them starts it).
    pub free_attempts: u32,
    /// Length of the first lock-out.
    pub first_lockout_ms: u64,
    /// The lock-out doubles with every further wrong PIN, up to this.
    pub max_lockout_ms: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_attempts: 3,
            first_lockout_ms: 30_000,
            max_lockout_ms: 15 * 60_000,
        }
    }
}

impl LockoutPolicy {
    /// The lock-out that the `failures`-th wrong PIN in a row starts (0 for none).
    pub fn lockout_after(&self, failures: u32) -> u64 {
        let free = self.free_attempts.max(1);
        if failures < free {
            return 0;
        }
        let doublings = failures - free;
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        self.first_lockout_ms
            .saturating_mul(factor)
            .min(self.max_lockout_ms)
    }
}

struct Credential {
    staff_id: StaffId,
    pin_hash: String,
}

/// Checks staff PINs and keeps the lock-out state of one kiosk (in memory).
pub struct StaffPinVerifier {
    credentials: Vec<Credential>,
    policy: LockoutPolicy,
    consecutive_failures: u32,
    locked_until_ms: Option<u64>,
}

impl std::fmt::Debug for StaffPinVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffPinVerifier")
            .field("staff", &self.credentials.len())
            .field("policy", &self.policy)
            .field("consecutive_failures", &self.consecutive_failures)
            .field("locked_until_ms", &self.locked_until_ms)
            .finish()
    }
}

impl StaffPinVerifier {
    /// A verifier for these credentials. Every hash must be an Argon2id PHC string and every
    /// staff id non-empty and unique.
    pub fn new(
        credentials: &[StaffCredential],
        policy: LockoutPolicy,
    ) -> Result<Self, StaffAuthConfigError> {
        Ok(Self {
            credentials: checked_credentials(credentials)?,
            policy,
            consecutive_failures: 0,
            locked_until_ms: None,
        })
    }

    /// Replaces the credentials (e.g. pushed by the centre). The lock-out state stays.
    pub fn replace_credentials(
        &mut self,
        credentials: &[StaffCredential],
    ) -> Result<(), StaffAuthConfigError> {
        self.credentials = checked_credentials(credentials)?;
        Ok(())
    }

    /// How many members of staff can log in.
    pub fn staff_count(&self) -> usize {
        self.credentials.len()
    }

    /// Which member of staff has this PIN. Each PIN is tried against every credential (the PIN
    /// identifies the member of staff; if two share a PIN the first in the list wins).
    pub fn verify(&mut self, pin: &str, now_ms: u64) -> Result<StaffId, AuthError> {
        self.check(pin, now_ms, None)
    }

    /// Whether `pin` is the PIN of `staff_id` (identified beforehand, e.g. by a staff card).
    /// Counts towards the same lock-out as [`Self::verify`].
    pub fn verify_staff(
        &mut self,
        staff_id: &str,
        pin: &str,
        now_ms: u64,
    ) -> Result<StaffId, AuthError> {
        self.check(pin, now_ms, Some(staff_id))
    }

    /// Time left of the current lock-out, if any.
    pub fn locked_out_for(&self, now_ms: u64) -> Option<u64> {
        self.locked_until_ms
            .filter(|until| *until > now_ms)
            .map(|until| until - now_ms)
    }

    /// Wrong PINs in a row since the last correct one.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    fn check(&mut self, pin: &str, now_ms: u64, only: Option<&str>) -> Result<StaffId, AuthError> {
        if let Some(retry_after_ms) = self.locked_out_for(now_ms) {
            return Err(AuthError::LockedOut { retry_after_ms });
        }
        if !is_well_formed_pin(pin) {
            return Err(AuthError::Malformed);
        }
        let argon2 = Argon2::default();
        let found = self
            .credentials
            .iter()
            .filter(|c| only.is_none_or(|id| c.staff_id.as_str() == id))
            .find(|c| {
                // Parsed again each time so no hash object outlives the check; the hashes were
                // validated when the credentials were set.
                PasswordHash::new(&c.pin_hash)
                    .is_ok_and(|hash| argon2.verify_password(pin.as_bytes(), &hash).is_ok())
            });
        if let Some(credential) = found {
            self.consecutive_failures = 0;
            self.locked_until_ms = None;
            return Ok(credential.staff_id.clone());
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let lockout = self.policy.lockout_after(self.consecutive_failures);
        if lockout > 0 {
            self.locked_until_ms = Some(now_ms.saturating_add(lockout));
        }
        let attempts_left_before_lockout = self
            .policy
            .free_attempts
            .max(1)
            .saturating_sub(self.consecutive_failures);
        Err(AuthError::WrongPin {
            attempts_left_before_lockout,
        })
    }
}

fn checked_credentials(
    credentials: &[StaffCredential],
) -> Result<Vec<Credential>, StaffAuthConfigError> {
    let mut checked: Vec<Credential> = Vec::with_capacity(credentials.len());
    for credential in credentials {
        let staff_id = credential.staff_id.trim();
        if staff_id.is_empty() || checked.iter().any(|c| c.staff_id.as_str() == staff_id) {
            return Err(StaffAuthConfigError::BadStaffId(staff_id.to_string()));
        }
        let bad = |problem: &str| StaffAuthConfigError::BadHash {
            staff_id: staff_id.to_string(),
            problem: problem.to_string(),
        };
        let hash = PasswordHash::new(credential.pin_hash.trim())
            .map_err(|_| bad("not a PHC hash string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)"))?;
        if hash.algorithm.as_str() != "argon2id" {
            return Err(bad("must be an Argon2id hash"));
        }
        if hash.hash.is_none() {
            return Err(bad("holds no hash value"));
        }
        Params::try_from(&hash).map_err(|_| bad("Argon2 parameters out of range"))?;
        checked.push(Credential {
            staff_id: StaffId(staff_id.to_string()),
            pin_hash: credential.pin_hash.trim().to_string(),
        });
    }
    Ok(checked)
}

/// 4–12 ASCII digits.
pub fn is_well_formed_pin(pin: &str) -> bool {
    (MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&pin.len())
        && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Why a PIN could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinHashError {
    #[error("a PIN is 4 to 12 digits")]
    Malformed,
    #[error("hashing failed: {0}")]
    Hashing(String),
}

/// Hashes a PIN for the kiosk config (tooling and tests): Argon2id with the crate's default
/// parameters (19 MiB, 2 passes, 1 lane) and a random salt, as a PHC string.
pub fn hash_pin(pin: &str) -> Result<String, PinHashError> {
    hash_pin_with(pin, &Argon2::default())
}

/// Hashes a PIN with explicit Argon2id cost parameters (memory in KiB, passes, lanes).
pub fn hash_pin_with_cost(
    pin: &str,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<String, PinHashError> {
    let params = Params::new(memory_kib, passes, lanes, None)
        .map_err(|e| PinHashError::Hashing(e.to_string()))?;
    hash_pin_with(
        pin,
        &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
    )
}

fn hash_pin_with(pin: &str, argon2: &Argon2<'_>) -> Result<String, PinHashError> {
    if !is_well_formed_pin(pin) {
        return Err(PinHashError::Malformed);
    }
    let hash: PasswordHash = argon2
        .hash_password(pin.as_bytes())
        .map_err(|e| PinHashError::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap hashes so the lock-out tests do not spend seconds in Argon2.
    fn credential(staff_id: &str, pin: &str) -> StaffCredential {
        StaffCredential {
            staff_id: staff_id.into(),
            pin_hash: hash_pin_with_cost(pin, 64, 1, 1).unwrap(),
        }
    }

    fn verifier() -> StaffPinVerifier {
        StaffPinVerifier::new(
            &[credential("S-001", "2468"), credential("S-002", "135790")],
            LockoutPolicy::default(),
        )
        .unwrap()
    }

    #[test]
    fn hash_pin_makes_a_salted_argon2id_phc_string_that_verifies() {
        let hash = hash_pin("2468").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("2468"));
        assert_ne!(hash, hash_pin("2468").unwrap(), "a fresh salt every time");
        let mut verifier = StaffPinVerifier::new(
            &[StaffCredential {
                staff_id: "S-001".into(),
                pin_hash: hash,
            }],
            LockoutPolicy::default(),
        )
        .unwrap();
        assert_eq!(verifier.verify("2468", 0).unwrap().as_str(), "S-001");
        assert_eq!(hash_pin("12a4"), Err(PinHashError::Malformed));
    }

    #[test]
    fn the_pin_identifies_the_member_of_staff() {
        let mut v = verifier();
        assert_eq!(v.verify("2468", 0).unwrap().as_str(), "S-001");
        assert_eq!(v.verify("135790", 0).unwrap().to_string(), "S-002");
        assert_eq!(
            v.verify_staff("S-002", "135790", 0).unwrap().as_str(),
            "S-002"
        );
        assert_eq!(
            v.verify_staff("S-001", "135790", 0),
            Err(AuthError::WrongPin {
                attempts_left_before_lockout: 2
            }),
            "another member's PIN is wrong for this one"
        );
    }

    #[test]
    fn malformed_pins_are_refused_without_counting() {
        let mut v = verifier();
        for pin in ["", "123", "12a4", "1234567890123", " 2468", "２４６８"] {
            assert_eq!(v.verify(pin, 0), Err(AuthError::Malformed), "{pin:?}");
        }
        assert_eq!(v.consecutive_failures(), 0);
    }

    #[test]
    fn three_wrong_pins_lock_out_for_30_s_then_the_delay_doubles_up_to_the_cap() {
        let mut v = verifier();
        let mut now = 1_000;
        assert_eq!(
            v.verify("0000", now),
            Err(AuthError::WrongPin {
                attempts_left_before_lockout: 2
            })
        );
        assert_eq!(
            v.verify("0000", now),
            Err(AuthError::WrongPin {
                attempts_left_before_lockout: 1
            })
        );
        assert_eq!(
            v.verify("0000", now),
            Err(AuthError::WrongPin {
                attempts_left_before_lockout: 0
            })
        );
        assert_eq!(v.locked_out_for(now), Some(30_000));
        // While locked out even the right PIN is not checked.
        assert_eq!(
            v.verify("2468", now + 10_000),
            Err(AuthError::LockedOut {
                retry_after_ms: 20_000
            })
        );
        assert_eq!(
            v.consecutive_failures(),
            3,
            "a locked-out try does not count"
        );

        // Each further wrong PIN doubles the lock-out: 60 s, 120 s, … capped at 15 min.
        let mut expected = Vec::new();
        for _ in 0..7 {
            now += v.locked_out_for(now).unwrap();
            assert_eq!(v.locked_out_for(now), None);
            assert_eq!(
                v.verify("9999", now),
                Err(AuthError::WrongPin {
                    attempts_left_before_lockout: 0
                })
            );
            expected.push(v.locked_out_for(now).unwrap());
        }
        assert_eq!(
            expected,
            [60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]
        );

        // After the lock-out, the right PIN gets in and resets the count.
        now += 900_000;
        assert_eq!(v.verify("2468", now).unwrap().as_str(), "S-001");
        assert_eq!(v.consecutive_failures(), 0);
        assert_eq!(v.locked_out_for(now), None);
        assert_eq!(
            v.verify("0000", now),
            Err(AuthError::WrongPin {
                attempts_left_before_lockout: 2
            })
        );
    }

    #[test]
    fn the_schedule_is_a_pure_function_of_the_failure_count() {
        let p = LockoutPolicy::default();
        let schedule: Vec<u64> = (1..=9).map(|n| p.lockout_after(n)).collect();
        assert_eq!(
            schedule,
            [
                0, 0, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000
            ]
        );
        assert_eq!(p.lockout_after(u32::MAX), 900_000, "no overflow");
    }

    #[test]
    fn a_correct_pin_before_the_lockout_resets_the_count() {
        let mut v = verifier();
        assert!(v.verify("0000", 0).is_err());
        assert!(v.verify("0000", 0).is_err());
        assert!(v.verify("2468", 0).is_ok());
        assert_eq!(
            v.verify("0000", 0),
            Err(AuthError::WrongPin {
                attempts_left_before_lockout: 2
            })
        );
    }

    #[test]
    fn bad_credentials_are_refused_naming_the_member_of_staff() {
        let policy = LockoutPolicy::default();
        let err = StaffPinVerifier::new(
            &[StaffCredential {
                staff_id: "S-009".into(),
                pin_hash: "2468".into(),
            }],
            policy,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("staff.S-009.pin_hash:"),
            "{err}"
        );

        let argon2i = {
            let params = Params::new(64, 1, 1, None).unwrap();
            Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
                .hash_password(b"2468")
                .unwrap()
                .to_string()
        };
        let err = StaffPinVerifier::new(
            &[StaffCredential {
                staff_id: "S-009".into(),
                pin_hash: argon2i,
            }],
            policy,
        )
        .unwrap_err();
        assert!(err.to_string().contains("Argon2id"), "{err}");

        let duplicate = [credential("S-001", "2468"), credential("S-001", "1357")];
        assert!(matches!(
            StaffPinVerifier::new(&duplicate, policy),
            Err(StaffAuthConfigError::BadStaffId(_))
        ));
    }

    #[test]
    fn replacing_credentials_keeps_the_lockout() {
        let mut v = verifier();
        for _ in 0..3 {
            let _ = v.verify("0000", 0);
        }
        v.replace_credentials(&[credential("S-003", "8642")])
            .unwrap();
        assert!(matches!(
            v.verify("8642", 1),
            Err(AuthError::LockedOut { .. })
        ));
        assert_eq!(v.verify("8642", 30_000).unwrap().as_str(), "S-003");
        assert_eq!(v.staff_count(), 1);
    }

    #[test]
    fn credentials_deserialize_from_toml_and_never_print_the_hash() {
        #[derive(Deserialize)]
        struct Config {
            staff: Vec<StaffCredential>,
        }
        let hash = hash_pin_with_cost("2468", 64, 1, 1).unwrap();
        let text = format!("[[staff]]\nstaff_id = \"S-001\"\npin_hash = \"{hash}\"\n");
        let config: Config = toml::from_str(&text).unwrap();
        let shown = format!("{:?}", config.staff);
        assert!(!shown.contains(&hash) && shown.contains("S-001"));
        let mut v = StaffPinVerifier::new(&config.staff, LockoutPolicy::default()).unwrap();
        assert!(v.verify("2468", 0).is_ok());
        assert!(!format!("{v:?}").contains("argon2"));
    }
}
