//! Catalogue management (issue 7 item 4) on both engines: import (valid, malformed, version
//! monotonic), signing and verification with key rotation, publishing to all and to a group,
//! the heartbeat reply's desired version, the kiosk's signed-catalogue pull, rollout progress,
//! suspending an item everywhere — through the store and over real HTTP.

mod common;

use common::*;
use kiosk_central::catalogue::{self, CatalogueActionError};
use kiosk_central::clock::ServerTime;
use kiosk_central::{CatalogueRefusal, CentralBuilder, CentralStorage};
use kiosk_core::catalogue::Catalogue;
use kiosk_protocol::catalogue_envelope::{
    EnvelopeError, SignedCatalogue, SigningKeyFile, VerifyingKeySet,
};
use serde_json::{Value, json};

const DEMO: &str = include_str!("../../kiosk-config/catalogue.toml");

/// The demo catalogue as version `version`.
fn catalogue_v(version: u32) -> String {
    let text = DEMO.replacen("\nversion = 3\n", &format!("\nversion = {version}\n"), 1);
    assert_eq!(
        Catalogue::parse(&text).expect("demo parses").version,
        version
    );
    text
}

fn now() -> ServerTime {
    ServerTime::now()
}

fn key(id: &str) -> SigningKeyFile {
    SigningKeyFile::generate(id).expect("key")
}

fn keys(list: &[&SigningKeyFile]) -> VerifyingKeySet {
    let text: String = list.iter().map(|k| k.verifying_key_line() + "\n").collect();
    VerifyingKeySet::parse(&text).expect("verifying keys")
}

fn envelope(store: &dyn CentralStorage, version: u32) -> SignedCatalogue {
    catalogue::envelope(&store.catalogue_version(version).unwrap().unwrap()).expect("signed")
}

// ---------------------------------------------------------------------------------------------
// Store level
// ---------------------------------------------------------------------------------------------

fn import_valid_and_malformed(engine: Engine) {
    let fx = Fixture::new(engine, "cat_import");
    let store = fx.store();
    let k = key("central-a");
    let info = catalogue::import(
        store.as_ref(),
        &catalogue_v(4),
        "first",
        "alice",
        Some(&k),
        &now(),
    )
    .unwrap();
    assert_eq!(info.version, 4);
    assert_eq!(info.note, "first");
    assert_eq!(info.created_by, "alice");
    assert_eq!(info.key_id.as_deref(), Some("central-a"));
    assert_eq!(
        info.item_count as usize,
        Catalogue::parse(DEMO).unwrap().items.len()
    );
    let stored = store.catalogue_version(4).unwrap().unwrap();
    assert_eq!(stored.catalogue, catalogue_v(4), "stored byte for byte");

    // Malformed: the parser's message, nothing stored.
    let broken = catalogue_v(5).replace("format = 1", "format = 2");
    let parser_message = Catalogue::parse(&broken).unwrap_err().to_string();
    match catalogue::import(store.as_ref(), &broken, "x", "alice", Some(&k), &now()) {
        Err(CatalogueActionError::Invalid(m)) => assert_eq!(m, parser_message),
        other => panic!("{other:?}"),
    }
    let not_toml = "version = [";
    assert!(matches!(
        catalogue::import(store.as_ref(), not_toml, "x", "alice", None, &now()),
        Err(CatalogueActionError::Invalid(_))
    ));
    assert!(matches!(
        catalogue::import(store.as_ref(), &catalogue_v(5), " ", "alice", None, &now()),
        Err(CatalogueActionError::BadInput(_))
    ));
    assert_eq!(store.catalogue_versions().unwrap().len(), 1);
    assert_eq!(store.latest_catalogue_version().unwrap(), Some(4));
}

