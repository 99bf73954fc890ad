//! `kiosk face compare` and `kiosk face eval` on the in-repo test photos (public figures from
//! the dlib examples): same person, different people, a missing file, and the evaluation's
//! acceptance numbers (no false accepts or rejects at the threshold, no faces on non-faces,
//! three in the group photo).

mod support;

use std::path::{Path, PathBuf};
use support::cli::{json_output, json_with_code, kiosk, one_line_error};

fn faces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("face/tests/fixtures/faces")
}

fn photo(rel: &str) -> String {
    faces().join("identities").join(rel).display().to_string()
}

#[test]
fn compare_says_same_person_or_not_with_the_distance() {
    let same = kiosk()
        .args(["face", "compare", "--pad", "50"])
        .arg(photo("John_Salley/000179_02159509.jpg"))
        .arg(photo("John_Salley/000183_02159543.jpg"))
        .output()
        .unwrap();
    let report = json_output(&same);
    assert_eq!(report["a"]["faces"].as_array().unwrap().len(), 1);
    assert_eq!(report["result"]["decision"], "match", "{report}");
    let d = report["result"]["distance"].as_f64().unwrap();
    assert!(d < report["result"]["threshold"].as_f64().unwrap(), "{d}");

    let other = kiosk()
        .args(["face", "compare", "--pad", "50"])
        .arg(photo("John_Salley/000179_02159509.jpg"))
        .arg(photo("John_Savage/000264_01099001.jpg"))
        .output()
        .unwrap();
    let report = json_with_code(&other, 1);
    assert_eq!(report["result"]["decision"], "no_match", "{report}");
}

#[test]
fn compare_of_a_missing_picture_is_one_line_and_exit_code_2() {
    let out = kiosk()
        .args(["face", "compare", "/nonexistent/a.jpg"])
        .arg(photo("John_Salley/000179_02159509.jpg"))
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("/nonexistent/a.jpg"), "{err}");
}

#[test]
fn eval_on_the_test_photos_meets_the_acceptance_numbers() {
    let out = kiosk()
        .args(["face", "eval"])
        .arg(faces())
        .output()
        .unwrap();
    let report = json_output(&out);
    assert_eq!(report["identities"], 3, "{report}");
    assert_eq!(report["images"], 33);
    assert!(report["detection_failures"].as_array().unwrap().is_empty());
    assert!(
        report["pairs"]["false_accepts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        report["pairs"]["false_rejects"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let id_photo = &report["id_photo"]["pairs"];
    assert!(id_photo["false_accepts"].as_array().unwrap().is_empty());
    assert!(id_photo["false_rejects"].as_array().unwrap().is_empty());
    assert_eq!(report["detector_false_positives"], 0);
    let group = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g.to_string().contains("2008_002506"))
        .expect("the group photo");
    assert_eq!(group["faces"], 3, "{group}");
}
