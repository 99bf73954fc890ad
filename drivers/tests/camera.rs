//! Camera drivers: folder / still / in-memory sequences (order, pacing, looping, end, bad
//! files, sizes, unplug), `open_camera` ports, and the live camera's unplug / re-open /
//! timeout handling with a stand-in backend. Images are small generated colour fields written
//! to a temporary folder. No real camera is needed (or used when present).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk_drivers::camera::{
    BackendError, BackendOpener, CameraPort, CameraSettings, CaptureBackend, LiveCamera,
    PixelFormat, RawFrame, SequenceCamera, SourceMode, is_sequence_end, open_camera,
};
use kiosk_drivers::{
    CameraDevice, CameraMode, CapturedFrame, Device, DeviceError, DeviceState, StatusDetail,
};

/// A folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("kiosk-camera-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The colour that marks frame `i`.
fn colour(i: u8) -> [u8; 3] {
    [i.wrapping_mul(20), 255 - i.wrapping_mul(20), 7]
}

fn write_image(path: &Path, width: u32, height: u32, rgb: [u8; 3]) {
    image::RgbImage::from_pixel(width, height, image::Rgb(rgb))
        .save(path)
        .expect("write test image");
}

/// `count` PNG frames `frame-00.png` … written in reverse order (so directory order is not
/// name order), each a solid `colour(i)`.
fn png_folder(tag: &str, count: u8, width: u32, height: u32) -> TempDir {
    let dir = TempDir::new(tag);
    for i in (0..count).rev() {
        write_image(
            &dir.path().join(format!("frame-{i:02}.png")),
            width,
            height,
            colour(i),
        );
    }
    dir
}

fn settings(width: u32, height: u32, fps: u32) -> CameraSettings {
    CameraSettings { width, height, fps }
}

fn centre(frame: &CapturedFrame) -> [u8; 3] {
    frame
        .pixel(frame.width / 2, frame.height / 2)
        .expect("pixel")
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter()
        .zip(b)
        .all(|(&x, y)| (i32::from(x) - i32::from(y)).abs() <= 6)
}

fn streaming(camera: &mut dyn CameraDevice) -> bool {
    match camera.status().detail {
        StatusDetail::Camera { streaming } => streaming,
        other => panic!("camera status detail expected, got {other:?}"),
    }
}

#[test]
fn folder_plays_in_name_order_at_the_configured_rate_then_ends() {
    let dir = png_folder("order", 10, 32, 24);
    std::fs::write(dir.path().join("notes.txt"), "not a frame").unwrap();
    let mut camera =
        SequenceCamera::open_folder(dir.path(), &settings(32, 24, 20), false).expect("open folder");
    assert_eq!(camera.len(), 10, "the text file is ignored");
    assert_eq!(
        camera.mode(),
        CameraMode {
            width: 32,
            height: 24,
            fps: 20
        }
    );
    camera.start_stream().unwrap();
    assert!(streaming(&mut camera));
    let start = Instant::now();
    for i in 0..10u8 {
        let frame = camera.capture_frame().expect("frame");
        assert_eq!(frame.format, "rgb24");
        assert_eq!((frame.width, frame.height), (32, 24));
        assert_eq!(frame.bytes.len(), 32 * 24 * 3);
        assert_eq!(centre(&frame), colour(i), "frame {i} in name order");
    }
    let elapsed = start.elapsed();
    // First frame at once, then 9 periods of 50 ms = 450 ms; no upper bound (loaded machines).
    assert!(
        elapsed >= Duration::from_millis(400),
        "10 frames at 20 fps took {elapsed:?}"
    );

    let end = camera.capture_frame().unwrap_err();
    assert!(is_sequence_end(&end), "{end:?}");
    assert!(matches!(end, DeviceError::Disconnected(_)));
    assert!(camera.has_ended());
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Offline);
    assert!(status.last_error.unwrap().contains("sequence ended"));
    assert_eq!(status.detail, StatusDetail::Camera { streaming: false });

    // Streaming again plays it from the start.
    camera.start_stream().unwrap();
    assert_eq!(centre(&camera.capture_frame().unwrap()), colour(0));
    assert_eq!(camera.status().state, DeviceState::Online);
}

#[test]
fn looping_folder_starts_again() {
    let dir = png_folder("loop", 3, 16, 16);
    let mut camera = open_camera(
        &format!("sequence:{}", dir.path().display()),
        &settings(16, 16, 100),
    )
    .expect("open");
    camera.start_stream().unwrap();
    let order: Vec<[u8; 3]> = (0..7)
        .map(|_| centre(&camera.capture_frame().unwrap()))
        .collect();
    let want: Vec<[u8; 3]> = [0, 1, 2, 0, 1, 2, 0].into_iter().map(colour).collect();
    assert_eq!(order, want);
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Online);
    assert_eq!(status.detail, StatusDetail::Camera { streaming: true });

    camera.stop_stream().unwrap();
    assert!(!streaming(camera.as_mut()));
}

