//! Diagnostics mode for maintenance staff (DESIGN §2): the hidden entry gesture, the PIN check
//! with lock-out, and the device, fault, disinfection, consumable, health and reprint screens.
//! Every staff action is audited (the store audits its own staff writes: fault report/close,
//! disinfection, replenish). Never entered during a citizen session; never shows personal data
//! (self-tests show masked fields only); leaves after inactivity.

use super::{KioskController, UTC_OFFSET_MINUTES};
use crate::app::clock::wall_clock_unix_ms;
use crate::devices::PrintPurpose;
use crate::receipt::encode_receipt;
use crate::ui::model::{DiagChoiceModel, DiagRowModel, DiagView};
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::{DocumentContent, FlowEvent, ReceiptContent};
use kiosk_core::staff_auth::{AuthError, LockoutPolicy, StaffPinVerifier};
use kiosk_core::text::{Language, LocalizedText};
use kiosk_drivers::escpos::receipt::{Align, Cut, ReceiptBuilder};
use kiosk_protocol::wire::{Consumable, FaultSeverity, SupplyLevel};
use kiosk_services::store::{FaultReport, PrintoutKind, StoredPrintout};
use std::collections::BTreeSet;
use std::time::Duration;
use time::OffsetDateTime;

/// Taps on the title that open the PIN screen, and the time they must fall within.
const ENTRY_TAPS: usize = 5;
const ENTRY_WINDOW_MS: u64 = 3_000;

pub const METHODS: [(&str, &str, &str); 3] = [
    ("alcohol_wipe", "75% 酒精擦拭", "75% alcohol wipe"),
    (
        "chlorine_wipe",
        "含氯消毒液擦拭",
        "Chlorine disinfectant wipe",
    ),
    ("uv_lamp", "紫外线灯照射", "UV lamp"),
];

pub const SURFACES: [(&str, &str, &str); 4] = [
    ("screen", "触摸屏", "Touch screen"),
    ("card_reader", "读卡区", "Card reader"),
    ("keypad", "按键区", "Keypad"),
    ("printer_outlet", "出纸口", "Printer outlet"),
];

/// Descriptions staff can pick when reporting a fault: code, Chinese, English.
pub const FAULT_DESCRIPTIONS: [(&str, &str, &str); 4] = [
    ("damaged", "外观损坏", "Physically damaged"),
    ("paper_jam", "卡纸", "Paper jam"),
    ("unresponsive", "无响应", "Does not respond"),
    ("dirty", "污损需清洁", "Dirty, needs cleaning"),
];

/// Notes staff choose from when they close a fault (key, Chinese, English).
pub const CLOSE_NOTES: [(&str, &str, &str); 5] = [
    ("fixed", "现场已处理", "Fixed on site"),
    ("replaced", "已更换耗材或部件", "Supplies or parts replaced"),
    ("restarted", "设备已重启恢复", "Restarted, working again"),
    ("vendor", "已报厂家维修", "Handed to the vendor for repair"),
    ("false_alarm", "误报，无故障", "False alarm, nothing wrong"),
];

fn t(zh: impl Into<String>, en: impl Into<String>) -> LocalizedText {
    LocalizedText::new(zh, en)
}

/// The staff side of the controller: PIN verifier, entry gesture, and the open diagnostics
/// session, if any.
#[derive(Debug)]
pub struct StaffDesk {
    verifier: Option<StaffPinVerifier>,
    title_taps: Vec<u64>,
    state: Option<DiagState>,
    idle_ms: u64,
}

#[derive(Debug, Default)]
struct DiagState {
    /// `None` while the PIN is being entered.
    staff: Option<String>,
    page: String,
    pin: String,
    entry: String,
    message: LocalizedText,
    bad: bool,
    last_activity_ms: u64,
    method: String,
    surfaces: BTreeSet<String>,
    fault_device: String,
    fault_desc: String,
    /// The note a fault is closed with (a `CLOSE_NOTES` key).
    close_note: String,
    /// A self-test waiting for its device result.
    pending_test: Option<DeviceClass>,
    /// The pending print is a reprint, not a test receipt.
    reprinting: bool,
}

impl StaffDesk {
    pub fn new(config: &kiosk_core::config::KioskConfig) -> Self {
        let credentials: Vec<_> = config.staff.iter().map(|s| s.credential()).collect();
        let verifier = if credentials.is_empty() {
            None
        } else {
            match StaffPinVerifier::new(&credentials, LockoutPolicy::default()) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::error!(error = %e, "staff credentials refused; diagnostics mode disabled");
                    None
                }
            }
        };
        Self {
            verifier,
            title_taps: Vec::new(),
            state: None,
            idle_ms: u64::from(config.maintenance.diagnostics_idle_s) * 1000,
        }
    }

    pub fn active(&self) -> bool {
        self.state.is_some()
    }

    pub fn logged_in(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.staff.as_deref())
    }

    /// A staff PIN typed on a citizen's screen (staff assistance with the identity check):
    /// who it is, or what to tell them. Shares the lockout with the diagnostics PIN screen.
    pub fn verify_pin(&mut self, pin: &str, now: u64) -> Result<String, LocalizedText> {
        let Some(verifier) = self.verifier.as_mut() else {
            return Err(t(
                "本机未配置工作人员，请到服务窗口办理",
                "No staff are set up on this kiosk; please go to a service counter",
            ));
        };
        match verifier.verify(pin, now) {
            Ok(staff) => Ok(staff.as_str().to_string()),
            Err(AuthError::WrongPin {
                attempts_left_before_lockout,
            }) => Err(t(
                format!("密码错误，还可尝试 {attempts_left_before_lockout} 次"),
                format!("Wrong PIN, {attempts_left_before_lockout} attempts left"),
            )),
            Err(AuthError::LockedOut { retry_after_ms }) => {
                let s = retry_after_ms.div_ceil(1000);
                Err(t(
                    format!("错误次数过多，请 {s} 秒后再试"),
                    format!("Too many wrong PINs, try again in {s} s"),
                ))
            }
            Err(AuthError::Malformed) => {
                Err(t("请输入 4–12 位数字密码", "Enter a PIN of 4 to 12 digits"))
            }
        }
    }
}

