//! The console in a real browser (issue 7 item 10): Debian's headless Chromium driven over
//! WebDriver (chromedriver + `fantoccini`). Log in through the form, open the catalogue editor,
//! rename an item, publish the new version, and watch the rollout page: the kiosk's desired
//! version changes, then a kiosk — the real kiosk-side client of `kiosk-services`, enrolled
//! and signing its requests — pulls and verifies the signed catalogue and reports the new
//! version, and the rollout page shows it reached.
//!
//! Screenshots of the main pages go to `target/console-shots/*.png` (workspace root).
//!
//! Needs `chromium` and `chromium-driver` (`scripts/setup-system.sh` installs them); without them
//! the test fails and says so.

mod common;

use common::{KIOSK_1, KIOSK_2, ScratchDir, event, rating_payload, transaction_payload};
use fantoccini::{Client, ClientBuilder, Locator};
use kiosk_central::clock::ServerTime;
use kiosk_central::users::{self, Actor};
use kiosk_central::{CentralBuilder, CentralStorage, CentralThread, SqliteStore, catalogue};
use kiosk_core::catalogue::Catalogue;
use kiosk_protocol::SigningKeyFile;
use kiosk_protocol::catalogue_envelope::VerifyingKeySet;
use kiosk_protocol::wire::{DeviceReport, Heartbeat, OutboxBatch};
use kiosk_services::sync::{CentralClient, CentralEndpoint, KioskIdentity};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "browser test password";
const CATALOGUE: &str = include_str!("../../kiosk-config/catalogue.toml");
const NEW_NAME: &str = "住房公积金提取（租房/还贷）";

