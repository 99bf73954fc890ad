//! The whole face check on the in-repo fixtures: detection counts, dlib agreement, decisions and the
//! evaluation report at the chosen threshold.

mod common;

use common::{engine, fixtures};
use kiosk_face::quality::QualityIssue;
use kiosk_face::{
    DEFAULT_THRESHOLD, Decision, EvalConfig, ID_PHOTO_HEIGHT, ID_PHOTO_WIDTH, evaluate_dir,
    load_rgb, pad_image, simulate_id_photo,
};

fn identity(name: &str, file: &str) -> image::RgbImage {
    let img = load_rgb(fixtures().join("identities").join(name).join(file)).unwrap();
    pad_image(&img, 50, [128, 128, 128])
}

#[test]
fn evaluation_has_no_errors_at_the_threshold() {
    let report = evaluate_dir(engine(), &fixtures(), &EvalConfig::default()).unwrap();
    assert_eq!(report.threshold, DEFAULT_THRESHOLD);
    assert_eq!((report.identities, report.images), (3, 33));
    assert!(
        report.detection_failures.is_empty(),
        "{:?}",
        report.detection_failures
    );
    let p = &report.pairs;
    // 3 × C(11, 2) = 165 same-person pairs minus the near-duplicate pair; 3 × 11 × 11 × 2 / 2 others.
    assert_eq!(p.genuine.count, 164);
    assert_eq!(p.impostor.count, 363);
    assert_eq!(p.excluded_near_duplicates.len(), 1);
    assert!(
        p.false_accepts.is_empty(),
        "false accepts: {:?}",
        p.false_accepts
    );
    assert!(
        p.false_rejects.is_empty(),
        "false rejects: {:?}",
        p.false_rejects
    );
    assert!(p.genuine.max.unwrap() < p.impostor.min.unwrap());

    let id = report.id_photo.as_ref().unwrap();
    assert_eq!(id.photos, 33);
    assert!(
        id.detection_failures.is_empty(),
        "{:?}",
        id.detection_failures
    );
    assert_eq!(
        id.pairs.genuine.count + id.pairs.excluded_near_duplicates.len(),
        33 * 10
    );
    assert_eq!(id.pairs.impostor.count, 33 * 22);
    assert!(
        id.pairs.false_accepts.is_empty(),
        "{:?}",
        id.pairs.false_accepts
    );
    assert!(
        id.pairs.false_rejects.is_empty(),
        "{:?}",
        id.pairs.false_rejects
    );

    assert_eq!(report.nonfaces.len(), 5);
    assert_eq!(report.detector_false_positives, 0, "{:?}", report.nonfaces);
    let group = report
        .groups
        .iter()
        .find(|g| g.image == "groups/2008_002506.jpg")
        .unwrap();
    assert_eq!(group.faces, 3);
    // The report is what `kiosk face eval` prints.
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["pairs"]["genuine"]["histogram"].is_array());
}

#[test]
fn no_face_on_non_face_images() {
    for entry in std::fs::read_dir(fixtures().join("nonfaces")).unwrap() {
        let path = entry.unwrap().path();
        let dets = engine().detector.detect(&load_rgb(&path).unwrap()).unwrap();
        assert!(dets.is_empty(), "{}: {dets:?}", path.display());
    }
}

#[test]
fn group_photo_has_three_faces_and_is_refused() {
    let img = load_rgb(fixtures().join("groups/2008_002506.jpg")).unwrap();
    let a = engine().analyze(&img).unwrap();
    assert_eq!(a.detections.len(), 3);
    assert_eq!(
        a.first_issue(),
        Some(QualityIssue::MultipleFaces { count: 3 })
    );
    assert!(a.embedding.is_none());
}

#[test]
fn tight_chip_needs_padding() {
    // The reference's observation, kept as a check of the padding rule used by the evaluation.
    let padded = identity("John_Savage", "000264_01099001.jpg");
    assert_eq!(engine().detector.detect(&padded).unwrap().len(), 1);
}

#[test]
fn embedding_matches_dlib_reference() {
    #[derive(serde::Deserialize)]
    struct Ref {
        embeddings: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        image: String,
        embedding: Vec<f32>,
    }
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let text = std::fs::read_to_string(scripts.join("dlib_reference_embeddings.json")).unwrap();
    let reference: Ref = serde_json::from_str(&text).unwrap();
    assert!(reference.embeddings.len() >= 3);
    for item in reference.embeddings {
        let chip = load_rgb(scripts.join(&item.image)).unwrap();
        let got = engine().embedder.embed(&chip).unwrap();
        let want = kiosk_face::Embedding(item.embedding);
        let d = got.distance(&want);
        assert!(d < 0.02, "{}: tract vs dlib L2 {d}", item.image);
    }
}

#[test]
fn compare_same_and_different_person() {
    let e = engine();
    let same = e
        .compare(
            &identity("John_Salley", "000179_02159509.jpg"),
            &identity("John_Salley", "000198_02159470.jpg"),
        )
        .unwrap();
    assert_eq!(same.result.unwrap().decision, Decision::Match, "{same:?}");
    let other = e
        .compare(
            &identity("John_Salley", "000179_02159509.jpg"),
            &identity("John_Schneider", "000288_00925786.jpg"),
        )
        .unwrap();
    assert_eq!(
        other.result.unwrap().decision,
        Decision::NoMatch,
        "{other:?}"
    );
    let json = serde_json::to_string(&other).unwrap();
    assert!(json.contains("\"decision\":\"no_match\""));
}

#[test]
fn id_photo_matches_live_photo_of_same_person() {
    let card = simulate_id_photo(
        &load_rgb(fixtures().join("identities/John_Savage/000264_01099001.jpg")).unwrap(),
    );
    assert_eq!(card.dimensions(), (ID_PHOTO_WIDTH, ID_PHOTO_HEIGHT));
    let r = engine()
        .compare_card(&card, &identity("John_Savage", "000290_01099067.jpg"))
        .unwrap();
    assert_eq!(r.a.faces.len(), 1);
    assert!(r.a.issues.is_empty(), "{:?}", r.a.issues);
    assert_eq!(r.result.unwrap().decision, Decision::Match, "{r:?}");
    let r = engine()
        .compare_card(&card, &identity("John_Schneider", "000302_00925785.jpg"))
        .unwrap();
    assert_eq!(r.result.unwrap().decision, Decision::NoMatch, "{r:?}");
}

#[test]
fn compare_refuses_without_a_single_face() {
    let group = load_rgb(fixtures().join("groups/2008_002506.jpg")).unwrap();
    let cat = load_rgb(fixtures().join("nonfaces/chelsea.png")).unwrap();
    let r = engine().compare(&group, &cat).unwrap();
    assert!(r.result.is_none());
    assert_eq!(r.a.issues, vec![QualityIssue::MultipleFaces { count: 3 }]);
    assert_eq!(r.b.issues, vec![QualityIssue::NoFace]);
}
