//! Connects the Slint window to the controller: every `Kiosk` callback becomes a [`UiAction`],
//! and the screen is redrawn from the controller's model when it changed.

use super::adapter::{render, render_preview};
use super::model::ScreenModel;
use crate::app::{KioskRuntime, UiAction};
use crate::devices::FacePreview;
use crate::{AppWindow, Diag, Kiosk};
use slint::ComponentHandle;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// The kiosk window and the runtime behind it.
pub struct KioskUi {
    pub window: AppWindow,
    pub runtime: Rc<RefCell<KioskRuntime>>,
    shown: Rc<RefCell<Option<(ScreenModel, usize)>>>,
    /// The camera picture of the face-check page, and the last frame drawn.
    preview: FacePreview,
    preview_seen: std::cell::Cell<u64>,
    preview_drawn: std::cell::Cell<u64>,
}

impl KioskUi {
    pub fn new(runtime: KioskRuntime) -> Result<Self, slint::PlatformError> {
        let window = AppWindow::new()?;
        let preview = runtime.controller.face_preview();
        let ui = Self {
            window,
            runtime: Rc::new(RefCell::new(runtime)),
            shown: Rc::new(RefCell::new(None)),
            preview,
            preview_seen: std::cell::Cell::new(0),
            preview_drawn: std::cell::Cell::new(0),
        };
        ui.bind_callbacks();
        ui.refresh();
        Ok(ui)
    }

    /// Why the home screen does not offer item `code` now — the tile's reason and the devices'
    /// states — or `None` when it does (for a journey or test that waited in vain).
    pub fn why_unavailable(&self, code: &str) -> Option<String> {
        use slint::Model;
        let tile = self
            .window
            .global::<Kiosk>()
            .get_items()
            .iter()
            .find(|t| t.code == code);
        if tile.as_ref().is_some_and(|t| t.available) {
            return None;
        }
        let reason = tile.map_or_else(|| "not on the screen".to_string(), |t| t.reason.to_string());
        let devices = self.runtime.borrow().controller.devices().statuses();
        Some(format!(
            "item {code} unavailable: {reason}; devices: {devices:?}"
        ))
    }

    /// Handles a tap as if it came from the screen.
    pub fn act(&self, action: UiAction) {
        act(
            &Rc::downgrade(&self.runtime),
            &self.window.as_weak(),
            &self.shown,
            action,
        );
    }

    /// Delivers device results, checks countdowns, redraws if something changed.
    pub fn pump(&self) {
        self.runtime.borrow_mut().controller.pump();
        self.refresh();
        self.refresh_preview();
    }

    /// How many camera frames the face-check page has drawn since the UI started (for the
    /// measured preview frame rate).
    pub fn preview_frames_drawn(&self) -> u64 {
        self.preview_drawn.get()
    }

    /// Draws the newest camera frame while the face-check page is shown (call at the camera's
    /// frame rate; cheap when there is nothing new). Returns whether a frame was drawn.
    pub fn refresh_preview(&self) -> bool {
        let k = self.window.global::<Kiosk>();
        if k.get_page() != "face" {
            return false;
        }
        match self.preview.latest_after(self.preview_seen.get()) {
            Some(frame) => {
                self.preview_seen.set(frame.seq);
                self.preview_drawn.set(self.preview_drawn.get() + 1);
                render_preview(&self.window, &frame);
                true
            }
            None => false,
        }
    }

    /// Redraws if the screen model changed.
    pub fn refresh(&self) {
        refresh(&self.runtime, &self.window, &self.shown);
    }