fn versions_only_go_up(engine: Engine) {
    let fx = Fixture::new(engine, "cat_monotonic");
    let store = fx.store();
    catalogue::import(store.as_ref(), &catalogue_v(4), "a", "x", None, &now()).unwrap();
    catalogue::import(store.as_ref(), &catalogue_v(6), "b", "x", None, &now()).unwrap();
    for lower in [4, 5, 6] {
        match catalogue::import(store.as_ref(), &catalogue_v(lower), "c", "x", None, &now()) {
            Err(CatalogueActionError::Refused(CatalogueRefusal::NotNewer { version, latest })) => {
                assert_eq!((version, latest), (lower, 6))
            }
            other => panic!("{lower}: {other:?}"),
        }
    }
    let log: Vec<(u32, String)> = store
        .catalogue_versions()
        .unwrap()
        .into_iter()
        .map(|v| (v.version, v.note))
        .collect();
    assert_eq!(log, [(6, "b".into()), (4, "a".into())], "newest first");
}

fn sign_verify_and_rotate(engine: Engine) {
    let fx = Fixture::new(engine, "cat_sign");
    let store = fx.store();
    let old = key("central-2026a");
    let new = key("central-2027a");
    catalogue::import(store.as_ref(), &catalogue_v(4), "a", "x", None, &now()).unwrap();
    assert!(
        store
            .catalogue_version(4)
            .unwrap()
            .unwrap()
            .info
            .signature
            .is_none()
    );
    // Unsigned versions cannot be published.
    assert!(matches!(
        catalogue::publish(store.as_ref(), 4, None, "x", &now()),
        Err(CatalogueActionError::Refused(CatalogueRefusal::NotSigned(
            4
        )))
    ));
    catalogue::sign(store.as_ref(), 4, &old, &now()).unwrap();
    let first = envelope(store.as_ref(), 4);
    keys(&[&old]).verify(&first).unwrap();
    keys(&[&old, &new]).verify(&first).unwrap();
    assert_eq!(
        Catalogue::parse(&first.catalogue).unwrap().version,
        first.version
    );
    // Re-signed with the new key: kiosks holding both keys accept it, kiosks holding only the
    // old one report an unknown key.
    catalogue::sign(store.as_ref(), 4, &new, &now()).unwrap();
    let second = envelope(store.as_ref(), 4);
    assert_eq!(second.key_id, "central-2027a");
    keys(&[&old, &new]).verify(&second).unwrap();
    assert_eq!(
        keys(&[&old]).verify(&second),
        Err(EnvelopeError::UnknownKeyId("central-2027a".into()))
    );
    let mut tampered = second.clone();
    tampered.catalogue = tampered.catalogue.replace("公安局", "公安厅");
    assert!(matches!(
        keys(&[&new]).verify(&tampered),
        Err(EnvelopeError::BadSignature { .. })
    ));
    assert!(matches!(
        catalogue::sign(store.as_ref(), 9, &new, &now()),
        Err(CatalogueActionError::Refused(
            CatalogueRefusal::UnknownVersion(9)
        ))
    ));
}