fn require_browser() {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: the console browser test needs Debian's `{package}`. \
             Run scripts/setup-system.sh (or `apt-get install -y chromium chromium-driver`)."
        );
    }
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-shots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// A screenshot of the whole page (the window is made as tall as the page first).
async fn shot(browser: &Client, name: &str) {
    let height = browser
        .execute(
            "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(900)
        .clamp(700, 4000);
    let _ = browser.set_window_size(1280, height as u32 + 140).await;
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(shots_dir().join(format!("{name}.png")), png).expect("screenshot written");
    let _ = browser.set_window_size(1280, 900).await;
}

/// Waits briefly for the browser to reach `path`; panics with what it shows otherwise.
async fn expect_path(browser: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = browser.current_url().await.expect("url");
        if url.path() == path {
            return;
        }
        if Instant::now() > deadline {
            let body = text_of(browser, "body").await;
            panic!("expected {path}, browser is at {url}: {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

/// The kiosk: the real kiosk-side sync client, enrolled with a one-time code.
struct Kiosk {
    client: CentralClient,
    seq: u64,
}

impl Kiosk {
    fn heartbeat(&mut self, catalogue_version: u32) -> Option<u32> {
        self.seq += 1;
        let reply = self
            .client
            .post_heartbeat(&Heartbeat {
                kiosk_id: KIOSK_1.into(),
                seq: self.seq,
                sent_at: ServerTime::now().rfc3339,
                software_version: "0.1.0".into(),
                catalogue_version,
                devices: vec![
                    DeviceReport {
                        class: "id_card_reader".into(),
                        state: "online".into(),
                        detail: None,
                    },
                    DeviceReport {
                        class: "receipt_printer".into(),
                        state: "user_error".into(),
                        detail: Some("paper_low".into()),
                    },
                ],
                items_offered: 9,
                items_available: 8,
                unavailable_items: vec!["temp-identity-certificate".into()],
                outbox_depth: 0,
                oldest_unsent_age_s: None,
                dead_letter_count: 0,
            })
            .expect("heartbeat accepted");
        reply.desired_catalogue_version
    }
}

/// Stores and publishes the demo catalogue (version 3), adds the admin, makes an enrolment code.
fn prepare(store: &dyn CentralStorage, signer: &SigningKeyFile) -> String {
    let now = ServerTime::now();
    catalogue::import(
        store,
        CATALOGUE,
        "演示目录 demo catalogue",
        "setup",
        Some(signer),
        &now,
    )
    .expect("catalogue imported");
    catalogue::publish(store, 3, None, "setup", &now).expect("published");
    users::add_user(
        store,
        "admin",
        kiosk_central::storage::Role::Admin,
        PASSWORD,
        &Actor::cli("setup"),
    )
    .expect("admin added");
    users::add_user(
        store,
        "ops.li",
        kiosk_central::storage::Role::Operator,
        PASSWORD,
        &Actor::cli("admin"),
    )
    .expect("operator added");
    users::add_user(
        store,
        "viewer.wang",
        kiosk_central::storage::Role::Viewer,
        PASSWORD,
        &Actor::cli("admin"),
    )
    .expect("viewer added");
    kiosk_central::identity::issue_code(store, KIOSK_1, Duration::from_secs(3600), "setup", &now)
        .expect("code")
        .code
}

fn start_central(dir: &ScratchDir, signer: &SigningKeyFile) -> CentralThread {
    let mut config = common::config(dir);
    config.accept_bearer_tokens = false;
    CentralBuilder::new(config)
        .catalogue_signing_key(signer.clone())
        .spawn_in_thread()
        .expect("central starts")
}

#[test]
fn publish_in_the_browser_reaches_a_kiosk() {
    require_browser();
    let dir = ScratchDir::new("console_browser");
    let signer = SigningKeyFile::generate("central-2026a").expect("key");
    let central = start_central(&dir, &signer);
    let base = central.url();
    let store = SqliteStore::open(&dir.db()).expect("store");
    let code = prepare(&store, &signer);

    // The kiosk enrols with its code, runs version 3, and has something to report.
    let identity =
        KioskIdentity::load_or_create(&dir.path().join("kiosk.key"), KIOSK_1, Some(code))
            .expect("kiosk key");
    let mut kiosk = Kiosk {
        client: CentralClient::new(CentralEndpoint::signed(base.clone(), Arc::new(identity))),
        seq: 0,
    };
    assert_eq!(kiosk.heartbeat(3), Some(3));
    let mut events = vec![event(
        1,
        "fault_opened",
        json!({"device": "receipt_printer", "severity": "major", "message": "打印纸将尽 paper low"}),
    )];
    for (i, rating) in [(1, 5), (2, 4), (3, 2)] {
        let tx = format!("TX-{i}");
        events.push(event(2 * i, "transaction", transaction_payload(&tx)));
        events.push(event(2 * i + 1, "rating", rating_payload(&tx, rating)));
    }
    let batch: OutboxBatch =
        serde_json::from_value(json!({"kiosk_id": KIOSK_1, "events": events})).expect("batch");
    let ack = kiosk.client.post_outbox(&batch).expect("outbox accepted");
    assert_eq!(ack.stored, 7, "{ack:?}");

    let driver = Driver::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let browser = runtime.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--lang=zh-CN", "--hide-scrollbars"]
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("WebDriver session with headless chromium")
    });

    runtime.block_on(async {
        // Log in through the form.
        browser
            .goto(&format!("{base}/console/rollout"))
            .await
            .expect("open");
        expect_path(&browser, "/console/login").await;
        shot(&browser, "01-login").await;
        browser
            .find(Locator::Css("input[name=username]"))
            .await
            .unwrap()
            .send_keys("admin")
            .await
            .unwrap();
        browser
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys("wrong password!")
            .await
            .unwrap();
        browser
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(
            text_of(&browser, "p.error")
                .await
                .contains("用户名或密码错误")
        );
        browser
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        browser
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Back where it wanted to go.
        expect_path(&browser, "/console/rollout").await;
        assert_eq!(
            text_of(&browser, "tr[data-kiosk=kiosk-001] td.desired").await,
            "3"
        );

        browser
            .goto(&format!("{base}/console/fleet"))
            .await
            .unwrap();
        assert!(
            text_of(&browser, "tr[data-kiosk=kiosk-001]")
                .await
                .contains("在线")
        );
        assert!(
            text_of(&browser, &format!("tr[data-kiosk={KIOSK_2}]"))
                .await
                .contains("从未上线")
        );
        shot(&browser, "02-fleet-overview").await;
        browser
            .goto(&format!("{base}/console/kiosks/{KIOSK_1}"))
            .await
            .unwrap();
        shot(&browser, "03-kiosk-detail").await;
        browser
            .goto(&format!("{base}/console/alarms"))
            .await
            .unwrap();
        assert!(
            text_of(&browser, "#alarms")
                .await
                .contains("device_fault:receipt_printer")
        );
        shot(&browser, "04-alarms").await;
        // Escalate it to a fault ticket (the tickets page shows it later).
        browser
            .find(Locator::Css("form[action$='/escalate'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        expect_path(&browser, "/console/alarms").await;
        assert!(text_of(&browser, "p.flash").await.contains("工单"));

        // The catalogue editor: rename an item, save as version 4.
        browser
            .goto(&format!("{base}/console/catalogue"))
            .await
            .unwrap();
        shot(&browser, "05-catalogue").await;
        browser
            .find(Locator::Css("tr[data-item=gjj-withdrawal] a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let name = browser
            .find(Locator::Css("input[name=name_zh]"))
            .await
            .unwrap();
        name.clear().await.unwrap();
        name.send_keys(NEW_NAME).await.unwrap();
        browser
            .find(Locator::Css("input[name=note]"))
            .await
            .unwrap()
            .send_keys("事项更名 rename")
            .await
            .unwrap();
        shot(&browser, "06-catalogue-editor").await;
        browser
            .find(Locator::Css("#item-form button.primary"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        expect_path(&browser, "/console/catalogue").await;
        assert!(text_of(&browser, "p.flash").await.contains("版本 4"));

        // Publish version 4 to every kiosk; the rollout page shows the new desired version.
        browser
            .find(Locator::Css("tr[data-version='4'] button.primary"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        expect_path(&browser, "/console/rollout").await;
        assert_eq!(
            text_of(&browser, "tr[data-kiosk=kiosk-001] td.desired").await,
            "4"
        );
        assert_eq!(
            text_of(&browser, "tr[data-kiosk=kiosk-001] td.reported").await,
            "3"
        );
        assert!(
            text_of(&browser, "tr[data-kiosk=kiosk-001]")
                .await
                .contains("待更新")
        );
        shot(&browser, "07-rollout-pending").await;
    });

    // The kiosk learns the new version from its heartbeat, pulls it, checks the signature and
    // runs it, then reports it.
    assert_eq!(kiosk.heartbeat(3), Some(4));
    let envelope = kiosk
        .client
        .get_desired_catalogue()
        .expect("pull")
        .expect("published to it");
    let keys = VerifyingKeySet::parse(&signer.verifying_key_line()).expect("key set");
    keys.verify(&envelope).expect("signature verifies");
    let pulled = Catalogue::parse(&envelope.catalogue).expect("kiosk's parser accepts it");
    assert_eq!(pulled.version, 4);
    assert_eq!(pulled.item("gjj-withdrawal").unwrap().name.zh, NEW_NAME);
    assert_eq!(kiosk.heartbeat(pulled.version), Some(4));

    runtime.block_on(async {
        browser.refresh().await.unwrap();
        assert_eq!(
            text_of(&browser, "tr[data-kiosk=kiosk-001] td.reported").await,
            "4"
        );
        assert!(
            text_of(&browser, "tr[data-kiosk=kiosk-001]")
                .await
                .contains("已更新")
        );
        shot(&browser, "08-rollout-reached").await;
        for (page, name) in [
            ("/console/tickets?status=all", "09-tickets"),
            ("/console/availability", "10-availability"),
            ("/console/stats", "11-statistics"),
            ("/console/users", "12-users"),
            ("/console/audit", "13-audit"),
            ("/console/catalogue/draft", "14-catalogue-toml"),
        ] {
            browser.goto(&format!("{base}{page}")).await.unwrap();
            shot(&browser, name).await;
        }
        assert!(text_of(&browser, "body").await.len() > 100);
        // Log out through the button; the console is closed again.
        browser
            .goto(&format!("{base}/console/fleet"))
            .await
            .unwrap();
        browser
            .find(Locator::Css("header form button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        expect_path(&browser, "/console/login").await;
        browser
            .goto(&format!("{base}/console/fleet"))
            .await
            .unwrap();
        expect_path(&browser, "/console/login").await;
        browser.close().await.expect("browser closed");
    });

    let audit = store
        .audit_log(&kiosk_central::storage::AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .expect("audit");
    let actions: Vec<&str> = audit
        .iter()
        .filter(|e| e.actor == "admin")
        .map(|e| e.action.as_str())
        .collect();
    assert!(
        actions.contains(&"catalogue.save") && actions.contains(&"catalogue.publish"),
        "{actions:?}"
    );
    drop(driver);
    central.shutdown();
}
