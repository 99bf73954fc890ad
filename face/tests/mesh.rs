//! The converted face mesh runs in tract: a face gives a high presence logit and open-eye aspect
//! ratios; a cat does not look like a face to it.

mod common;

use kiosk_face::mesh::FaceMesh;
use kiosk_face::{BBox, Detection, ModelPaths, Point, load_rgb, pad_image};

#[test]
fn face_mesh_runs_in_tract() {
    let mesh = FaceMesh::load(ModelPaths::bundled().mesh).unwrap();
    let chip =
        load_rgb(common::fixtures().join("identities/John_Salley/000179_02159509.jpg")).unwrap();
    let frame = pad_image(&chip, 50, [128, 128, 128]);
    let det = common::engine().detector.detect(&frame).unwrap()[0];
    let r = mesh.run(&frame, &det).unwrap();
    assert_eq!(r.points.len(), 468);
    assert!(r.presence > 10.0, "presence {}", r.presence);
    let (right, left) = r.eye_aspect_ratios();
    assert!(
        (0.18..0.35).contains(&right) && (0.18..0.35).contains(&left),
        "EAR {right} {left}"
    );
    // Mesh points are in frame coordinates: the eye contours lie near the detector's eyes.
    let eye = Point::new(r.points[33][0], r.points[33][1])
        .midpoint(Point::new(r.points[133][0], r.points[133][1]));
    let near = det.landmarks[..2]
        .iter()
        .map(|p| p.distance(eye))
        .fold(f32::MAX, f32::min);
    assert!(
        near < 0.25 * det.eye_distance(),
        "eye centre {eye:?} vs {:?}",
        det.landmarks
    );

    let cat = load_rgb(common::fixtures().join("nonfaces/chelsea.png")).unwrap();
    let (w, h) = (cat.width() as f32, cat.height() as f32);
    let whole = Detection {
        bbox: BBox {
            x1: w * 0.2,
            y1: h * 0.1,
            x2: w * 0.8,
            y2: h * 0.9,
        },
        score: 1.0,
        landmarks: [Point::new(0.0, 0.0); 5],
    };
    let r = mesh.run(&cat, &whole).unwrap();
    assert!(r.presence < 0.0, "cat presence {}", r.presence);
}
