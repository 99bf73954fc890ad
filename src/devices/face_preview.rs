//! What the camera page shows while a face check runs: the latest camera frame (scaled down for
//! the screen), the face outline and the current instruction. Shared between the face-check
//! worker (writer) and the UI (reader, polled by a fast timer); lives in memory only and is
//! cleared when the check ends.

use kiosk_core::text::LocalizedText;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Longest side of a preview frame, in pixels (enough for the on-screen preview box).
pub const PREVIEW_MAX_WIDTH: u32 = 640;

/// One preview frame with its overlay.
#[derive(Clone)]
pub struct PreviewFrame {
    /// Increases with every new camera frame.
    pub seq: u64,
    pub width: u32,
    pub height: u32,
    /// RGB24, `width × height × 3` bytes.
    pub rgb: Arc<Vec<u8>>,
    /// The face box as fractions of the frame (x, y, w, h), when a face is seen.
    pub face_box: Option<(f32, f32, f32, f32)>,
    /// The instruction under the preview.
    pub prompt: LocalizedText,
}

impl std::fmt::Debug for PreviewFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the pixels.
        f.debug_struct("PreviewFrame")
            .field("seq", &self.seq)
            .field("size", &(self.width, self.height))
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Slot {
    frame: Option<PreviewFrame>,
    /// When each of the last frames arrived, for the measured frame rate.
    arrivals: std::collections::VecDeque<Instant>,
    total_frames: u64,
}

/// The shared preview. Cloning shares it.
#[derive(Clone, Default)]
pub struct FacePreview {
    slot: Arc<Mutex<Slot>>,
}

impl FacePreview {
    /// A new camera frame (RGB24), scaled down to [`PREVIEW_MAX_WIDTH`] by whole steps.
    pub fn publish_frame(&self, width: u32, height: u32, rgb: &[u8]) {
        let step = width.div_ceil(PREVIEW_MAX_WIDTH).max(1);
        let (w, h) = (width / step, height / step);
        let small = if step == 1 {
            rgb[..(w * h * 3) as usize].to_vec()
        } else {
            let mut small = Vec::with_capacity((w * h * 3) as usize);
            for y in 0..h {
                let row = (y * step * width) as usize * 3;
                for x in 0..w {
                    let at = row + (x * step) as usize * 3;
                    small.extend_from_slice(&rgb[at..at + 3]);
                }
            }
            small
        };
        let Ok(mut slot) = self.slot.lock() else {
            return;
        };
        let now = Instant::now();
        slot.arrivals.push_back(now);
        while slot.arrivals.len() > 30 {
            slot.arrivals.pop_front();
        }
        slot.total_frames += 1;
        let seq = slot.total_frames;
        let (face_box, prompt) = slot
            .frame
            .as_ref()
            .map(|f| (f.face_box, f.prompt.clone()))
            .unwrap_or_default();
        slot.frame = Some(PreviewFrame {
            seq,
            width: w,
            height: h,
            rgb: Arc::new(small),
            face_box,
            prompt,
        });
    }

    /// The analysis result for the latest frames: face outline and instruction.
    pub fn set_overlay(&self, face_box: Option<(f32, f32, f32, f32)>, prompt: LocalizedText) {
        if let Ok(mut slot) = self.slot.lock()
            && let Some(frame) = slot.frame.as_mut()
        {
            frame.face_box = face_box;
            frame.prompt = prompt;
        }
    }

    /// The latest frame, if newer than `seen` (a frame's `seq`).
    pub fn latest_after(&self, seen: u64) -> Option<PreviewFrame> {
        let slot = self.slot.lock().ok()?;
        slot.frame.as_ref().filter(|f| f.seq > seen).cloned()
    }

    /// The latest frame, whatever its age.
    pub fn latest(&self) -> Option<PreviewFrame> {
        self.slot.lock().ok()?.frame.clone()
    }

    /// Frames per second over the last (up to 30) frames.
    pub fn frame_rate(&self) -> Option<f32> {
        let slot = self.slot.lock().ok()?;
        let first = slot.arrivals.front()?;
        let last = slot.arrivals.back()?;
        let span = last.duration_since(*first).as_secs_f32();
        (slot.arrivals.len() > 1 && span > 0.0).then(|| (slot.arrivals.len() - 1) as f32 / span)
    }

    /// Forgets the frame (the check ended: nothing of the face stays).
    pub fn clear(&self) {
        if let Ok(mut slot) = self.slot.lock() {
            slot.frame = None;
            slot.arrivals.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_frames_are_scaled_down_and_the_overlay_follows_new_frames() {
        let preview = FacePreview::default();
        assert!(preview.latest().is_none());
        let (w, h) = (1280u32, 720u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        preview.publish_frame(w, h, &rgb);
        let first = preview.latest().expect("a frame");
        assert_eq!((first.width, first.height), (640, 360));
        assert_eq!(first.rgb.len(), 640 * 360 * 3);
        // Pixel (1, 0) of the preview is pixel (2, 0) of the frame.
        assert_eq!(&first.rgb[3..6], &rgb[6..9]);
        preview.set_overlay(
            Some((0.2, 0.1, 0.3, 0.5)),
            LocalizedText::new("请眨眨眼", "Blink"),
        );
        preview.publish_frame(w, h, &rgb);
        let second = preview.latest_after(first.seq).expect("a newer frame");
        assert_eq!(second.face_box, Some((0.2, 0.1, 0.3, 0.5)));
        assert_eq!(second.prompt.zh, "请眨眨眼");
        assert!(preview.latest_after(second.seq).is_none());
        preview.clear();
        assert!(preview.latest().is_none());
    }
}
