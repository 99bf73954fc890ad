//! Helpers shared by the tests: a scratch folder, a store or a service on either engine, a client.

#![allow(dead_code)]

pub mod cli;
#[path = "../support/postgres.rs"]
pub mod postgres;

use kiosk_central::clock::ServerTime;
use kiosk_central::{
    CentralConfig, CentralStorage, CentralThread, KioskCredential, PostgresStore, RunningCentral,
    SqliteStore,
};
use kiosk_protocol::request_signing::{KioskKey, sha256_hex};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

pub const KIOSK_1: &str = "kiosk-001";
pub const KIOSK_2: &str = "kiosk-002";
/// Legacy bearer tokens: only for the test of `accept_bearer_tokens` (off by default).
pub const TOKEN_1: &str = "token-for-kiosk-001";
pub const TOKEN_2: &str = "token-for-kiosk-002";
pub const ADMIN_TOKEN: &str = "admin-token-for-tests";

pub const FULL_ID_NUMBER: &str = "110105194912310021";
pub const MASKED_ID_NUMBER: &str = "110105********0021";
pub const FULL_NAME: &str = "王小明";
pub const MASKED_NAME: &str = "王**";
pub const ADDRESS: &str = "北京市东城区景山前街4号";

/// A folder under the system temp dir, removed when dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "kiosk-central-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create scratch dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("central.db")
    }

    pub fn key(&self) -> PathBuf {
        self.0.join("central.key")
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The service's configuration for the tests: the two kiosks (without bearer tokens — they are
/// enrolled and sign every request, see [`enrol_test_kiosks`]), the admin token, and bearer
/// tokens refused (the default).
pub fn config(dir: &ScratchDir) -> CentralConfig {
    CentralConfig {
        database_path: dir.db(),
        listen: "127.0.0.1:0".parse().expect("literal address"),
        kiosks: vec![
            KioskCredential {
                kiosk_id: KIOSK_1.into(),
                token: String::new(),
            },
            KioskCredential {
                kiosk_id: KIOSK_2.into(),
                token: String::new(),
            },
        ],
        admin_token: ADMIN_TOKEN.into(),
        sealing_key_path: dir.key(),
        accept_bearer_tokens: false,
    }
}

/// [`config`] with the legacy bearer tokens configured and accepted (the fallback test only).
pub fn config_with_bearer_tokens(dir: &ScratchDir) -> CentralConfig {
    let mut config = config(dir);
    config.kiosks[0].token = TOKEN_1.into();
    config.kiosks[1].token = TOKEN_2.into();
    config.accept_bearer_tokens = true;
    config
}

/// A test kiosk's Ed25519 key: fixed per kiosk id, so a restarted service (same store) and every
/// test client agree on it.
pub fn kiosk_key(kiosk_id: &str) -> KioskKey {
    KioskKey::from_secret_hex(&sha256_hex(format!("central-tests\n{kiosk_id}").as_bytes()))
        .expect("64 hex characters")
}

/// Enrols `kiosk_ids` with their [`kiosk_key`] in the store, as an operator's one-time code and
/// `POST /api/v1/enrol` would (the HTTP enrolment itself is tested in `tests/enrolment.rs`).
/// Kiosks already enrolled with that key are left alone. Blocking.
pub fn enrol_kiosks(store: &dyn CentralStorage, kiosk_ids: &[&str]) {
    let now = ServerTime::now();
    for kiosk_id in kiosk_ids {
        let key = kiosk_key(kiosk_id).public_key_hex();
        let current = store.kiosk_key(kiosk_id).expect("read kiosk key");
        if current.is_some_and(|k| k.public_key == key && k.revoked_at.is_none()) {
            continue;
        }
        let issued = kiosk_central::identity::issue_code(
            store,
            kiosk_id,
            std::time::Duration::from_secs(60),
            "tests",
            &now,
        )
        .expect("enrolment code");
        store
            .enrol_kiosk(
                kiosk_id,
                &kiosk_central::identity::code_hash(&issued.code),
                &key,
                &now,
            )
            .expect("store")
            .expect("enrolled");
    }
}

/// [`KIOSK_1`] and [`KIOSK_2`], enrolled.
pub const TEST_KIOSKS: [&str; 2] = [KIOSK_1, KIOSK_2];

/// A storage engine the suites run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each named `fn name(engine: Engine)` once per engine, as `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name($crate::common::Engine::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name($crate::common::Engine::Postgres) })*
        }
    };
}

/// One test's storage: a scratch folder (key file, SQLite file) and, on PostgreSQL, a fresh
/// database on the test binary's server.
pub struct Fixture {
    pub engine: Engine,
    pub dir: ScratchDir,
    pub postgres_url: Option<String>,
}

