//! The admin console over real HTTP, on both engines (issue 7 item 10): sign-in (wrong password
//! and unknown user refused alike, rate limit), roles (a viewer cannot change anything: 403),
//! CSRF token and origin checked on every POST, logout ends the session in the store, an audit
//! row for every change (console and admin API), the pages render, the `user` command line, and
//! the per-address limit on failed enrolments.

mod common;

use common::*;
use kiosk_central::storage::{AuditQuery, Role};
use kiosk_central::users::{self, Actor};
use kiosk_central::{CentralBuilder, CentralThread};
use kiosk_protocol::SigningKeyFile;
use kiosk_protocol::request_signing::{ENROL_PATH, KioskKey};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";
const CATALOGUE: &str = include_str!("../../kiosk-config/catalogue.toml");

/// The service on the fixture's engine, with a catalogue signing key.
fn service(fx: &Fixture) -> CentralThread {
    let signer = SigningKeyFile::generate("central-test").expect("key");
    // The seeding kiosk speaks with the legacy bearer tokens (the console is what is tested).
    let mut config = fx.config();
    config.kiosks[0].token = TOKEN_1.into();
    config.kiosks[1].token = TOKEN_2.into();
    config.accept_bearer_tokens = true;
    let builder = CentralBuilder::new(config).catalogue_signing_key(signer);
    match &fx.postgres_url {
        Some(url) => builder.postgres(url),
        None => builder,
    }
    .spawn_in_thread()
    .expect("central starts")
}

fn add_user(fx: &Fixture, name: &str, role: Role) {
    let store = fx.store();
    users::add_user(store.as_ref(), name, role, PASSWORD, &Actor::cli("test")).expect("user added");
}

/// What a browser keeps: the session cookie. Redirects are not followed.
struct Browser {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
}

struct Answer {
    status: u16,
    location: Option<String>,
    set_cookie: Vec<String>,
    body: String,
}