fn local_hhmm(at: OffsetDateTime) -> String {
    let offset = time::UtcOffset::from_whole_seconds(UTC_OFFSET_MINUTES * 60)
        .unwrap_or(time::UtcOffset::UTC);
    let local = at.to_offset(offset);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

fn local_time(rfc3339: &str) -> String {
    OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|at| {
            let offset = time::UtcOffset::from_whole_seconds(UTC_OFFSET_MINUTES * 60)
                .unwrap_or(time::UtcOffset::UTC);
            let l = at.to_offset(offset);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                l.year(),
                u8::from(l.month()),
                l.day(),
                l.hour(),
                l.minute()
            )
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

fn consumable_name(c: Consumable) -> LocalizedText {
    match c {
        Consumable::ReceiptPaper => t("凭条纸卷", "Receipt paper roll"),
        Consumable::A4Paper => t("A4 纸", "A4 paper"),
        Consumable::CardStock => t("空白卡", "Blank cards"),
    }
}

fn level_text(level: SupplyLevel) -> (LocalizedText, &'static str) {
    match level {
        SupplyLevel::Ok => (t("充足", "OK"), "ok"),
        SupplyLevel::Low => (t("偏低，请补充", "Low, replenish soon"), "warn"),
        SupplyLevel::Empty => (t("已用完", "Empty"), "bad"),
    }
}

fn device_name(name: &str) -> LocalizedText {
    match DeviceClass::from_name(name) {
        Some(class) => class.display_name(),
        None if name == "outbox" => t("上传队列", "Upload queue"),
        None => t(name, name),
    }
}

impl KioskController {
    /// The disinfection interval from the configuration.
    pub(super) fn disinfection_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.maintenance.disinfection_interval_h) * 3600)
    }

    /// "上次消毒 HH:MM" for the home screen; empty when none was ever recorded.
    pub(super) fn disinfection_note(&self) -> LocalizedText {
        match self.store.last_disinfection() {
            Ok(Some(record)) => {
                let hhmm = OffsetDateTime::parse(
                    &record.at,
                    &time::format_description::well_known::Rfc3339,
                )
                .map(local_hhmm)
                .unwrap_or_default();
                t(
                    format!("本机上次消毒 {hhmm}"),
                    format!("Last disinfected at {hhmm}"),
                )
            }
            _ => LocalizedText::default(),
        }
    }

    pub(super) fn audit(&self, actor: &str, action: &str, detail: &str) {
        if let Err(e) = self.store.audit(actor, action, detail, self.clock.wall()) {
            tracing::error!(action, error = %e, "audit entry not written");
        } else {
            (self.wake_uploader)();
        }
    }

    /// A tap on the title: five within three seconds open the PIN screen (home screen only).
    pub(super) fn title_tap(&mut self, now: u64) {
        if self.session.is_some() || self.staff.active() {
            self.staff.title_taps.clear();
            return;
        }
        self.staff
            .title_taps
            .retain(|t| now.saturating_sub(*t) <= ENTRY_WINDOW_MS);
        self.staff.title_taps.push(now);
        if self.staff.title_taps.len() >= ENTRY_TAPS {
            self.staff.title_taps.clear();
            if self.staff.verifier.is_none() {
                tracing::warn!("staff entry gesture, but no staff are configured");
                return;
            }
            tracing::info!("staff PIN screen opened");
            self.staff.state = Some(DiagState {
                page: "pin".into(),
                last_activity_ms: now,
                method: METHODS[0].0.into(),
                surfaces: SURFACES.iter().map(|s| s.0.to_string()).collect(),
                fault_device: self
                    .devices
                    .present()
                    .first()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                fault_desc: FAULT_DESCRIPTIONS[0].0.into(),
                ..DiagState::default()
            });
        }
    }

    /// Leaves diagnostics mode after inactivity; called from `pump`.
    pub(super) fn diag_tick(&mut self, now: u64) {
        let idle = self.staff.idle_ms;
        let Some(state) = &self.staff.state else {
            return;
        };
        if now.saturating_sub(state.last_activity_ms) >= idle {
            let actor = state.staff.clone();
            self.leave_diagnostics("idle");
            if let Some(actor) = actor {
                self.audit(&actor, "diagnostics.exit", "left after inactivity");
            }
        }
    }

    pub(super) fn diag_touch(&mut self, now: u64) {
        if let Some(state) = self.staff.state.as_mut() {
            state.last_activity_ms = now;
        }
    }

    fn leave_diagnostics(&mut self, why: &str) {
        if let Some(state) = self.staff.state.take()
            && state.pending_test.is_some()
        {
            self.devices.stop_card_reading();
        }
        tracing::info!(why, "diagnostics mode closed");
    }

    /// Device results while a self-test waits; returns true when the event was taken.
    /// The card writer's self-test cycle finished.
    pub(super) fn diag_card_writer_tested(&mut self, outcome: Result<String, String>) {
        let Some(state) = self.staff.state.as_mut() else {
            return;
        };
        state.pending_test = None;
        state.bad = outcome.is_err();
        state.message = match outcome {
            Ok(uid) => t(
                format!("发卡机自检通过：测试卡 {uid} 已写入、核对并回收"),
                format!("Card writer test passed: test card {uid} written, checked and captured"),
            ),
            Err(reason) => t(
                format!("发卡机自检失败：{reason}"),
                format!("Card writer test failed: {reason}"),
            ),
        };
    }

    /// The camera test finished (nothing of the frames is kept).
    pub(super) fn diag_camera_tested(&mut self, outcome: Result<String, String>) {
        let Some(state) = self.staff.state.as_mut() else {
            return;
        };
        state.pending_test = None;
        state.bad = outcome.is_err();
        state.message = match outcome {
            Ok(summary) => t(
                format!("摄像头自检通过：{summary}"),
                format!("Camera test passed: {summary}"),
            ),
            Err(reason) => t(
                format!("摄像头自检失败：{reason}"),
                format!("Camera test failed: {reason}"),
            ),
        };
    }

    /// A staff print on the A4 printer (reprint) finished.
    pub(super) fn diag_document_printed(&mut self, outcome: Result<(), String>) {
        let Some(state) = self.staff.state.as_mut() else {
            return;
        };
        state.pending_test = None;
        let reprint = std::mem::take(&mut state.reprinting);
        state.bad = outcome.is_err();
        state.message = match (reprint, outcome) {
            (true, Ok(())) => t("A4 证明已补打", "A4 certificate reprinted"),
            (false, Ok(())) => t("A4 测试页已打印", "A4 test page printed"),
            (true, Err(reason)) => t(
                format!("A4 证明补打失败：{reason}"),
                format!("A4 certificate not reprinted: {reason}"),
            ),
            (false, Err(reason)) => t(
                format!("A4 测试页打印失败：{reason}"),
                format!("A4 test page failed: {reason}"),
            ),
        };
    }

    pub(super) fn diag_device_result(&mut self, event: &FlowEvent) -> bool {
        let Some(state) = self.staff.state.as_mut() else {
            return false;
        };
        let Some(class) = state.pending_test else {
            return false;
        };
        let (ok, msg) = match (class, event) {
            (DeviceClass::ReceiptPrinter, FlowEvent::ReceiptPrinted) if state.reprinting => {
                state.reprinting = false;
                state.pending_test = None;
                state.message = t("回执已补打", "Receipt reprinted");
                state.bad = false;
                return true;
            }
            (DeviceClass::ReceiptPrinter, FlowEvent::ReceiptPrinted) => {
                (true, t("测试凭条已打印", "Test receipt printed"))
            }
            (DeviceClass::ReceiptPrinter, FlowEvent::ReceiptFailed { reason }) => (
                false,
                t(
                    format!("测试凭条打印失败：{reason}"),
                    format!("Test receipt failed: {reason}"),
                ),
            ),
            (
                DeviceClass::IdCardReader | DeviceClass::QrScanner,
                FlowEvent::CardRead(applicant),
            ) => {
                let m = applicant.masked();
                let shown = if class == DeviceClass::QrScanner {
                    let code: String = m.masked_id_number.chars().take(4).collect();
                    format!("{code}****")
                } else {
                    format!("{}  {}", m.masked_name, m.masked_id_number)
                };
                (
                    true,
                    t(format!("读取成功：{shown}"), format!("Read OK: {shown}")),
                )
            }
            (
                DeviceClass::IdCardReader | DeviceClass::QrScanner,
                FlowEvent::CardReadFailed(why),
            ) => (
                false,
                t(
                    format!("读取失败：{why:?}"),
                    format!("Read failed: {why:?}"),
                ),
            ),
            (_, FlowEvent::CardPresent) => return true,
            _ => return false,
        };
        state.pending_test = None;
        state.message = msg;
        state.bad = !ok;
        let actor = state.staff.clone().unwrap_or_else(|| "system".into());
        if matches!(class, DeviceClass::IdCardReader | DeviceClass::QrScanner) {
            self.devices.stop_card_reading();
        }
        self.audit(
            &actor,
            "device.self_test",
            &format!(
                "{}: {}",
                class.as_str(),
                if ok { "passed" } else { "failed" }
            ),
        );
        true
    }

    /// A tap in diagnostics mode.
    pub(super) fn diag_action(&mut self, action: &str, now: u64) {
        if self.staff.state.is_none() {
            return;
        }
        self.diag_touch(now);
        let (verb, arg) = action.split_once(':').unwrap_or((action, ""));
        let on_pin = self.staff.logged_in().is_none();
        if on_pin {
            match verb {
                "key" => self.pin_key(arg),
                "pin-ok" => self.check_pin(now),
                "exit" => self.leave_diagnostics("cancelled"),
                _ => {}
            }
            return;
        }
        let staff = self.staff.logged_in().unwrap_or("system").to_string();
        let at = self.clock.wall();
        let Some(state) = self.staff.state.as_mut() else {
            return;
        };
        state.message = LocalizedText::default();
        state.bad = false;
        match verb {
            "page" => {
                state.page = arg.to_string();
                state.entry.clear();
            }
            "exit" => {
                self.leave_diagnostics("staff left");
                self.audit(&staff, "diagnostics.exit", "staff left");
            }
            "key" => match arg {
                "back" => {
                    state.entry.pop();
                }
                "clear" => state.entry.clear(),
                d if d.len() == 1
                    && d.chars().all(|c| c.is_ascii_digit())
                    && state.entry.len() < 14 =>
                {
                    state.entry.push_str(d);
                }
                _ => {}
            },
            "method" => state.method = arg.to_string(),
            "surface" => {
                if !state.surfaces.remove(arg) {
                    state.surfaces.insert(arg.to_string());
                }
            }
            "fault-device" => state.fault_device = arg.to_string(),
            "fault-desc" => state.fault_desc = arg.to_string(),
            "close-note" => state.close_note = arg.to_string(),
            "self-test" => self.self_test(arg, &staff),
            "reset" => {
                if let Some(class) = DeviceClass::from_name(arg) {
                    self.devices.reset(class);
                    self.audit(&staff, "device.reset", arg);
                    self.set_result(
                        true,
                        t(
                            format!("{}已复位", class.display_name().zh),
                            format!("{} reset", class.display_name().en),
                        ),
                        LocalizedText::default(),
                    );
                }
            }
            "close-fault" => {
                let note = CLOSE_NOTES
                    .iter()
                    .find(|n| n.0 == state.close_note)
                    .unwrap_or(&CLOSE_NOTES[0]);
                let note = format!("{} / {}", note.1, note.2);
                let result = self.store.close_fault(arg, Some(&note), Some(&staff), at);
                self.set_result(
                    result.is_ok(),
                    t("故障已关闭", "Fault closed"),
                    t("故障未能关闭", "The fault could not be closed"),
                );
                (self.wake_uploader)();
            }
            "report-fault" => {
                let (device, desc) = (state.fault_device.clone(), state.fault_desc.clone());
                let text = FAULT_DESCRIPTIONS
                    .iter()
                    .find(|d| d.0 == desc)
                    .map(|d| format!("{} / {}", d.1, d.2))
                    .unwrap_or_default();
                let report =
                    FaultReport::by_staff(&staff, &device, &desc, FaultSeverity::Major, text);
                let result = self.store.open_fault(&report, at);
                self.set_result(
                    result.is_ok(),
                    t("故障已上报", "Fault reported"),
                    t("故障未能上报", "The fault could not be reported"),
                );
                (self.wake_uploader)();
            }
            "record-disinfection" => {
                let (method, surfaces) = (state.method.clone(), state.surfaces.clone());
                if surfaces.is_empty() {
                    self.set_result(
                        false,
                        LocalizedText::default(),
                        t("请至少选择一个部位", "Choose at least one surface"),
                    );
                    return;
                }
                let surfaces: Vec<String> = surfaces.into_iter().collect();
                let result = self
                    .store
                    .record_disinfection(&staff, &method, &surfaces, at);
                self.set_result(
                    result.is_ok(),
                    t("消毒记录已保存", "Disinfection recorded"),
                    t("消毒记录未能保存", "The disinfection could not be recorded"),
                );
                (self.wake_uploader)();
            }
            "replenish" => {
                let Some(consumable) = Consumable::ALL.into_iter().find(|c| c.as_str() == arg)
                else {
                    return;
                };
                let m = &self.config.maintenance;
                let capacity = match consumable {
                    Consumable::ReceiptPaper => m.receipt_roll_mm,
                    Consumable::A4Paper => m.a4_sheets,
                    Consumable::CardStock => m.card_stock,
                };
                let result = self.store.replenish(consumable, capacity, &staff, at);
                self.set_result(
                    result.is_ok(),
                    t("已记录补充", "Replenishment recorded"),
                    t("补充未能记录", "The replenishment could not be recorded"),
                );
                (self.wake_uploader)();
            }
            "sync-now" => {
                (self.wake_uploader)();
                self.audit(&staff, "sync.now", "upload requested by staff");
                self.set_result(
                    true,
                    t("已请求立即同步", "Sync requested"),
                    LocalizedText::default(),
                );
            }
            "reprint" => self.reprint(&staff),
            _ => tracing::warn!(action, "unknown diagnostics action"),
        }
    }

    fn set_result(&mut self, ok: bool, good: LocalizedText, bad: LocalizedText) {
        if let Some(state) = self.staff.state.as_mut() {
            state.message = if ok { good } else { bad };
            state.bad = !ok;
        }
    }

    fn pin_key(&mut self, key: &str) {
        let Some(state) = self.staff.state.as_mut() else {
            return;
        };
        match key {
            "back" => {
                state.pin.pop();
            }
            "clear" => state.pin.clear(),
            d if d.len() == 1
                && d.chars().all(|c| c.is_ascii_digit())
                && state.pin.len() < kiosk_core::staff_auth::MAX_PIN_DIGITS =>
            {
                state.pin.push_str(d);
            }
            _ => {}
        }
    }

    fn check_pin(&mut self, now: u64) {
        let Some(state) = self.staff.state.as_mut() else {
            return;
        };
        let pin = std::mem::take(&mut state.pin);
        let Some(verifier) = self.staff.verifier.as_mut() else {
            return;
        };
        let result = verifier.verify(&pin, now);
        drop(pin);
        match result {
            Ok(staff) => {
                let staff = staff.as_str().to_string();
                if let Some(state) = self.staff.state.as_mut() {
                    state.staff = Some(staff.clone());
                    state.page = "devices".into();
                    state.message = LocalizedText::default();
                    state.bad = false;
                }
                tracing::info!(staff = %staff, "diagnostics mode entered");
                self.audit(&staff, "diagnostics.enter", "PIN accepted");
            }
            Err(AuthError::WrongPin {
                attempts_left_before_lockout,
            }) => {
                let locked = verifier.locked_out_for(now);
                let failures = verifier.consecutive_failures();
                if let Some(state) = self.staff.state.as_mut() {
                    state.bad = true;
                    state.message = t(
                        format!("密码错误，还可尝试 {attempts_left_before_lockout} 次"),
                        format!("Wrong PIN, {attempts_left_before_lockout} attempts left"),
                    );
                }
                self.audit(
                    "system",
                    "diagnostics.pin_refused",
                    &format!("wrong PIN, {failures} in a row"),
                );
                if let Some(ms) = locked {
                    self.audit(
                        "system",
                        "diagnostics.locked_out",
                        &format!("locked out for {} s", ms.div_ceil(1000)),
                    );
                }
            }
            Err(AuthError::LockedOut { retry_after_ms }) => {
                self.audit(
                    "system",
                    "diagnostics.pin_refused",
                    &format!("locked out, {} s left", retry_after_ms.div_ceil(1000)),
                );
            }
            Err(AuthError::Malformed) => {
                if let Some(state) = self.staff.state.as_mut() {
                    state.bad = true;
                    state.message = t("请输入 4–12 位数字密码", "Enter a PIN of 4 to 12 digits");
                }
                self.audit("system", "diagnostics.pin_refused", "malformed PIN");
            }
        }
    }

    fn self_test(&mut self, device: &str, staff: &str) {
        let Some(class) = DeviceClass::from_name(device) else {
            return;
        };
        match class {
            DeviceClass::ReceiptPrinter => {
                let wall =
                    kiosk_core::wall_clock::CivilTime::at(wall_clock_unix_ms(), UTC_OFFSET_MINUTES)
                        .display_minutes();
                let bytes = ReceiptBuilder::new()
                    .align(Align::Center)
                    .bold(true)
                    .line("打印机自检 PRINTER SELF-TEST")
                    .bold(false)
                    .line(&format!("{} {}", self.config.kiosk.id, wall))
                    .line(&format!("staff {staff}"))
                    .line("0123456789 ABCDEFGHIJ 中文测试")
                    .feed(3)
                    .cut(Cut::Partial)
                    .build()
                    .into_bytes();
                self.devices.print_receipt(bytes);
            }
            DeviceClass::DocumentPrinter => {
                // Staff have just refilled or cleared the printer: restart a stopped queue,
                // then print a test page.
                self.devices.resume_document_printer();
                let content = crate::app::a4_test_page(&self.config.kiosk.id, staff);
                self.devices
                    .print_document(content, Language::Zh, PrintPurpose::Staff);
            }
            DeviceClass::CardWriter => self.devices.test_card_writer(&self.config.kiosk.id),
            DeviceClass::Camera => self.devices.test_camera(),
            DeviceClass::IdCardReader | DeviceClass::QrScanner => {
                self.devices.start_reading_on(class);
            }
        }
        if let Some(state) = self.staff.state.as_mut() {
            state.pending_test = Some(class);
            state.reprinting = false;
            state.message = match class {
                DeviceClass::ReceiptPrinter => t("正在打印测试凭条…", "Printing a test receipt…"),
                DeviceClass::DocumentPrinter => {
                    t("正在打印 A4 测试页…", "Printing an A4 test page…")
                }
                DeviceClass::CardWriter => t(
                    "发卡机自检：取空白卡、写入、核对、回收…",
                    "Card writer test: blank card, write, check, capture…",
                ),
                DeviceClass::IdCardReader => {
                    t("请将测试卡放在读卡区…", "Place a test card on the reader…")
                }
                DeviceClass::Camera => t(
                    "摄像头自检：请站在摄像头前，取帧两秒…",
                    "Camera test: stand in front of it, two seconds of frames…",
                ),
                _ => t("请将二维码对准扫码口…", "Hold a QR code to the scanner…"),
            };
            state.bad = false;
        }
    }

    fn reprint(&mut self, staff: &str) {
        let Some(state) = self.staff.state.as_mut() else {
            return;
        };
        let digits = state.entry.clone();
        if digits.len() != 14 {
            state.bad = true;
            state.message = t(
                "请输入 14 位：日期 8 位 + 序号 6 位",
                "Enter 14 digits: the date (8) and the number (6)",
            );
            return;
        }
        let id = format!("{}-{}-{}", self.config.kiosk.id, &digits[..8], &digits[8..]);
        let receipt = self
            .store
            .printout(&id, PrintoutKind::Receipt)
            .ok()
            .flatten();
        let document = self
            .store
            .printout(&id, PrintoutKind::Document)
            .ok()
            .flatten();
        let bytes = match receipt.as_ref().and_then(reprint_receipt) {
            Some(bytes) => Some(bytes),
            // No stored receipt (printed before printouts were kept): a short one from the
            // masked transaction record.
            None if document.is_none() => match self.store.transaction(&id) {
                Ok(Some(stored)) => Some(short_reprint(&stored.record)),
                _ => None,
            },
            None => None,
        };
        let document = document.and_then(|p| {
            let content = serde_json::from_value::<DocumentContent>(p.content).ok()?;
            Some((
                content,
                Language::from_code(&p.language).unwrap_or_default(),
            ))
        });
        if bytes.is_none() && document.is_none() {
            state.bad = true;
            state.message = t(format!("未找到办件 {id}"), format!("No transaction {id}"));
            return;
        }
        let has_a4 = self
            .devices
            .present()
            .contains(&DeviceClass::DocumentPrinter);
        let mut what = Vec::new();
        if let Some(bytes) = bytes {
            self.devices.print_receipt(bytes);
            what.push(("回执", "receipt"));
        }
        let mut document_pending = false;
        if let Some((content, language)) = document
            && has_a4
        {
            self.devices.resume_document_printer();
            self.devices
                .print_document(content, language, PrintPurpose::Staff);
            document_pending = true;
            what.push(("A4 证明", "A4 certificate"));
        }
        if let Some(state) = self.staff.state.as_mut() {
            state.pending_test = Some(if document_pending {
                DeviceClass::DocumentPrinter
            } else {
                DeviceClass::ReceiptPrinter
            });
            state.reprinting = true;
            state.bad = false;
            let zh: Vec<&str> = what.iter().map(|w| w.0).collect();
            let en: Vec<&str> = what.iter().map(|w| w.1).collect();
            state.message = t(
                format!("正在补打 {id}：{}", zh.join("、")),
                format!("Reprinting {id}: {}", en.join(", ")),
            );
            state.entry.clear();
        }
        self.audit(staff, "receipt.reprint", &id);
    }

    /// What the diagnostics screens show now.
    pub(super) fn diag_view(&self, now: u64) -> Option<DiagView> {
        let state = self.staff.state.as_ref()?;
        let at = self.clock.wall();
        let status = self
            .store
            .disinfection_status(at, self.disinfection_interval())
            .ok();
        let overdue = status.as_ref().is_none_or(|s| s.overdue);
        let disinfection = match &status {
            Some(s) => {
                let last = s
                    .last
                    .as_ref()
                    .map(|r| format!("{} ({})", local_time(&r.at), r.staff_id))
                    .unwrap_or_else(|| "—".into());
                let due = s.due_at.map(local_hhmm).unwrap_or_else(|| "—".into());
                let hours = self.config.maintenance.disinfection_interval_h;
                if s.overdue {
                    t(
                        format!("消毒已逾期！上次 {last}，间隔 {hours} 小时"),
                        format!("Disinfection overdue! Last {last}, every {hours} h"),
                    )
                } else {
                    t(
                        format!("上次消毒 {last}，下次 {due} 前（间隔 {hours} 小时）"),
                        format!("Last disinfected {last}, next due by {due} (every {hours} h)"),
                    )
                }
            }
            None => LocalizedText::default(),
        };
        let mut view = DiagView {
            page: state.page.clone(),
            staff_id: state.staff.clone().unwrap_or_default(),
            pin_length: state.pin.len(),
            entry: state.entry.clone(),
            message: state.message.clone(),
            message_bad: state.bad,
            disinfection,
            overdue,
            ..DiagView::default()
        };
        if state.staff.is_none() {
            if let Some(ms) = self
                .staff
                .verifier
                .as_ref()
                .and_then(|v| v.locked_out_for(now))
            {
                let s = ms.div_ceil(1000);
                view.message = t(
                    format!("密码错误次数过多，已锁定，请 {s} 秒后再试"),
                    format!("Too many wrong PINs: locked, try again in {s} s"),
                );
                view.message_bad = true;
            }
            return Some(view);
        }
        match state.page.as_str() {
            "devices" => self.device_rows(&mut view),
            "faults" => self.fault_rows(state, &mut view),
            "disinfection" => {
                view.choices_a = METHODS
                    .iter()
                    .map(|m| DiagChoiceModel {
                        action: format!("method:{}", m.0),
                        label: t(m.1, m.2),
                        selected: state.method == m.0,
                    })
                    .collect();
                view.choices_b = SURFACES
                    .iter()
                    .map(|s| DiagChoiceModel {
                        action: format!("surface:{}", s.0),
                        label: t(s.1, s.2),
                        selected: state.surfaces.contains(s.0),
                    })
                    .collect();
                if let Ok(records) = self.store.recent_disinfections(5) {
                    view.rows = records
                        .iter()
                        .map(|r| DiagRowModel {
                            title: t(local_time(&r.at), local_time(&r.at)),
                            detail: t(
                                format!(
                                    "{} · {} · {}",
                                    r.staff_id,
                                    r.method,
                                    r.surfaces.join(", ")
                                ),
                                format!(
                                    "{} · {} · {}",
                                    r.staff_id,
                                    r.method,
                                    r.surfaces.join(", ")
                                ),
                            ),
                            tone: "ok",
                            ..DiagRowModel::default()
                        })
                        .collect();
                }
            }
            "consumables" => {
                if let Ok(levels) = self.store.consumable_levels() {
                    view.rows = levels
                        .iter()
                        .map(|l| {
                            let (level, tone) = level_text(l.level);
                            let remaining = match (l.remaining, l.capacity) {
                                (Some(r), Some(c)) => format!("{r} / {c}"),
                                _ => "—".into(),
                            };
                            let sensor = l
                                .sensor_level
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_else(|| "—".into());
                            DiagRowModel {
                                title: consumable_name(l.consumable),
                                detail: t(
                                    format!(
                                        "{}　剩余 {remaining}　传感器 {sensor}　累计用量 {}",
                                        level.zh, l.used_total
                                    ),
                                    format!(
                                        "{}  remaining {remaining}  sensor {sensor}  used {}",
                                        level.en, l.used_total
                                    ),
                                ),
                                tone,
                                action: format!("replenish:{}", l.consumable.as_str()),
                                action_label: t("已补充", "Replenished"),
                                ..DiagRowModel::default()
                            }
                        })
                        .collect();
                }
            }
            "health" => self.health_rows(&mut view),
            _ => {}
        }
        Some(view)
    }

    fn device_rows(&self, view: &mut DiagView) {
        let statuses = self.devices.statuses();
        view.rows = self
            .devices
            .present()
            .iter()
            .map(|class| {
                let s = statuses.get(class);
                let usable = s.is_some_and(|s| s.is_usable());
                let state = s.map(|s| s.state.as_str()).unwrap_or("starting");
                let detail = s
                    .and_then(super::super::fault_watch::detail_text)
                    .unwrap_or_default();
                let error = s
                    .and_then(|s| s.last_error.clone())
                    .map(|e| format!("  · {e}"))
                    .unwrap_or_default();
                let (mut used_zh, mut used_en) = self.usage_counter(*class);
                // A camera without the liveness challenge is never silent about it.
                let liveness_off = *class == DeviceClass::Camera && !self.devices.liveness_active();
                if liveness_off {
                    used_zh.push_str("  · 活体检测已关闭！仅限测试，不得用于对外服务");
                    used_en.push_str("  · Liveness check OFF! Bench use only, not for citizens");
                }
                let resettable = matches!(
                    class,
                    DeviceClass::ReceiptPrinter
                        | DeviceClass::DocumentPrinter
                        | DeviceClass::CardWriter
                );
                DiagRowModel {
                    title: class.display_name(),
                    detail: t(
                        format!("状态 {state}{detail}{error}{used_zh}"),
                        format!("state {state}{detail}{error}{used_en}"),
                    ),
                    tone: if !usable {
                        "bad"
                    } else if liveness_off {
                        "warn"
                    } else {
                        "ok"
                    },
                    action: format!("self-test:{}", class.as_str()),
                    action_label: t("自检", "Self-test"),
                    action2: if resettable {
                        format!("reset:{}", class.as_str())
                    } else {
                        String::new()
                    },
                    action2_label: if resettable {
                        t("复位", "Reset")
                    } else {
                        LocalizedText::default()
                    },
                }
            })
            .collect();
    }

    /// What the device has used in total, from the consumables counters.
    fn usage_counter(&self, class: DeviceClass) -> (String, String) {
        let consumable = match class {
            DeviceClass::ReceiptPrinter => Consumable::ReceiptPaper,
            DeviceClass::DocumentPrinter => Consumable::A4Paper,
            DeviceClass::CardWriter => Consumable::CardStock,
            _ => return (String::new(), String::new()),
        };
        let Ok(level) = self.store.consumable_level(consumable) else {
            return (String::new(), String::new());
        };
        let n = level.used_total;
        match consumable {
            Consumable::ReceiptPaper => (
                format!("  · 累计用纸 {:.1} 米", n as f64 / 1000.0),
                format!("  · paper used {:.1} m", n as f64 / 1000.0),
            ),
            Consumable::A4Paper => (
                format!("  · 累计打印 {n} 张"),
                format!("  · {n} sheets printed"),
            ),
            Consumable::CardStock => (
                format!("  · 累计用卡 {n} 张"),
                format!("  · {n} cards used"),
            ),
        }
    }

    fn fault_rows(&self, state: &DiagState, view: &mut DiagView) {
        view.choices_a = self
            .devices
            .present()
            .iter()
            .map(|c| DiagChoiceModel {
                action: format!("fault-device:{}", c.as_str()),
                label: c.display_name(),
                selected: state.fault_device == c.as_str(),
            })
            .collect();
        view.choices_b = FAULT_DESCRIPTIONS
            .iter()
            .map(|d| DiagChoiceModel {
                action: format!("fault-desc:{}", d.0),
                label: t(d.1, d.2),
                selected: state.fault_desc == d.0,
            })
            .collect();
        let chosen = if CLOSE_NOTES.iter().any(|n| n.0 == state.close_note) {
            state.close_note.as_str()
        } else {
            CLOSE_NOTES[0].0
        };
        view.choices_c = CLOSE_NOTES
            .iter()
            .map(|n| DiagChoiceModel {
                action: format!("close-note:{}", n.0),
                label: t(n.1, n.2),
                selected: n.0 == chosen,
            })
            .collect();
        if let Ok(faults) = self.store.open_faults() {
            view.rows = faults
                .iter()
                .map(|f| {
                    let name = device_name(&f.device);
                    DiagRowModel {
                        title: t(
                            format!("{} · {}", name.zh, f.code),
                            format!("{} · {}", name.en, f.code),
                        ),
                        detail: t(
                            format!(
                                "{}　{}　{}",
                                local_time(&f.opened_at),
                                f.severity.as_str(),
                                f.message
                            ),
                            format!(
                                "{}  {}  {}",
                                local_time(&f.opened_at),
                                f.severity.as_str(),
                                f.message
                            ),
                        ),
                        tone: "bad",
                        action: format!("close-fault:{}", f.fault_id),
                        action_label: t("关闭", "Close"),
                        ..DiagRowModel::default()
                    }
                })
                .collect();
        }
    }

    fn health_rows(&self, view: &mut DiagView) {
        let at = self.clock.wall();
        let row = |zh: &str, en: &str, value: String, tone: &'static str| DiagRowModel {
            title: t(zh, en),
            detail: t(value.clone(), value),
            tone,
            ..DiagRowModel::default()
        };
        let health = self.health(at);
        view.rows = vec![
            row(
                "待上传记录",
                "Outbox depth",
                health.outbox_depth.to_string(),
                if health.outbox_depth > 50 {
                    "warn"
                } else {
                    "ok"
                },
            ),
            row(
                "最早未上传",
                "Oldest unsent",
                health
                    .oldest_unsent_s
                    .map(|s| format!("{s} s"))
                    .unwrap_or_else(|| "—".into()),
                "ok",
            ),
            row(
                "被拒记录",
                "Dead letters",
                health.dead_letters.to_string(),
                if health.dead_letters > 0 { "bad" } else { "ok" },
            ),
            row(
                "上次成功同步",
                "Last successful sync",
                health
                    .last_sync
                    .clone()
                    .map(|s| local_time(&s))
                    .unwrap_or_else(|| "—".into()),
                "ok",
            ),
            row(
                "中心可达",
                "Central reachable",
                match health.central_reachable {
                    Some(true) => "是 / yes".into(),
                    Some(false) => "否 / no".into(),
                    None => "—".into(),
                },
                if health.central_reachable == Some(false) {
                    "bad"
                } else {
                    "ok"
                },
            ),
            row(
                "事项目录版本",
                "Catalogue version",
                health.catalogue_version.to_string(),
                "ok",
            ),
            row(
                "软件版本",
                "Software version",
                health.software_version.clone(),
                "ok",
            ),
            row(
                "磁盘可用",
                "Disk free",
                health
                    .disk_free_mb
                    .map(|mb| format!("{mb} MB"))
                    .unwrap_or_else(|| "—".into()),
                "ok",
            ),
            row(
                "运行时长",
                "Uptime",
                health
                    .uptime_s
                    .map(|s| format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60))
                    .unwrap_or_default(),
                "ok",
            ),
        ];
        let lines = crate::app::recent_log::recent_lines(8);
        view.rows.push(row(
            "最近日志",
            "Recent log lines",
            if lines.is_empty() {
                "—".into()
            } else {
                lines.join("\n")
            },
            "ok",
        ));
    }
}