    fn bind_callbacks(&self) {
        let k = self.window.global::<Kiosk>();
        macro_rules! on {
            ($setter:ident, || $action:expr) => {{
                let runtime = Rc::downgrade(&self.runtime);
                let window = self.window.as_weak();
                let shown = Rc::clone(&self.shown);
                k.$setter(move || act(&runtime, &window, &shown, $action));
            }};
            ($setter:ident, |$($arg:ident : $ty:ty),*| $action:expr) => {{
                let runtime = Rc::downgrade(&self.runtime);
                let window = self.window.as_weak();
                let shown = Rc::clone(&self.shown);
                k.$setter(move |$($arg: $ty),*| act(&runtime, &window, &shown, $action));
            }};
        }
        on!(
            on_open_item,
            |code: slint::SharedString| UiAction::OpenItem(code.to_string())
        );
        on!(on_select_department, |code: slint::SharedString| {
            UiAction::SelectDepartment(code.to_string())
        });
        on!(on_begin, || UiAction::Begin);
        on!(on_consent, |agree: bool| UiAction::Consent(agree));
        on!(on_select_field, |index: i32| UiAction::SelectField(
            index.max(0) as usize
        ));
        on!(on_key, |key: slint::SharedString| UiAction::Key(
            key.to_string()
        ));
        on!(
            on_choose,
            |key: slint::SharedString, label: slint::SharedString| UiAction::Choose {
                key: key.to_string(),
                label: label.to_string()
            }
        );
        on!(on_submit_form, || UiAction::SubmitForm);
        on!(on_confirm, || UiAction::Confirm);
        on!(on_back, || UiAction::Back);
        on!(
            on_rate,
            |level: i32| UiAction::Rate(level.clamp(0, 5) as u8)
        );
        on!(on_skip_rating, || UiAction::SkipRating);
        on!(on_continue_on, || UiAction::Continue);
        on!(on_choose_option, |index: i32| UiAction::ChooseOption(
            index.max(0) as usize
        ));
        on!(on_retry, || UiAction::Retry);
        on!(on_go_home, || UiAction::GoHome);
        on!(on_cancel, || UiAction::Cancel);
        on!(on_toggle_language, || UiAction::ToggleLanguage);
        on!(on_toggle_elder, || UiAction::ToggleElder);
        on!(on_activity, || UiAction::Activity);
        on!(on_title_tapped, || UiAction::TitleTap);
        let d = self.window.global::<Diag>();
        let runtime = Rc::downgrade(&self.runtime);
        let window = self.window.as_weak();
        let shown = Rc::clone(&self.shown);
        d.on_act(move |action| {
            act(
                &runtime,
                &window,
                &shown,
                UiAction::Diag(action.to_string()),
            )
        });
    }
}

/// Closing the kiosk's UI hides its window, so Slint lets go of it, and stops the kiosk: the
/// runtime (devices, heartbeat, uploader) is dropped with the last [`KioskUi`] reference.
impl Drop for KioskUi {
    fn drop(&mut self) {
        let _ = self.window.hide();
    }
}

type Shown = Rc<RefCell<Option<(ScreenModel, usize)>>>;

/// The window's callbacks hold the runtime weakly: a shown window outlives its [`KioskUi`] in
/// Slint until hidden, and must not keep the kiosk's devices, heartbeat and uploader running.
fn act(
    runtime: &Weak<RefCell<KioskRuntime>>,
    window: &slint::Weak<AppWindow>,
    shown: &Shown,
    action: UiAction,
) {
    let Some(runtime) = runtime.upgrade() else {
        return;
    };
    if let Ok(mut rt) = runtime.try_borrow_mut() {
        rt.controller.on_action(action);
    } else {
        tracing::warn!(?action, "tap ignored while the kiosk is busy");
        return;
    }
    if let Some(window) = window.upgrade() {
        refresh(&runtime, &window, shown);
    }
}

fn refresh(runtime: &Rc<RefCell<KioskRuntime>>, window: &AppWindow, shown: &Shown) {
    let Ok(rt) = runtime.try_borrow() else { return };
    let screen = rt.controller.screen();
    let active = rt.controller.active_field();
    drop(rt);
    let mut last = shown.borrow_mut();
    if last.as_ref() != Some(&(screen.clone(), active)) {
        render(window, &screen, active);
        *last = Some((screen, active));
    }
}