fn publish_to_all_and_to_a_group(engine: Engine) {
    let fx = Fixture::new(engine, "cat_publish");
    let store = fx.store();
    let k = key("k");
    for v in [4, 5, 6] {
        catalogue::import(store.as_ref(), &catalogue_v(v), "n", "x", Some(&k), &now()).unwrap();
    }
    store
        .set_kiosk_group("pilot-1", Some("pilot"), &now())
        .unwrap();
    store
        .set_kiosk_group("other", Some("east"), &now())
        .unwrap();
    assert_eq!(store.desired_catalogue_version("pilot-1").unwrap(), None);

    catalogue::publish(store.as_ref(), 4, None, "alice", &now()).unwrap();
    catalogue::publish(store.as_ref(), 5, Some("pilot"), "alice", &now()).unwrap();
    assert_eq!(store.desired_catalogue_version("pilot-1").unwrap(), Some(5));
    assert_eq!(store.desired_catalogue_version("other").unwrap(), Some(4));
    assert_eq!(
        store.desired_catalogue_version("no-group").unwrap(),
        Some(4)
    );
    // The heartbeat's answer carries the same versions (read in the heartbeat's transaction).
    for (kiosk, expected) in [("pilot-1", Some(5)), ("other", Some(4))] {
        let hb: kiosk_protocol::wire::Heartbeat =
            serde_json::from_value(heartbeat(kiosk, 1, "online", None)).unwrap();
        let answer = store.answer_heartbeat(&hb, &now()).unwrap();
        assert_eq!(answer.desired_catalogue_version, expected, "{kiosk}");
    }
    assert!(store.catalogue_published_to("pilot-1", 5).unwrap());
    assert!(!store.catalogue_published_to("other", 5).unwrap());
    assert!(store.catalogue_published_to("other", 4).unwrap());
    assert!(!store.catalogue_published_to("other", 6).unwrap());

    // Moving a kiosk out of the group takes it back to what all kiosks get.
    store.set_kiosk_group("pilot-1", None, &now()).unwrap();
    assert_eq!(store.desired_catalogue_version("pilot-1").unwrap(), Some(4));
    store
        .set_kiosk_group("pilot-1", Some("pilot"), &now())
        .unwrap();

    // Publishing to all never takes the pilot back: the highest targeting version wins.
    catalogue::publish(store.as_ref(), 6, None, "alice", &now()).unwrap();
    assert_eq!(store.desired_catalogue_version("pilot-1").unwrap(), Some(6));
    assert_eq!(store.desired_catalogue_version("other").unwrap(), Some(6));

    let publications = store.catalogue_publications().unwrap();
    assert_eq!(publications.len(), 3);
    assert_eq!(publications[1].target_group.as_deref(), Some("pilot"));
    assert!(matches!(
        catalogue::publish(store.as_ref(), 7, None, "x", &now()),
        Err(CatalogueActionError::Refused(
            CatalogueRefusal::UnknownVersion(7)
        ))
    ));
    assert!(matches!(
        catalogue::publish(store.as_ref(), 6, Some("bad group"), "x", &now()),
        Err(CatalogueActionError::BadInput(_))
    ));
    assert_eq!(
        store.kiosk_groups().unwrap(),
        [
            ("other".to_string(), "east".to_string()),
            ("pilot-1".to_string(), "pilot".to_string())
        ]
    );
}

fn suspend_removes_the_item_in_a_new_signed_version(engine: Engine) {
    let fx = Fixture::new(engine, "cat_suspend");
    let store = fx.store();
    let k = key("k");
    let code = Catalogue::parse(DEMO).unwrap().items[1].code.clone();
    assert!(matches!(
        catalogue::suspend_item(store.as_ref(), &code, "n", "x", Some(&k), &now()),
        Err(CatalogueActionError::NothingPublished)
    ));
    catalogue::import(store.as_ref(), &catalogue_v(4), "n", "x", Some(&k), &now()).unwrap();
    catalogue::publish(store.as_ref(), 4, None, "x", &now()).unwrap();
    // An unpublished draft above it: the suspension starts from the published version and
    // takes the next number.
    catalogue::import(
        store.as_ref(),
        &catalogue_v(5),
        "draft",
        "x",
        Some(&k),
        &now(),
    )
    .unwrap();
    assert!(matches!(
        catalogue::suspend_item(store.as_ref(), &code, "n", "x", None, &now()),
        Err(CatalogueActionError::NoSigningKey)
    ));
    assert!(matches!(
        catalogue::suspend_item(store.as_ref(), "no-such-item", "n", "x", Some(&k), &now()),
        Err(CatalogueActionError::UnknownItem { version: 4, .. })
    ));
    let s =
        catalogue::suspend_item(store.as_ref(), &code, "recall", "bob", Some(&k), &now()).unwrap();
    assert_eq!((s.based_on, s.version.version), (4, 6));
    assert!(s.version.note.contains(&code) && s.version.note.contains("recall"));
    assert_eq!(s.publication.target_group, None);
    assert_eq!(store.desired_catalogue_version("any").unwrap(), Some(6));
    let signed = envelope(store.as_ref(), 6);
    keys(&[&k]).verify(&signed).unwrap();
    let parsed = Catalogue::parse(&signed.catalogue).unwrap();
    assert_eq!(parsed.version, 6);
    assert!(parsed.item(&code).is_none());
    assert_eq!(
        parsed.items.len() + 1,
        Catalogue::parse(DEMO).unwrap().items.len()
    );
}

on_both_engines!(
    import_valid_and_malformed,
    versions_only_go_up,
    sign_verify_and_rotate,
    publish_to_all_and_to_a_group,
    suspend_removes_the_item_in_a_new_signed_version,
    over_http,
    without_signing_key_imports_stay_unsigned,
    command_line,
);

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