/// The stored receipt again, headed "回执（补打）" so it cannot pass for a second original.
fn reprint_receipt(printout: &StoredPrintout) -> Option<Vec<u8>> {
    let mut content: ReceiptContent = serde_json::from_value(printout.content.clone()).ok()?;
    content.title = LocalizedText::new(
        format!("{}（补打）", content.title.zh),
        format!("{} (REPRINT)", content.title.en),
    );
    let language = Language::from_code(&printout.language).unwrap_or_default();
    Some(encode_receipt(&content, language))
}

/// A short reprint from the masked transaction record alone.
fn short_reprint(r: &kiosk_protocol::wire::TransactionRecord) -> Vec<u8> {
    let mut b = ReceiptBuilder::new()
        .align(Align::Center)
        .bold(true)
        .line("回执（补打） RECEIPT REPRINT")
        .bold(false)
        .line(&r.item_name)
        .line("------------------------------------------------")
        .align(Align::Left)
        .line(&format!("办件编号: {}", r.transaction_id));
    if let Some(a) = &r.applicant {
        b = b
            .line(&format!("申请人: {}", a.masked_name))
            .line(&format!("证件号码: {}", a.masked_id_number));
    }
    b = b.line(&format!("办理时间: {}", local_time(&r.started_at)));
    b.feed(3).cut(Cut::Partial).build().into_bytes()
}