impl Fixture {
    pub fn new(engine: Engine, name: &str) -> Self {
        let dir = ScratchDir::new(name);
        let postgres_url = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(postgres::server().create_database(name)),
        };
        Self {
            engine,
            dir,
            postgres_url,
        }
    }

    pub fn config(&self) -> CentralConfig {
        config(&self.dir)
    }

    /// The service on this fixture's storage, on its own thread, the test kiosks enrolled.
    pub fn start(&self) -> CentralThread {
        let central = self.start_with(self.config()).expect("central starts");
        self.enrol_test_kiosks();
        central
    }

    /// The service with `config` on this fixture's storage (nobody enrolled by this call).
    pub fn start_with(&self, config: CentralConfig) -> anyhow::Result<CentralThread> {
        match &self.postgres_url {
            None => kiosk_central::spawn_in_thread(config),
            Some(url) => kiosk_central::spawn_in_thread_with_postgres(config, url),
        }
    }

    /// The service on this fixture's storage, in the caller's runtime, the test kiosks enrolled.
    pub async fn spawn(&self) -> RunningCentral {
        let central = match &self.postgres_url {
            None => kiosk_central::spawn(self.config()).await,
            Some(url) => kiosk_central::spawn_with_postgres(self.config(), url).await,
        }
        .expect("central starts");
        // The stores block: enrol from a thread of its own, not the async context.
        std::thread::scope(|scope| {
            scope.spawn(|| self.enrol_test_kiosks());
        });
        central
    }

    /// Enrols [`TEST_KIOSKS`] in this fixture's store (a no-op when they are). Blocking.
    pub fn enrol_test_kiosks(&self) {
        enrol_kiosks(self.store().as_ref(), &TEST_KIOSKS);
    }

    /// Opens the store (beside a running service, or after it stopped). Blocking: not from an
    /// async context.
    pub fn store(&self) -> Box<dyn CentralStorage> {
        match &self.postgres_url {
            None => Box::new(SqliteStore::open(&self.dir.db()).expect("SQLite store opens")),
            Some(url) => Box::new(PostgresStore::open(url).expect("PostgreSQL store opens")),
        }
    }

    pub fn schema_version(&self) -> i64 {
        match &self.postgres_url {
            None => SqliteStore::open(&self.dir.db())
                .and_then(|s| s.schema_version())
                .expect("schema version"),
            Some(url) => PostgresStore::open(url)
                .and_then(|s| s.schema_version())
                .expect("schema version"),
        }
    }

    /// Runs SQL on the engine directly, bypassing the store (to fake a newer schema, …).
    pub fn execute_sql(&self, sql: &str) {
        match &self.postgres_url {
            None => rusqlite::Connection::open(self.dir.db())
                .and_then(|c| c.execute_batch(sql))
                .expect("SQL runs"),
            Some(url) => {
                let database = url
                    .rsplit('/')
                    .next()
                    .and_then(|rest| rest.split('?').next())
                    .expect("database name");
                postgres::server().run_sql(database, sql);
            }
        }
    }

    /// A single number from the engine, e.g. `SELECT COUNT(*) FROM kiosk_state`.
    pub fn query_i64(&self, sql: &str) -> i64 {
        match &self.postgres_url {
            None => rusqlite::Connection::open(self.dir.db())
                .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
                .expect("query runs"),
            Some(url) => {
                let url = url.clone();
                let sql = sql.to_string();
                std::thread::spawn(move || {
                    let mut client =
                        ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
                    client
                        .query_one(sql.as_str(), &[])
                        .and_then(|row| row.try_get(0))
                        .expect("query runs")
                })
                .join()
                .expect("query thread")
            }
        }
    }

    /// Everything the engine keeps of this test's data: on SQLite the bytes of the database
    /// file, its WAL and its shared-memory index; on PostgreSQL a `pg_dump` of the database.
    pub fn stored_bytes(&self) -> Vec<u8> {
        match &self.postgres_url {
            None => {
                let mut bytes = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let path = format!("{}{suffix}", self.dir.db().display());
                    if let Ok(content) = std::fs::read(&path) {
                        bytes.extend_from_slice(&content);
                    }
                }
                bytes
            }
            Some(url) => postgres::server().dump(url),
        }
    }
}

/// Who makes a request: nobody, a bearer token (the admin token; legacy kiosk tokens only in the
/// fallback test), or an enrolled test kiosk signing it with its [`kiosk_key`].
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    Nobody,
    Bearer(&'a str),
    Kiosk(&'a str),
}

/// `None` → nobody, `Some(token)` → that bearer token (e.g. `Some(ADMIN_TOKEN)`).
impl<'a> From<Option<&'a str>> for Caller<'a> {
    fn from(token: Option<&'a str>) -> Self {
        token.map_or(Caller::Nobody, Caller::Bearer)
    }
}