impl Browser {
    fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Self {
            agent,
            base: base.to_string(),
            cookie: None,
        }
    }

    fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
        let header = |name: &str| {
            response
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect::<Vec<_>>()
        };
        let location = header("location").into_iter().next();
        let set_cookie = header("set-cookie");
        Answer {
            status: response.status().as_u16(),
            location,
            set_cookie,
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    fn get(&self, path: &str) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        Self::read(request.call().expect("request sent"))
    }

    /// POSTs a form with this host as `Origin` (or `origin` when given).
    fn post(&self, path: &str, fields: &[(&str, &str)], origin: Option<&str>) -> Answer {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Origin", origin.unwrap_or(&self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        Self::read(request.send(body.as_bytes()).expect("request sent"))
    }

    fn login(&mut self, name: &str, password: &str) -> Answer {
        let answer = self.post(
            "/console/login",
            &[
                ("username", name),
                ("password", password),
                ("next", "/console/fleet"),
            ],
            None,
        );
        if let Some(cookie) = answer
            .set_cookie
            .iter()
            .find(|c| c.starts_with("kc_session="))
        {
            self.cookie = Some(cookie.split(';').next().unwrap_or("").to_string());
        }
        answer
    }

    /// The CSRF token in a page's forms.
    fn csrf(&self, page: &str) -> String {
        let body = self.get(page).body;
        let marker = "name=\"csrf\" value=\"";
        let start = body
            .find(marker)
            .expect("page has a form with a CSRF token")
            + marker.len();
        body[start..start + 64].to_string()
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Stores and publishes the demo catalogue (version 3) and raises one alarm on kiosk-001.
fn seed(fx: &Fixture, central: &CentralThread) {
    let client = Client::new(central.url());
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/versions",
        Some(ADMIN_TOKEN),
        &json!({"catalogue": CATALOGUE, "note": "demo catalogue"}),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = client.post_json(
        "/api/v1/admin/catalogue/publish",
        Some(ADMIN_TOKEN),
        &json!({"version": 3}),
    );
    assert_eq!(status, 201, "{body}");
    let (status, _) = client.post_json(
        "/api/v1/heartbeat",
        Some(TOKEN_1),
        &heartbeat(KIOSK_1, 1, "online", None),
    );
    assert_eq!(status, 200);
    let fault = event(
        1,
        "fault_opened",
        json!({"device": "receipt_printer", "severity": "major", "message": "paper jam"}),
    );
    let (status, ack) = client.post_json(
        "/api/v1/outbox",
        Some(TOKEN_1),
        &batch(KIOSK_1, vec![fault]),
    );
    assert_eq!((status, ack["stored"].clone()), (200, json!(1)), "{ack}");
    let _ = fx;
}

fn wrong_password_is_refused(engine: Engine) {
    let fx = Fixture::new(engine, "console_login");
    let central = service(&fx);
    add_user(&fx, "ops", Role::Operator);
    let mut browser = Browser::new(&central.url());

    // Not signed in: every page leads to the login form.
    let answer = browser.get("/console/fleet");
    assert_eq!(answer.status, 303);
    assert_eq!(
        answer.location.as_deref(),
        Some("/console/login?next=/console/fleet")
    );

    // Wrong password and unknown user: the same answer, no session.
    let wrong = browser.login("ops", "not the password");
    let unknown = browser.login("nobody", PASSWORD);
    for answer in [&wrong, &unknown] {
        assert_eq!(answer.status, 401);
        assert!(answer.body.contains("用户名或密码错误"), "{}", answer.body);
        assert!(
            answer
                .set_cookie
                .iter()
                .all(|c| !c.starts_with("kc_session="))
        );
    }
    assert!(browser.cookie.is_none());
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM console_sessions"), 0);

    // The right password: a session cookie the page script cannot read, kept to this site.
    let answer = browser.login("ops", PASSWORD);
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/console/fleet"));
    let cookie = answer
        .set_cookie
        .iter()
        .find(|c| c.starts_with("kc_session="))
        .expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // Plain HTTP without a TLS proxy in front: a `Secure` cookie would never come back.
    assert!(!cookie.contains("Secure"), "{cookie}");
    let token = cookie
        .trim_start_matches("kc_session=")
        .split(';')
        .next()
        .unwrap();
    assert_eq!(token.len(), 64);
    assert!(
        !String::from_utf8_lossy(&fx.stored_bytes()).contains(token),
        "only the hash is stored"
    );
    let page = browser.get("/console/fleet");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(KIOSK_1) && page.body.contains("ops"),
        "{}",
        page.body
    );

    // A login from another site is refused before the password is looked at.
    let mut other = Browser::new(&central.url());
    let answer = other.post(
        "/console/login",
        &[("username", "ops"), ("password", PASSWORD)],
        Some("http://evil.example"),
    );
    assert_eq!(answer.status, 403);

    // Five failures for a name: the right password is refused too, for a while.
    for _ in 0..5 {
        assert_eq!(other.login("ops", "still wrong pw").status, 401);
    }
    let answer = other.login("ops", PASSWORD);
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert!(other.cookie.is_none());

    // A disabled user cannot log in, and their open session ends.
    let store = fx.store();
    users::change_user(
        store.as_ref(),
        "ops",
        kiosk_central::storage::UserChange {
            disabled: Some(true),
            ..Default::default()
        },
        &Actor::cli("test"),
    )
    .expect("disabled");
    assert_eq!(browser.get("/console/fleet").status, 303);
    central.shutdown();
}

