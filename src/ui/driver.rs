//! Drives the real Slint UI without a display: the software renderer draws each screen into a
//! PNG, and taps are delivered by accessible id — what the headless demo and the UI tests use.

use crate::AppWindow;
use i_slint_backend_testing::{ElementHandle, ElementQuery, TestingBackend, TestingBackendOptions};
use slint::ComponentHandle;
use std::path::Path;

/// Installs the headless platform (software renderer, system time). Call once per process,
/// before the first window is created.
pub fn install_headless_platform() -> Result<(), String> {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: false,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .map_err(|e| format!("cannot install the headless Slint platform: {e}"))
}

/// Every element of the window carrying `accessible_id`.
fn find_all(window: &AppWindow, accessible_id: &str) -> Vec<ElementHandle> {
    let wanted = accessible_id.to_string();
    ElementQuery::from_root(window)
        .match_descendants()
        .match_predicate(move |e| e.accessible_id().as_deref() == Some(wanted.as_str()))
        .find_all()
}

/// Is an element with this accessible id on screen now?
pub fn is_shown(window: &AppWindow, accessible_id: &str) -> bool {
    !find_all(window, accessible_id).is_empty()
}

/// Taps the element with this accessible id (its default accessible action, as a screen reader
/// or a finger would). Fails when it is absent or disabled.
pub fn tap(window: &AppWindow, accessible_id: &str) -> Result<(), String> {
    let elements = find_all(window, accessible_id);
    let element = elements
        .first()
        .ok_or_else(|| format!("no element with accessible id `{accessible_id}` on screen"))?;
    if element.accessible_enabled() == Some(false) {
        return Err(format!("element `{accessible_id}` is disabled"));
    }
    element.invoke_accessible_default_action();
    Ok(())
}

/// Taps an element inside a scrolled list, scrolling the list (by a wheel or swipe on one of
/// its visible rows, whose ids start with `row_prefix`) until the element is on screen.
pub fn tap_in_list(
    window: &AppWindow,
    accessible_id: &str,
    row_prefix: &str,
) -> Result<(), String> {
    for delta in [
        0.0, -250.0, -250.0, -250.0, -250.0, 250.0, 250.0, 250.0, 250.0, 250.0, 250.0,
    ] {
        if delta != 0.0 {
            let prefix = row_prefix.to_string();
            let row = ElementQuery::from_root(window)
                .match_descendants()
                .match_predicate(move |e| {
                    e.accessible_id()
                        .is_some_and(|id| id.starts_with(prefix.as_str()))
                })
                .find_first();
            match row {
                Some(row) => row.scroll(0.0, delta),
                None => break,
            }
        }
        if is_shown(window, accessible_id) {
            return tap(window, accessible_id);
        }
    }
    Err(format!(
        "no element with accessible id `{accessible_id}` on screen, even after scrolling"
    ))
}

/// The accessible labels of every element with an accessible id on screen (for assertions
/// about what a citizen can see and tap).
pub fn visible_ids(window: &AppWindow) -> Vec<String> {
    ElementQuery::from_root(window)
        .match_descendants()
        .match_predicate(|e| e.accessible_id().is_some())
        .find_all()
        .iter()
        .filter_map(|e| e.accessible_id().map(|s| s.to_string()))
        .collect()
}

/// Renders the window as it is now and writes it to `path` as a PNG.
pub fn screenshot(window: &AppWindow, path: &Path) -> Result<(), String> {
    let shot = window
        .window()
        .take_snapshot()
        .map_err(|e| format!("cannot render the screen: {e}"))?;
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), shot.width(), shot.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writer
        .write_image_data(shot.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writer
        .finish()
        .map_err(|e| format!("{}: {e}", path.display()))
}