/// A bearer token (e.g. `ADMIN_TOKEN`).
impl<'a> From<&'a str> for Caller<'a> {
    fn from(token: &'a str) -> Self {
        Caller::Bearer(token)
    }
}

/// The request signed by enrolled kiosk `kiosk_id`.
pub fn signed(kiosk_id: &str) -> Caller<'_> {
    Caller::Kiosk(kiosk_id)
}

/// A blocking HTTP client that returns every status instead of failing on non-2xx.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    pub fn new(base: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Self { agent, base }
    }

    /// The headers that make `method path` with `body` come from `caller`.
    fn auth_headers(
        caller: Caller<'_>,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Vec<(&'static str, String)> {
        match caller {
            Caller::Nobody => Vec::new(),
            Caller::Bearer(token) => vec![("Authorization", format!("Bearer {token}"))],
            Caller::Kiosk(kiosk_id) => kiosk_key(kiosk_id)
                .sign_now(kiosk_id, method, path, body)
                .pairs()
                .to_vec(),
        }
    }

    pub fn post_json<'a>(
        &self,
        path: &str,
        caller: impl Into<Caller<'a>>,
        body: &Value,
    ) -> (u16, Value) {
        self.post_raw(path, caller, body.to_string().as_bytes())
    }

    pub fn post_raw<'a>(
        &self,
        path: &str,
        caller: impl Into<Caller<'a>>,
        body: &[u8],
    ) -> (u16, Value) {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        for (name, value) in Self::auth_headers(caller.into(), "POST", path, body) {
            request = request.header(name, value);
        }
        let response = request.send(body).expect("request sent");
        read(response)
    }

    pub fn get<'a>(&self, path: &str, caller: impl Into<Caller<'a>>) -> (u16, Value) {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in Self::auth_headers(caller.into(), "GET", path, b"") {
            request = request.header(name, value);
        }
        read(request.call().expect("request sent"))
    }

    /// The raw text of `GET path`, for checks on exactly what was sent.
    pub fn get_text<'a>(&self, path: &str, caller: impl Into<Caller<'a>>) -> String {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in Self::auth_headers(caller.into(), "GET", path, b"") {
            request = request.header(name, value);
        }
        request
            .call()
            .expect("request sent")
            .body_mut()
            .read_to_string()
            .expect("body")
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

pub fn transaction_payload(transaction_id: &str) -> Value {
    json!({
        "transaction_id": transaction_id,
        "item_code": "GA-LSSFZM",
        "item_name": "临时身份证明",
        "department": "公安局",
        "outcome": "completed",
        "started_at": "2026-11-21T10:00:00+08:00",
        "finished_at": "2026-11-21T10:03:00+08:00",
        "applicant": {
            "card_type": "resident",
            "masked_name": MASKED_NAME,
            "masked_id_number": MASKED_ID_NUMBER
        },
        "form": {"phone": "138****0000"},
        "steps": ["identify", "face_check", "print_document"],
        "catalogue_version": 3
    })
}

pub fn rating_payload(transaction_id: &str, rating: u8) -> Value {
    json!({
        "transaction_id": transaction_id,
        "item_code": "GA-LSSFZM",
        "rating": rating,
        "rated_at": "2026-11-21T10:03:30+08:00"
    })
}

pub fn event(seq: i64, kind: &str, payload: Value) -> Value {
    json!({
        "seq": seq,
        "idempotency_key": Uuid::now_v7(),
        "kind": kind,
        "created_at": "2026-11-21T10:03:00+08:00",
        "payload": payload,
    })
}

/// A transaction event carrying the applicant's personal data.
pub fn transaction_event_with_personal_data(seq: i64, transaction_id: &str) -> Value {
    let mut e = event(seq, "transaction", transaction_payload(transaction_id));
    e["personal"] = json!({"name": FULL_NAME, "id_number": FULL_ID_NUMBER, "address": ADDRESS});
    e
}

pub fn batch(kiosk_id: &str, events: Vec<Value>) -> Value {
    json!({"kiosk_id": kiosk_id, "events": events})
}

pub fn heartbeat(
    kiosk_id: &str,
    seq: u64,
    printer_state: &str,
    printer_detail: Option<&str>,
) -> Value {
    json!({
        "kiosk_id": kiosk_id,
        "seq": seq,
        "sent_at": "2026-11-21T10:00:30+08:00",
        "software_version": "0.1.0",
        "catalogue_version": 3,
        "devices": [
            {"class": "id_card_reader", "state": "online"},
            {"class": "receipt_printer", "state": printer_state, "detail": printer_detail}
        ],
        "items_offered": 9,
        "items_available": 9,
        "unavailable_items": [],
        "outbox_depth": seq,
        "oldest_unsent_age_s": 12,
        "dead_letter_count": 0
    })
}