fn viewer_cannot_change_anything(engine: Engine) {
    let fx = Fixture::new(engine, "console_viewer");
    let central = service(&fx);
    seed(&fx, &central);
    add_user(&fx, "watcher", Role::Viewer);
    let mut browser = Browser::new(&central.url());
    assert_eq!(browser.login("watcher", PASSWORD).status, 303);

    // Reads every page but users.
    for page in [
        "/console/fleet",
        &format!("/console/kiosks/{KIOSK_1}"),
        "/console/alarms",
        "/console/tickets",
        "/console/catalogue",
        "/console/catalogue/versions/3",
        "/console/rollout",
        "/console/availability",
        "/console/stats",
        "/console/audit",
    ] {
        let answer = browser.get(page);
        assert_eq!(answer.status, 200, "{page}: {}", answer.body);
    }
    assert_eq!(browser.get("/console/users").status, 403);
    assert_eq!(browser.get("/console/catalogue/draft").status, 403);
    // No action buttons are offered.
    assert!(!browser.get("/console/alarms").body.contains("/acknowledge"));

    let csrf = browser.csrf("/console/fleet");
    let alarm_id = fx.query_i64("SELECT MIN(id) FROM alarms").to_string();
    for (path, fields) in [
        (format!("/console/alarms/{alarm_id}/acknowledge"), vec![]),
        (format!("/console/alarms/{alarm_id}/escalate"), vec![]),
        (
            "/console/catalogue/publish".to_string(),
            vec![("version", "3")],
        ),
        (
            "/console/catalogue/suspend".to_string(),
            vec![("item_code", "gjj-withdrawal"), ("note", "x")],
        ),
        (
            format!("/console/kiosks/{KIOSK_1}/revoke"),
            vec![("confirm", "yes")],
        ),
        (format!("/console/kiosks/{KIOSK_1}/enrolment-code"), vec![]),
        (
            "/console/users".to_string(),
            vec![
                ("username", "evil"),
                ("role", "admin"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        ),
    ] {
        let mut fields = fields.clone();
        fields.push(("csrf", &csrf));
        let answer = browser.post(&path, &fields, None);
        assert_eq!(answer.status, 403, "{path}: {}", answer.body);
    }
    assert_eq!(
        fx.query_i64("SELECT COUNT(*) FROM alarms WHERE acknowledged_at IS NOT NULL"),
        0
    );
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM tickets"), 0);
    assert_eq!(
        fx.query_i64("SELECT COUNT(*) FROM catalogue_publications"),
        1
    );
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM console_users"), 1);
    assert_eq!(
        fx.query_i64("SELECT COUNT(*) FROM audit_log WHERE source = 'console' AND action NOT LIKE 'session.%'"),
        0
    );
    central.shutdown();
}

fn missing_or_wrong_csrf_token_is_refused(engine: Engine) {
    let fx = Fixture::new(engine, "console_csrf");
    let central = service(&fx);
    seed(&fx, &central);
    add_user(&fx, "ops", Role::Operator);
    let mut browser = Browser::new(&central.url());
    assert_eq!(browser.login("ops", PASSWORD).status, 303);
    let csrf = browser.csrf("/console/alarms");
    let alarm = fx.query_i64("SELECT MIN(id) FROM alarms");
    let path = format!("/console/alarms/{alarm}/acknowledge");

    let wrong = "0".repeat(64);
    for (fields, origin) in [
        (vec![], None),                                               // no token
        (vec![("csrf", wrong.as_str())], None),                       // wrong token
        (vec![("csrf", "")], None),                                   // empty token
        (vec![("csrf", csrf.as_str())], Some("http://evil.example")), // right token, other site
        (vec![("csrf", csrf.as_str())], Some("null")),
    ] {
        let answer = browser.post(&path, &fields, origin);
        assert_eq!(answer.status, 403, "{fields:?} {origin:?}: {}", answer.body);
    }
    // Another session's token does not work either.
    let mut second = Browser::new(&central.url());
    assert_eq!(second.login("ops", PASSWORD).status, 303);
    let other_token = second.csrf("/console/alarms");
    assert_ne!(other_token, csrf);
    assert_eq!(
        browser.post(&path, &[("csrf", &other_token)], None).status,
        403
    );
    assert_eq!(
        fx.query_i64("SELECT COUNT(*) FROM alarms WHERE acknowledged_at IS NOT NULL"),
        0
    );

    // The right token from this site works.
    let answer = browser.post(&path, &[("csrf", &csrf), ("back", "/console/alarms")], None);
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/console/alarms"));
    assert!(answer.set_cookie.iter().any(|c| c.starts_with("kc_flash=")));
    assert_eq!(
        fx.query_i64("SELECT COUNT(*) FROM alarms WHERE acknowledged_at IS NOT NULL"),
        1
    );
    central.shutdown();
}

fn logout_ends_the_session(engine: Engine) {
    let fx = Fixture::new(engine, "console_logout");
    let central = service(&fx);
    add_user(&fx, "ops", Role::Operator);
    let mut browser = Browser::new(&central.url());
    assert_eq!(browser.login("ops", PASSWORD).status, 303);
    assert_eq!(browser.get("/console/fleet").status, 200);
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM console_sessions"), 1);
    let csrf = browser.csrf("/console/fleet");
    // Logging out is a POST with the token too.
    assert_eq!(browser.post("/console/logout", &[], None).status, 403);
    let answer = browser.post("/console/logout", &[("csrf", &csrf)], None);
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location.as_deref(), Some("/console/login"));
    assert!(
        answer
            .set_cookie
            .iter()
            .any(|c| c.starts_with("kc_session=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM console_sessions"), 0);
    // The old cookie (kept by an attacker, say) no longer works.
    let answer = browser.get("/console/fleet");
    assert_eq!(answer.status, 303);
    assert!(answer.location.unwrap().starts_with("/console/login"));
    assert_eq!(
        browser
            .post("/console/logout", &[("csrf", &csrf)], None)
            .status,
        303
    );
    central.shutdown();
}

fn every_change_is_audited(engine: Engine) {
    let fx = Fixture::new(engine, "console_audit");
    let central = service(&fx);
    seed(&fx, &central);
    add_user(&fx, "boss", Role::Admin);
    let mut browser = Browser::new(&central.url());
    assert_eq!(browser.login("boss", PASSWORD).status, 303);
    let csrf = browser.csrf("/console/fleet");
    let alarm = fx.query_i64("SELECT MIN(id) FROM alarms");

    let ok = |answer: Answer, what: &str| {
        assert_eq!(answer.status, 303, "{what}: {}", answer.body);
    };
    ok(
        browser.post(
            &format!("/console/alarms/{alarm}/acknowledge"),
            &[("csrf", &csrf)],
            None,
        ),
        "ack",
    );
    ok(
        browser.post(
            &format!("/console/alarms/{alarm}/escalate"),
            &[("csrf", &csrf)],
            None,
        ),
        "escalate",
    );
    let ticket = fx.query_i64("SELECT MIN(id) FROM tickets");
    ok(
        browser.post(
            &format!("/console/tickets/{ticket}/assign"),
            &[("csrf", &csrf), ("assignee", "李工")],
            None,
        ),
        "assign",
    );
    ok(
        browser.post(
            &format!("/console/tickets/{ticket}/resolve"),
            &[("csrf", &csrf), ("resolution", "换了打印纸")],
            None,
        ),
        "resolve",
    );

    // Edit an item: the form as the page fills it, with one name changed.
    let form = browser.get("/console/catalogue/items/gjj-withdrawal");
    assert_eq!(form.status, 200, "{}", form.body);
    let mut fields = form_fields(&form.body, "item-form");
    set(&mut fields, "name_zh", "住房公积金提取（新）");
    set(&mut fields, "note", "改名");
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ok(
        browser.post("/console/catalogue/items/gjj-withdrawal", &refs, None),
        "save item",
    );
    let stored = fx
        .store()
        .catalogue_version(4)
        .expect("read")
        .expect("version 4 saved");
    assert!(stored.info.signature.is_some(), "signed at save");
    let parsed = kiosk_core::catalogue::Catalogue::parse(&stored.catalogue).expect("valid");
    assert_eq!(
        parsed.item("gjj-withdrawal").unwrap().name.zh,
        "住房公积金提取（新）"
    );

    // A refused edit says why and saves nothing.
    set(&mut fields, "open", "25:99");
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = browser.post("/console/catalogue/items/gjj-withdrawal", &refs, None);
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer.body.contains("gjj-withdrawal"),
        "parser message names the item"
    );
    assert_eq!(fx.store().latest_catalogue_version().unwrap(), Some(4));

    ok(
        browser.post(
            "/console/catalogue/publish",
            &[("csrf", &csrf), ("version", "4"), ("group", "")],
            None,
        ),
        "publish",
    );
    ok(
        browser.post(
            &format!("/console/kiosks/{KIOSK_2}/group"),
            &[("csrf", &csrf), ("group", "pilot")],
            None,
        ),
        "group",
    );
    ok(
        browser.post(
            "/console/catalogue/suspend",
            &[
                ("csrf", &csrf),
                ("item_code", "gjj-withdrawal"),
                ("note", "系统维护"),
            ],
            None,
        ),
        "suspend",
    );
    let answer = browser.post(
        &format!("/console/kiosks/{KIOSK_1}/enrolment-code"),
        &[("csrf", &csrf)],
        None,
    );
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.contains("enrolment-code"),
        "the code is shown once"
    );
    ok(
        browser.post(
            "/console/users",
            &[
                ("csrf", &csrf),
                ("username", "li"),
                ("role", "viewer"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
            None,
        ),
        "add user",
    );
    ok(
        browser.post(
            "/console/users/li",
            &[("csrf", &csrf), ("op", "role"), ("role", "operator")],
            None,
        ),
        "role",
    );
    ok(
        browser.post(
            "/console/users/li",
            &[("csrf", &csrf), ("op", "disable")],
            None,
        ),
        "disable",
    );
    // An admin cannot lock themselves out.
    assert_eq!(
        browser
            .post(
                "/console/users/boss",
                &[("csrf", &csrf), ("op", "disable")],
                None
            )
            .status,
        403
    );

    // And one change over the admin API.
    let client = Client::new(central.url());
    let (status, _) = client.post_json(
        "/api/v1/admin/catalogue/publish",
        Some(ADMIN_TOKEN),
        &json!({"version": 5, "group": "pilot"}),
    );
    assert_eq!(status, 201);

    let log = fx
        .store()
        .audit_log(&AuditQuery {
            limit: 500,
            ..Default::default()
        })
        .expect("audit log");
    let console: Vec<&str> = log
        .iter()
        .rev()
        .filter(|e| e.source == "console" && e.actor == "boss")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        console,
        [
            "session.login",
            "alarm.acknowledge",
            "alarm.escalate",
            "ticket.assign",
            "ticket.resolve",
            "catalogue.save",
            "catalogue.publish",
            "kiosk.group",
            "catalogue.suspend",
            "kiosk.enrolment_code",
            "user.add",
            "user.role",
            "user.disable",
        ]
    );
    let api: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.source == "api")
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(api.first(), Some(&("admin-token", "catalogue.publish")));
    assert!(
        log.iter()
            .any(|e| e.action == "ticket.resolve" && e.detail.as_deref() == Some("换了打印纸"))
    );
    // No secret ever reaches the log.
    for entry in &log {
        let text = format!("{entry:?}");
        assert!(!text.contains(PASSWORD), "{text}");
    }
    // The audit page lists them.
    let page = browser.get("/console/audit?action=catalogue.");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("catalogue.suspend") && !page.body.contains("ticket.assign"));
    central.shutdown();
}