#[test]
fn once_port_ends() {
    let dir = png_folder("once", 2, 16, 16);
    let mut camera = open_camera(
        &format!("sequence-once:{}", dir.path().display()),
        &settings(16, 16, 100),
    )
    .unwrap();
    camera.start_stream().unwrap();
    camera.capture_frame().unwrap();
    camera.capture_frame().unwrap();
    assert!(is_sequence_end(&camera.capture_frame().unwrap_err()));
}

#[test]
fn corrupt_file_is_named_and_playback_goes_on() {
    let dir = TempDir::new("corrupt");
    write_image(&dir.path().join("a.png"), 16, 16, colour(1));
    std::fs::write(dir.path().join("b.png"), b"\x89PNG but not really").unwrap();
    write_image(&dir.path().join("c.png"), 16, 16, colour(3));
    let mut camera =
        SequenceCamera::open_folder(dir.path(), &settings(16, 16, 100), false).unwrap();
    camera.start_stream().unwrap();

    assert_eq!(centre(&camera.capture_frame().unwrap()), colour(1));
    let bad = camera.capture_frame().unwrap_err();
    match &bad {
        DeviceError::Hardware(message) => {
            assert!(message.contains("b.png"), "{message}");
            assert!(message.contains("frame 2 of 3"), "{message}");
        }
        other => panic!("expected a hardware error, got {other:?}"),
    }
    let next = camera.capture_frame().unwrap();
    assert_eq!(centre(&next), colour(3), "the bad file used up its turn");
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Online);
    assert!(status.last_error.unwrap().contains("b.png"));

    // self_test decodes the next frame to play; reset clears the error.
    camera.reset().unwrap();
    assert!(camera.self_test().is_ok());
    assert_eq!(camera.status().last_error, None);
}

