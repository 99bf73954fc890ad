//! Alignment: the similarity fit and the chip warp.

mod common;

use image::{Rgb, RgbImage};
use kiosk_face::align::Similarity;
use kiosk_face::{CHIP_SIZE, DLIB_CHIP_TEMPLATE, Point, align_to_chip, load_rgb, pad_image};

fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn fit_recovers_a_known_similarity() {
    let t = Similarity {
        a: 1.3 * 0.3f32.cos(),
        b: 1.3 * 0.3f32.sin(),
        tx: 12.0,
        ty: -7.0,
    };
    let src: Vec<Point> = DLIB_CHIP_TEMPLATE.to_vec();
    let dst: Vec<Point> = src.iter().map(|p| t.apply(*p)).collect();
    let fit = Similarity::fit(&src, &dst).unwrap();
    assert!(
        close(fit.a, t.a, 1e-4) && close(fit.b, t.b, 1e-4),
        "{fit:?}"
    );
    assert!(
        close(fit.tx, t.tx, 1e-2) && close(fit.ty, t.ty, 1e-2),
        "{fit:?}"
    );
    assert!(close(fit.scale(), 1.3, 1e-4));
    assert!(close(fit.rotation_deg(), 0.3f32.to_degrees(), 1e-2));
    let back = fit.inverse().apply(fit.apply(Point::new(3.0, 4.0)));
    assert!(close(back.x, 3.0, 1e-3) && close(back.y, 4.0, 1e-3));
}

#[test]
fn fit_rejects_degenerate_points() {
    let p = [Point::new(5.0, 5.0); 5];
    assert!(Similarity::fit(&p, &DLIB_CHIP_TEMPLATE).is_none());
}

#[test]
fn template_landmarks_give_the_identity_crop() {
    let img = RgbImage::from_fn(150, 150, |x, y| Rgb([x as u8, y as u8, 7]));
    let chip = align_to_chip(&img, &DLIB_CHIP_TEMPLATE).unwrap();
    assert!(chip.fit_error < 1e-3);
    assert!(close(chip.transform.scale(), 1.0, 1e-5));
    assert_eq!(chip.image.dimensions(), (CHIP_SIZE, CHIP_SIZE));
    assert_eq!(chip.image.get_pixel(20, 90).0, [20, 90, 7]);
}

#[test]
fn rotated_scaled_face_is_brought_back_upright() {
    // Paint marks at the template points, move them by a known similarity into a bigger frame,
    // align with the moved points and find the marks back at the template positions.
    let t = Similarity {
        a: 2.0 * 0.4f32.cos(),
        b: 2.0 * 0.4f32.sin(),
        tx: 90.0,
        ty: 20.0,
    };
    let inv = t.inverse();
    let frame = RgbImage::from_fn(480, 400, |x, y| {
        let p = inv.apply(Point::new(x as f32, y as f32));
        let near = DLIB_CHIP_TEMPLATE.iter().any(|q| q.distance(p) < 3.0);
        if near {
            Rgb([255, 255, 255])
        } else {
            Rgb([0, 0, 0])
        }
    });
    let moved = DLIB_CHIP_TEMPLATE.map(|p| t.apply(p));
    let chip = align_to_chip(&frame, &moved).unwrap();
    assert!(chip.fit_error < 0.01);
    assert!(close(chip.transform.scale(), 0.5, 1e-3));
    for q in DLIB_CHIP_TEMPLATE {
        let v = chip
            .image
            .get_pixel(q.x.round() as u32, q.y.round() as u32)
            .0[0];
        assert!(v > 200, "mark at {q:?} is {v}");
    }
    // Midway between the eyes there is no mark.
    assert!(chip.image.get_pixel(75, 30).0[0] < 50);
}

#[test]
fn outside_the_frame_is_black() {
    let img = RgbImage::from_pixel(200, 200, Rgb([200, 200, 200]));
    let shifted = DLIB_CHIP_TEMPLATE.map(|p| Point::new(p.x - 120.0, p.y));
    let chip = align_to_chip(&img, &shifted).unwrap();
    assert_eq!(chip.image.get_pixel(2, 75).0, [0, 0, 0]);
    assert_eq!(chip.image.get_pixel(148, 75).0, [200, 200, 200]);
}

#[test]
fn detected_landmarks_land_on_the_template() {
    // A dlib chip padded, detected and re-aligned comes back close to dlib's own alignment.
    let chip =
        load_rgb(common::fixtures().join("identities/John_Schneider/000307_00925823.jpg")).unwrap();
    let frame = pad_image(&chip, 50, [128, 128, 128]);
    let dets = common::engine().detector.detect(&frame).unwrap();
    assert_eq!(dets.len(), 1);
    let aligned = align_to_chip(&frame, &dets[0].landmarks).unwrap();
    assert!(aligned.fit_error < 6.0, "fit error {}", aligned.fit_error);
    assert!(
        close(aligned.transform.scale(), 1.0, 0.15),
        "{:?}",
        aligned.transform
    );
    assert!(close(aligned.transform.tx, -50.0, 12.0) && close(aligned.transform.ty, -50.0, 12.0));
}