/// `(name, value)` of the inputs, selects (checked/selected ones) and textareas of the form with
/// this id — a small reader for the console's own markup.
fn form_fields(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html.find(&format!("id=\"{form_id}\"")).expect("form");
    let end = start + html[start..].find("</form>").expect("form end");
    let form = &html[start..end];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let at = tag.find(&key)? + key.len();
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        if tag.starts_with("<input") {
            if let Some(name) = attr(tag, "name") {
                let checkbox = tag.contains("type=\"checkbox\"");
                if !checkbox || tag.contains(" checked") {
                    fields.push((name, attr(tag, "value").unwrap_or_default()));
                }
            }
        } else if tag.starts_with("<textarea")
            && let Some(name) = attr(tag, "name")
        {
            let close = rest.find("</textarea>").unwrap_or(tag_end);
            fields.push((name, unescape(&rest[tag_end + 1..close])));
        }
        rest = &rest[tag_end.min(rest.len() - 1) + 1..];
    }
    fields
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

fn user_command_line(engine: Engine) {
    let fx = Fixture::new(engine, "console_cli");
    drop(fx.store()); // creates the schema
    let store_args: Vec<String> = match &fx.postgres_url {
        Some(url) => vec!["--postgres".into(), url.clone()],
        None => vec!["--db".into(), fx.dir.db().display().to_string()],
    };
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk-central"))
            .args(args)
            .args(&store_args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("binary runs");
        // A refused command may exit before reading its input.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().expect("exits");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(
        &["user", "add", "zhang", "--role", "operator"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("zhang") && !out.contains(PASSWORD));
    let file = fx.dir.path().join("pw");
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    let (code, _, err) = run(
        &[
            "user",
            "add",
            "wang",
            "--role",
            "admin",
            "--password-file",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    // Refused: bad role, short password, taken name.
    assert_eq!(
        run(&["user", "add", "li", "--role", "root"], "long enough pw\n").0,
        Some(2)
    );
    assert_eq!(
        run(&["user", "add", "li", "--role", "viewer"], "short\n").0,
        Some(2)
    );
    assert_eq!(
        run(
            &["user", "add", "zhang", "--role", "viewer"],
            "long enough pw\n"
        )
        .0,
        Some(2)
    );
    assert_eq!(run(&["user", "disable", "zhang"], "").0, Some(0));
    let (code, out, _) = run(&["user", "list"], "");
    assert_eq!(code, Some(0));
    assert!(out.contains("wang\tadmin\tactive"), "{out}");
    assert!(out.contains("zhang\toperator\tdisabled"), "{out}");
    assert_eq!(run(&["user", "disable", "nobody"], "").0, Some(2));
    // Only the Argon2id hash is stored.
    let store = fx.store();
    let wang = store.console_user("wang").unwrap().unwrap();
    assert!(wang.password_hash.starts_with("$argon2id$"));
    assert!(
        users::authenticate(store.as_ref(), "wang", PASSWORD)
            .unwrap()
            .is_some()
    );
    assert!(
        users::authenticate(store.as_ref(), "zhang", PASSWORD)
            .unwrap()
            .is_none(),
        "disabled"
    );
    let actions: Vec<String> = store
        .audit_log(&AuditQuery {
            limit: 50,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| format!("{}:{}:{}", e.source, e.action, e.target.unwrap_or_default()))
        .collect();
    assert_eq!(
        actions,
        [
            "cli:user.disable:zhang",
            "cli:user.add:wang",
            "cli:user.add:zhang"
        ]
    );
}

fn failed_enrolments_are_limited_per_address(engine: Engine) {
    let fx = Fixture::new(engine, "console_enrol_limit");
    let central = service(&fx);
    let store = fx.store();
    let code = kiosk_central::identity::issue_code(
        store.as_ref(),
        KIOSK_1,
        std::time::Duration::from_secs(600),
        "test",
        &kiosk_central::clock::ServerTime::now(),
    )
    .expect("code")
    .code;
    let client = Client::new(central.url());
    let key = KioskKey::generate().public_key_hex();
    let attempt = |code: &str| {
        client.post_json(
            ENROL_PATH,
            None,
            &json!({"kiosk_id": KIOSK_1, "code": code, "public_key": key}),
        )
    };
    for _ in 0..10 {
        assert_eq!(attempt("WRONG-CODE-0000").0, 401);
    }
    // Now even the right code waits.
    let (status, body) = attempt(&code);
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].as_str().unwrap().contains("too many"));
    assert!(store.kiosk_keys().unwrap().is_empty());
    central.shutdown();
}

#[test]
fn signing_in_over_the_centres_own_https_gives_a_secure_cookie() {
    let fx = Fixture::new(Engine::Sqlite, "console_https");
    let ca = kiosk_central::tls::LocalCa::issue(fx.dir.path(), "console").expect("certificates");
    let central = CentralBuilder::new(fx.config())
        .tls(ca.centre.clone())
        .spawn_in_thread()
        .expect("central starts on HTTPS");
    assert!(central.url().starts_with("https://"), "{}", central.url());
    add_user(&fx, "ops", Role::Operator);
    let agent = common::cli::agent_trusting(&ca.ca_file);
    let mut browser = Browser {
        agent,
        base: central.url(),
        cookie: None,
    };
    let answer = browser.login("ops", PASSWORD);
    assert_eq!(answer.status, 303, "{}", answer.body);
    let cookie = answer
        .set_cookie
        .iter()
        .find(|c| c.starts_with("kc_session="))
        .expect("session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert_eq!(browser.get("/console/fleet").status, 200);
    central.shutdown();
}

on_both_engines!(
    wrong_password_is_refused,
    viewer_cannot_change_anything,
    missing_or_wrong_csrf_token_is_refused,
    logout_ends_the_session,
    every_change_is_audited,
    user_command_line,
    failed_enrolments_are_limited_per_address,
);