#[test]
fn empty_and_missing_folders_are_clear_errors() {
    let dir = TempDir::new("empty");
    std::fs::write(dir.path().join("readme.txt"), "no images here").unwrap();
    let empty = SequenceCamera::open_folder(dir.path(), &settings(16, 16, 10), true)
        .err()
        .expect("empty folder refused");
    match &empty {
        DeviceError::Hardware(m) => {
            assert!(
                m.contains("no .jpg") && m.contains(&dir.path().display().to_string()),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    let missing = open_camera(
        &format!("sequence:{}/nope", dir.path().display()),
        &settings(16, 16, 10),
    )
    .err()
    .expect("missing folder refused");
    assert!(
        matches!(&missing, DeviceError::Disconnected(m) if m.contains("does not exist")),
        "{missing:?}"
    );
}

#[test]
fn frames_are_fitted_to_the_configured_size() {
    let dir = TempDir::new("fit");
    // A wide JPEG into a square frame: black bars above and below.
    write_image(&dir.path().join("wide.jpg"), 64, 16, [200, 120, 40]);
    let mut camera = SequenceCamera::open_folder(dir.path(), &settings(32, 32, 50), true).unwrap();
    camera.start_stream().unwrap();
    let frame = camera.capture_frame().unwrap();
    assert_eq!((frame.width, frame.height), (32, 32));
    assert_eq!(frame.bytes.len(), 32 * 32 * 3);
    assert_eq!(frame.pixel(16, 1), Some([0, 0, 0]));
    assert_eq!(frame.pixel(16, 30), Some([0, 0, 0]));
    assert!(
        close(centre(&frame), [200, 120, 40]),
        "{:?}",
        centre(&frame)
    );
}

#[test]
fn still_image_repeats() {
    let dir = TempDir::new("still");
    let path = dir.path().join("face.jpg");
    write_image(&path, 40, 30, [90, 160, 220]);
    let mut camera = open_camera(&format!("still:{}", path.display()), &settings(40, 30, 50))
        .expect("open still");
    camera.start_stream().unwrap();
    let first = camera.capture_frame().unwrap();
    for _ in 1..4 {
        assert_eq!(camera.capture_frame().unwrap().bytes, first.bytes);
    }
    assert!(close(centre(&first), [90, 160, 220]));
    assert_eq!(camera.mode().fps, 50);

    let missing = open_camera(
        &format!("still:{}/gone.jpg", dir.path().display()),
        &settings(40, 30, 50),
    )
    .err()
    .unwrap();
    assert!(missing.to_string().contains("gone.jpg"), "{missing}");
}

#[test]
fn capture_needs_a_started_stream() {
    let dir = png_folder("nostream", 1, 16, 16);
    let mut camera = SequenceCamera::open_folder(dir.path(), &settings(16, 16, 30), true).unwrap();
    assert!(matches!(camera.capture_frame(), Err(DeviceError::User(_))));
    camera.start_stream().unwrap();
    camera.capture_frame().unwrap();
    camera.stop_stream().unwrap();
    camera.stop_stream().unwrap();
    assert!(matches!(camera.capture_frame(), Err(DeviceError::User(_))));
}

#[test]
fn folder_that_disappears_is_an_unplugged_camera() {
    let dir = png_folder("unplug", 2, 16, 16);
    let moved = dir.path().with_extension("away");
    let mut camera = SequenceCamera::open_folder(dir.path(), &settings(16, 16, 100), true).unwrap();
    camera.start_stream().unwrap();
    camera.capture_frame().unwrap();

    std::fs::rename(dir.path(), &moved).unwrap();
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Offline);
    assert!(status.last_error.unwrap().contains("disappeared"));
    assert_eq!(status.detail, StatusDetail::Camera { streaming: false });
    assert!(matches!(
        camera.capture_frame(),
        Err(DeviceError::Disconnected(_))
    ));

    std::fs::rename(&moved, dir.path()).unwrap();
    let frame = camera
        .capture_frame()
        .expect("plays again once the folder is back");
    assert_eq!(centre(&frame), colour(1), "playback goes on where it was");
    assert_eq!(camera.status().state, DeviceState::Online);
}

#[test]
fn in_memory_frames() {
    let red = CapturedFrame::rgb24(4, 2, [255, 0, 0].repeat(8));
    let blue = CapturedFrame::rgb24(8, 2, [0, 0, 255].repeat(16));
    let mut camera = SequenceCamera::from_frames(vec![red.clone(), blue.clone()], 100, true);
    assert_eq!(
        camera.mode(),
        CameraMode {
            width: 4,
            height: 2,
            fps: 100
        }
    );
    camera.start_stream().unwrap();
    assert_eq!(camera.capture_frame().unwrap().bytes, red.bytes);
    let second = camera.capture_frame().unwrap();
    assert_eq!(
        (second.width, second.height),
        (8, 2),
        "passed through unscaled"
    );

    let mut scaled = SequenceCamera::from_frames(vec![blue], 100, false).scaled_to(8, 8);
    scaled.start_stream().unwrap();
    let frame = scaled.capture_frame().unwrap();
    assert_eq!((frame.width, frame.height), (8, 8));
    assert_eq!(frame.pixel(4, 0), Some([0, 0, 0]));
    assert_eq!(frame.pixel(4, 4), Some([0, 0, 255]));
    assert!(is_sequence_end(&scaled.capture_frame().unwrap_err()));

    // Checked up front …
    assert!(SequenceCamera::try_from_frames(vec![], 10, true).is_err());
    let mut short = CapturedFrame::rgb24(4, 4, vec![0; 47]);
    let err = SequenceCamera::try_from_frames(vec![short.clone()], 10, true)
        .err()
        .unwrap();
    assert!(err.to_string().contains("frame 0"), "{err}");

    // … or when played: a bad frame is skipped with an error, nothing panics.
    let good = CapturedFrame::rgb24(4, 4, vec![9; 48]);
    let mut lenient = SequenceCamera::from_frames(vec![short.clone(), good.clone()], 1000, true);
    lenient.start_stream().unwrap();
    let bad = lenient.capture_frame().unwrap_err();
    assert!(
        matches!(&bad, DeviceError::Hardware(m) if m.contains("frame 1 of 2")),
        "{bad:?}"
    );
    assert_eq!(lenient.capture_frame().unwrap().bytes, good.bytes);
    let mut empty = SequenceCamera::from_frames(vec![], 10, true);
    empty.start_stream().unwrap();
    assert!(matches!(
        empty.capture_frame(),
        Err(DeviceError::Hardware(_))
    ));
    assert_eq!(empty.status().state, DeviceState::Offline);
    assert_eq!(empty.mode().width, 0);

    short.bytes.push(0);
    assert!(SequenceCamera::try_from_frames(vec![short.clone()], 0, true).is_err());
    assert!(SequenceCamera::try_from_frames(vec![short.clone()], 10, true).is_ok());
    assert_eq!(
        SequenceCamera::from_frames(vec![short], 0, true).mode().fps,
        1
    );
}

#[test]
fn settings_from_config_values() {
    assert_eq!(
        CameraSettings::from_options(None, None, None).unwrap(),
        CameraSettings::default()
    );
    assert_eq!(
        CameraSettings::from_options(Some(1280), Some(720), Some(30)).unwrap(),
        settings(1280, 720, 30)
    );
    let one = CameraSettings::from_options(Some(1280), None, None).unwrap_err();
    assert!(one.to_string().contains("height"), "{one}");
    let fps = CameraSettings::from_options(None, None, Some(500)).unwrap_err();
    assert!(fps.to_string().contains("fps 500"), "{fps}");
    assert!(open_camera("still:/x.jpg", &settings(0, 10, 10)).is_err());
}

#[test]
fn missing_v4l2_device_is_a_clear_error() {
    let port = "/dev/video9";
    if Path::new(port).exists() {
        eprintln!("{port} exists on this machine; skipping");
        return;
    }
    assert_eq!(
        CameraPort::parse(port).unwrap(),
        CameraPort::V4l2(port.into())
    );
    let error = open_camera(port, &CameraSettings::default())
        .err()
        .expect("no camera there");
    if cfg!(feature = "camera-v4l") {
        assert_eq!(
            error,
            DeviceError::Disconnected("no camera at /dev/video9".into())
        );
    } else {
        assert!(
            matches!(&error, DeviceError::Unsupported(m) if m.contains("camera-v4l")),
            "{error:?}"
        );
    }
}

#[test]
fn unknown_port_is_a_clear_error() {
    for port in ["rtsp://10.0.0.9/stream", "COM3", "simulator", "sequence:"] {
        let error = open_camera(port, &CameraSettings::default())
            .err()
            .expect("refused");
        let DeviceError::Unsupported(message) = &error else {
            panic!("{port}: {error:?}");
        };
        assert!(message.contains(port.trim_end_matches(':')), "{message}");
    }
}

// ---- the live camera over a stand-in backend ------------------------------------------------

#[derive(Default)]
struct FakeDevice {
    present: bool,
    fail_next: bool,
    stall: bool,
    garbage: bool,
    opens: u32,
    streaming: bool,
}

#[derive(Clone)]
struct FakeOpener(Arc<Mutex<FakeDevice>>);

struct FakeBackend(Arc<Mutex<FakeDevice>>);

const FAKE_MODE: SourceMode = SourceMode {
    format: PixelFormat::Yuyv,
    width: 4,
    height: 2,
    fps: 30,
};

impl BackendOpener for FakeOpener {
    fn describe(&self) -> String {
        "/dev/fake0".into()
    }

    fn is_present(&self) -> bool {
        self.0.lock().unwrap().present
    }

    fn open(&mut self, _: &CameraSettings) -> Result<Box<dyn CaptureBackend>, BackendError> {
        let mut device = self.0.lock().unwrap();
        if !device.present {
            return Err(BackendError::Gone("no such device".into()));
        }
        device.opens += 1;
        Ok(Box::new(FakeBackend(self.0.clone())))
    }
}

impl CaptureBackend for FakeBackend {
    fn mode(&self) -> SourceMode {
        FAKE_MODE
    }

    fn start(&mut self) -> Result<(), BackendError> {
        self.0.lock().unwrap().streaming = true;
        Ok(())
    }

    fn stop(&mut self) {
        self.0.lock().unwrap().streaming = false;
    }

    fn next_frame(&mut self) -> Result<RawFrame, BackendError> {
        loop {
            let mut device = self.0.lock().unwrap();
            if !device.present || std::mem::take(&mut device.fail_next) {
                return Err(BackendError::Gone("No such device (os error 19)".into()));
            }
            if !device.stall {
                let data = if device.garbage {
                    vec![1, 2, 3]
                } else {
                    // Limited-range white, YUYV.
                    [235, 128, 235, 128].repeat(4)
                };
                return Ok(RawFrame {
                    format: PixelFormat::Yuyv,
                    width: 4,
                    height: 2,
                    data,
                });
            }
            drop(device);
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn fake_camera() -> (Arc<Mutex<FakeDevice>>, LiveCamera) {
    let device = Arc::new(Mutex::new(FakeDevice {
        present: true,
        ..FakeDevice::default()
    }));
    let camera = LiveCamera::open(
        Box::new(FakeOpener(device.clone())),
        &CameraSettings::default(),
    )
    .expect("open fake");
    (device, camera)
}

#[test]
fn live_camera_decodes_and_reports_the_granted_mode() {
    let (device, mut camera) = fake_camera();
    assert_eq!(
        camera.mode(),
        CameraMode {
            width: 4,
            height: 2,
            fps: 30
        },
        "the granted mode, not the 640x480 asked for"
    );
    assert!(matches!(camera.capture_frame(), Err(DeviceError::User(_))));
    camera.start_stream().unwrap();
    assert!(device.lock().unwrap().streaming);
    let frame = camera.capture_frame().unwrap();
    assert_eq!(frame.format, "rgb24");
    assert_eq!(frame.bytes, vec![255; 4 * 2 * 3]);
    assert!(camera.capture_frame().is_ok());
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Online);
    assert_eq!(status.detail, StatusDetail::Camera { streaming: true });
    camera.stop_stream().unwrap();
    assert!(!device.lock().unwrap().streaming);
}

#[test]
fn live_camera_unplug_and_replug() {
    let (device, mut camera) = fake_camera();
    camera.start_stream().unwrap();
    camera.capture_frame().unwrap();

    // Unplugged while streaming: the capture fails, the status says why.
    device.lock().unwrap().present = false;
    let error = camera.capture_frame().unwrap_err();
    assert!(
        matches!(&error, DeviceError::Disconnected(m) if m.contains("/dev/fake0")),
        "{error:?}"
    );
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Offline);
    assert!(status.last_error.is_some());
    assert_eq!(status.detail, StatusDetail::Camera { streaming: false });
    assert!(matches!(
        camera.capture_frame(),
        Err(DeviceError::Disconnected(_))
    ));

    // Back: status re-opens it and streaming resumes by itself.
    device.lock().unwrap().present = true;
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Online, "{status:?}");
    assert_eq!(status.last_error, None);
    assert_eq!(status.detail, StatusDetail::Camera { streaming: true });
    assert!(camera.capture_frame().is_ok());
    assert_eq!(device.lock().unwrap().opens, 2);

    // A capture error with the node still there also closes it; the next capture re-opens.
    device.lock().unwrap().fail_next = true;
    assert!(matches!(
        camera.capture_frame(),
        Err(DeviceError::Disconnected(_))
    ));
    assert!(camera.capture_frame().is_ok());
    assert_eq!(device.lock().unwrap().opens, 3);
}

#[test]
fn live_camera_node_vanishing_is_seen_by_status() {
    let (device, mut camera) = fake_camera();
    device.lock().unwrap().present = false;
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Offline);
    assert!(
        status
            .last_error
            .unwrap()
            .contains("device node disappeared"),
        "unplug seen without capturing"
    );
    assert!(!camera.is_open());
    assert!(matches!(
        camera.start_stream(),
        Err(DeviceError::Disconnected(_))
    ));
}

#[test]
fn live_camera_that_stops_sending_times_out() {
    let (device, mut camera) = fake_camera();
    camera.set_frame_timeout(Duration::from_millis(100));
    camera.start_stream().unwrap();
    device.lock().unwrap().stall = true;
    let start = Instant::now();
    assert_eq!(camera.capture_frame(), Err(DeviceError::Timeout));
    assert!(start.elapsed() < Duration::from_secs(5), "did not hang");
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Offline);
    assert!(status.last_error.unwrap().contains("no answer"));

    // Frames flow again: the owed frame is delivered and the camera is online.
    device.lock().unwrap().stall = false;
    assert!(camera.capture_frame().is_ok());
    assert_eq!(camera.status().state, DeviceState::Online);

    // Stalled again, then recovered while nobody captures: status sees it by itself.
    device.lock().unwrap().stall = true;
    assert_eq!(camera.capture_frame(), Err(DeviceError::Timeout));
    device.lock().unwrap().stall = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    while camera.status().state != DeviceState::Online && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = camera.status();
    assert_eq!(status.state, DeviceState::Online);
    assert_eq!(status.last_error, None);
    assert!(camera.capture_frame().is_ok());
}

#[test]
fn live_camera_undecodable_frames_are_a_hardware_error() {
    let (device, mut camera) = fake_camera();
    camera.start_stream().unwrap();
    device.lock().unwrap().garbage = true;
    let error = camera.capture_frame().unwrap_err();
    assert!(
        matches!(&error, DeviceError::Hardware(m) if m.contains("could not be decoded")),
        "{error:?}"
    );
    device.lock().unwrap().garbage = false;
    assert!(camera.capture_frame().is_ok(), "the device stays open");
    assert_eq!(device.lock().unwrap().opens, 1);
}

#[test]
fn live_camera_missing_at_open() {
    let device = Arc::new(Mutex::new(FakeDevice::default()));
    let error = LiveCamera::open(Box::new(FakeOpener(device)), &CameraSettings::default())
        .err()
        .unwrap();
    assert_eq!(
        error,
        DeviceError::Disconnected("no camera at /dev/fake0".into())
    );
}
