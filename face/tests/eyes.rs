//! Pixel eye openness on every fixture face (open eyes, as photographed) reads open.

mod common;

use kiosk_face::eyes::eye_openness;
use kiosk_face::mesh::FaceMesh;
use kiosk_face::synthetic::{Pose, SyntheticCitizen};
use kiosk_face::{LivenessConfig, ModelPaths, load_rgb};

#[test]
fn open_eyes_of_every_fixture_face_read_open() {
    let engine = common::engine();
    let mesh = FaceMesh::load(ModelPaths::bundled().mesh).unwrap();
    let limit = LivenessConfig::default().ear_open;
    let mut seen = 0;
    let mut lowest = f32::MAX;
    for person in std::fs::read_dir(common::fixtures().join("identities")).unwrap() {
        for file in std::fs::read_dir(person.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let photo = load_rgb(&path).unwrap();
            // Placed in a 640×480 frame as a citizen would sit (no blink, no turn).
            let frame = SyntheticCitizen::new(engine, &photo, (640, 480))
                .unwrap()
                .render(&Pose::default());
            let det = engine.detector.detect(&frame).unwrap()[0];
            let (r, l) = eye_openness(&frame, &mesh.run(&frame, &det).unwrap());
            let mean = (r + l) / 2.0;
            lowest = lowest.min(mean);
            assert!(mean >= limit, "{path:?}: {r} {l}");
            seen += 1;
        }
    }
    assert_eq!(seen, 33);
    println!("lowest mean openness of open eyes: {lowest}");
}