fn command_line(engine: Engine) {
    let fx = Fixture::new(engine, "cat_cli");
    let store_args: Vec<String> = match &fx.postgres_url {
        Some(url) => vec!["--postgres".into(), url.clone()],
        None => vec!["--db".into(), fx.dir.db().display().to_string()],
    };
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk-central"))
            .args(args)
            .args(&store_args)
            .env_remove("KIOSK_CENTRAL_POSTGRES_URL")
            .output()
            .expect("binary runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let keys_dir = fx.dir.path().join("keys");
    let keys_dir_s = keys_dir.display().to_string();
    // keygen takes no store: run it directly.
    let keygen = |id: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kiosk-central"))
            .args(["catalogue", "keygen", "--out", &keys_dir_s, "--key-id", id])
            .output()
            .expect("binary runs")
    };
    assert!(keygen("central-2026a").status.success());
    let again = keygen("central-2026a");
    assert_eq!(
        again.status.code(),
        Some(2),
        "never overwrites a signing key"
    );
    let signing = keys_dir.join("catalogue-signing.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&signing).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let verifying =
        VerifyingKeySet::load(&keys_dir.join("catalogue-verifying.keys")).expect("public keys");
    let signing_s = signing.display().to_string();

    let file = |name: &str, text: &str| {
        let path = fx.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let v4 = file("v4.toml", &catalogue_v(4));
    let broken = file(
        "broken.toml",
        &catalogue_v(5).replace("format = 1", "format = 2"),
    );

    let (code, _, err) = run(&["catalogue", "import", &broken, "--note", "x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("kiosk-central: error: catalogue refused:"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let (code, _, err) = run(&["catalogue", "import", "/no/such/file.toml", "--note", "x"]);
    assert_eq!(code, 2, "{err}");

    let (code, out, err) = run(&[
        "catalogue",
        "import",
        &v4,
        "--note",
        "first",
        "--by",
        "alice",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("imported catalogue version 4") && out.contains("unsigned"),
        "{out}"
    );
    let (code, _, err) = run(&["catalogue", "import", &v4, "--note", "again"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not newer"), "{err}");
    let (code, _, err) = run(&["catalogue", "publish", "4"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not signed"), "{err}");
    let (code, _, err) = run(&["catalogue", "sign", "4", "--key", &signing_s]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["catalogue", "sign", "9", "--key", &signing_s]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["catalogue", "group", KIOSK_2, "pilot"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["catalogue", "publish", "4", "--group", "pilot"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("group pilot"), "{out}");
    let v5 = file("v5.toml", &catalogue_v(5));
    let (code, _, err) = run(&[
        "catalogue",
        "import",
        &v5,
        "--note",
        "second",
        "--key",
        &signing_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["catalogue", "publish", "5"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["catalogue", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("version 5") && out.contains("central-2026a"),
        "{out}"
    );

    let exported = fx.dir.path().join("exported.toml");
    let (code, _, err) = run(&["export", "--out", &exported.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&exported).unwrap(), catalogue_v(5));

    let code_of_item = Catalogue::parse(DEMO).unwrap().items[0].code.clone();
    let (code, out, err) = run(&[
        "catalogue",
        "suspend",
        &code_of_item,
        "--note",
        "recall",
        "--key",
        &signing_s,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("version 6"), "{out}");

    let store = fx.store();
    assert_eq!(store.desired_catalogue_version(KIOSK_2).unwrap(), Some(6));
    let signed = envelope(store.as_ref(), 6);
    verifying.verify(&signed).unwrap();
    assert!(
        Catalogue::parse(&signed.catalogue)
            .unwrap()
            .item(&code_of_item)
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// Over HTTP
// ---------------------------------------------------------------------------------------------

fn heartbeat_with(kiosk: &str, seq: u64, catalogue_version: u32) -> Value {
    let mut hb = heartbeat(kiosk, seq, "online", None);
    hb["catalogue_version"] = json!(catalogue_version);
    hb
}

fn over_http(engine: Engine) {
    let fx = Fixture::new(engine, "cat_http");
    let signer = key("central-2026a");
    let verifier = keys(&[&signer]);
    let builder = CentralBuilder::new(fx.config()).catalogue_signing_key(signer.clone());
    let builder = match &fx.postgres_url {
        Some(url) => builder.postgres(url),
        None => builder,
    };
    let central = builder.spawn_in_thread().expect("central starts");
    fx.enrol_test_kiosks();
    let client = Client::new(central.url());
    let admin = Some(ADMIN_TOKEN);

    // Admin only: a kiosk's signature is not enough.
    let (status, _) = client.get("/api/v1/admin/catalogue/versions", signed(KIOSK_1));
    assert_eq!(status, 401);

    // Import: malformed refused with the parser's message, valid stored and signed.
    let broken = catalogue_v(4).replace("format = 1", "format = 2");
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/versions",
        admin,
        &json!({"catalogue": broken, "note": "x"}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("format"), "{body}");
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/versions",
        admin,
        &json!({"catalogue": catalogue_v(4), "note": "first", "by": "alice"}),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 4);
    assert_eq!(body["key_id"], "central-2026a");
    let (status, _) = client.post_json(
        "/api/v1/admin/catalogue/versions",
        admin,
        &json!({"catalogue": catalogue_v(4), "note": "again"}),
    );
    assert_eq!(status, 409);
    let (_, log) = client.get("/api/v1/admin/catalogue/versions", admin);
    assert_eq!(log["latest"], 4);
    assert_eq!(log["versions"][0]["note"], "first");
    assert_eq!(
        client.get_text(
            "/api/v1/admin/catalogue/versions/4/catalogue.toml",
            ADMIN_TOKEN
        ),
        catalogue_v(4)
    );

    // Nothing published: no desired version, no envelope.
    let (status, reply) = client.post_json(
        "/api/v1/heartbeat",
        signed(KIOSK_1),
        &heartbeat_with(KIOSK_1, 1, 3),
    );
    assert_eq!(status, 200);
    assert_eq!(reply["desired_catalogue_version"], Value::Null);
    let (status, _) = client.get("/api/v1/catalogue/desired", signed(KIOSK_1));
    assert_eq!(status, 404);

    // Publish version 4 to group "pilot" (kiosk 2 only).
    let (status, _) = client.post_raw("/api/v1/admin/kiosks/kiosk-002/group", admin, b"{}");
    assert_eq!(status, 405, "group is set with PUT");
    set_group(&central.url(), KIOSK_2, Some("pilot"));
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/publish",
        admin,
        &json!({"version": 4, "group": "pilot", "by": "alice"}),
    );
    assert_eq!(status, 201, "{body}");
    let (_, reply) = client.post_json(
        "/api/v1/heartbeat",
        signed(KIOSK_1),
        &heartbeat_with(KIOSK_1, 2, 3),
    );
    assert_eq!(
        reply["desired_catalogue_version"],
        Value::Null,
        "kiosk 1 is not targeted"
    );
    let (_, reply) = client.post_json(
        "/api/v1/heartbeat",
        signed(KIOSK_2),
        &heartbeat_with(KIOSK_2, 1, 3),
    );
    assert_eq!(reply["desired_catalogue_version"], 4);

    // The envelope: a kiosk's signature required, only for a targeted kiosk, verifiable.
    let (status, _) = client.get("/api/v1/catalogue/desired", None);
    assert_eq!(status, 401);
    let (status, _) = client.get("/api/v1/catalogue/4", Some(ADMIN_TOKEN));
    assert_eq!(status, 401);
    let (status, _) = client.get("/api/v1/catalogue/4", signed(KIOSK_1));
    assert_eq!(status, 404);
    let text = client.get_text("/api/v1/catalogue/desired", signed(KIOSK_2));
    let pulled = SignedCatalogue::from_json(text.as_bytes()).unwrap();
    verifier.verify(&pulled).unwrap();
    assert_eq!(pulled.version, 4);
    assert_eq!(pulled.catalogue, catalogue_v(4));
    let (status, by_number) = client.get("/api/v1/catalogue/4", signed(KIOSK_2));
    assert_eq!(status, 200);
    assert_eq!(by_number["signature"], pulled.signature.as_str());
    let (status, _) = client.get("/api/v1/catalogue/x", signed(KIOSK_2));
    assert_eq!(status, 400);

    // Rollout: kiosk 2 pending until it reports 4.
    let rollout = |client: &Client| client.get("/api/v1/admin/catalogue/rollout", admin).1;
    let r = rollout(&client);
    assert_eq!(r["counts"]["pending"], 1, "{r}");
    assert_eq!(r["counts"]["no_target"], 1, "{r}");
    let k2 = r["kiosks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kiosk_id"] == KIOSK_2)
        .unwrap()
        .clone();
    assert_eq!(
        (
            k2["desired"].clone(),
            k2["reported"].clone(),
            k2["group"].clone()
        ),
        (json!(4), json!(3), json!("pilot"))
    );
    client.post_json(
        "/api/v1/heartbeat",
        signed(KIOSK_2),
        &heartbeat_with(KIOSK_2, 2, 4),
    );
    let r = rollout(&client);
    assert_eq!(r["counts"]["up_to_date"], 1, "{r}");
    assert_eq!(r["counts"]["pending"], 0, "{r}");

    // Publish to all: kiosk 1 gets it too.
    client.post_json(
        "/api/v1/admin/catalogue/publish",
        admin,
        &json!({"version": 4}),
    );
    let (_, reply) = client.post_json(
        "/api/v1/heartbeat",
        signed(KIOSK_1),
        &heartbeat_with(KIOSK_1, 3, 3),
    );
    assert_eq!(reply["desired_catalogue_version"], 4);
    assert_eq!(rollout(&client)["published_to_all"], 4);

    // Suspend an item everywhere: version 5 without it, desired by every kiosk.
    let code = Catalogue::parse(DEMO).unwrap().items[0].code.clone();
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/suspend",
        admin,
        &json!({"item_code": code, "note": "recalled by the bureau", "by": "bob"}),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"]["version"], 5);
    for (kiosk, seq) in [(KIOSK_1, 4), (KIOSK_2, 3)] {
        let (_, reply) = client.post_json(
            "/api/v1/heartbeat",
            signed(kiosk),
            &heartbeat_with(kiosk, seq, 4),
        );
        assert_eq!(reply["desired_catalogue_version"], 5);
        let pulled = SignedCatalogue::from_json(
            client
                .get_text("/api/v1/catalogue/desired", signed(kiosk))
                .as_bytes(),
        )
        .unwrap();
        verifier.verify(&pulled).unwrap();
        assert!(
            Catalogue::parse(&pulled.catalogue)
                .unwrap()
                .item(&code)
                .is_none()
        );
    }
    let (status, _) = client.post_json(
        "/api/v1/admin/catalogue/suspend",
        admin,
        &json!({"item_code": "no-such-item", "note": "x"}),
    );
    assert_eq!(status, 404);
    let (status, _) = client.post_json(
        "/api/v1/admin/catalogue/publish",
        admin,
        &json!({"version": 99}),
    );
    assert_eq!(status, 404);
    let (_, groups) = client.get("/api/v1/admin/kiosk-groups", admin);
    assert_eq!(groups, json!([{"kiosk_id": KIOSK_2, "group": "pilot"}]));
    central.shutdown();
}

fn set_group(base: &str, kiosk: &str, group: Option<&str>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .put(format!("{base}/api/v1/admin/kiosks/{kiosk}/group"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("Content-Type", "application/json")
        .send(json!({ "group": group }).to_string())
        .expect("request sent");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    assert_eq!(status, 200, "{text}");
}

fn without_signing_key_imports_stay_unsigned(engine: Engine) {
    let fx = Fixture::new(engine, "cat_nokey");
    let central = fx.start();
    let client = Client::new(central.url());
    let admin = Some(ADMIN_TOKEN);
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/versions",
        admin,
        &json!({"catalogue": catalogue_v(4), "note": "n"}),
    );
    assert_eq!(status, 201);
    assert_eq!(body["signature"], Value::Null);
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/publish",
        admin,
        &json!({"version": 4}),
    );
    assert_eq!(status, 409, "{body}");
    let (status, _) =
        client.post_json("/api/v1/admin/catalogue/versions/4/sign", admin, &json!({}));
    assert_eq!(status, 409);
    central.shutdown();
}
