//! Sign-in and the checks every console request passes.
//!
//! * **Session**: a random 256-bit token in the `kc_session` cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Path=/console`, `Secure` when the centre serves HTTPS itself or
//!   behind a TLS proxy that says `X-Forwarded-Proto: https`); the store keeps only its SHA-256. A session ends after 8 hours,
//!   after an hour unused, at logout, and when the user is disabled or their role or password
//!   changes.
//! * **CSRF**: every form carries the session's CSRF token (a SHA-256 of the session token
//!   under a fixed label: the store cannot derive it) and every POST is checked against it; the
//!   `Origin` (or `Referer`) must also name this host.
//! * **Login**: a failure says only "wrong user name or password"; failures are limited per
//!   user name and per address (`crate::ratelimit`).

use super::html;
use super::{ConsoleError, blocking, percent_encode, store_failed};
use crate::api::AppState;
use crate::api::query::{Params, decode};
use crate::clock::ServerTime;
use crate::storage::{ConsoleUser, Role};
use crate::users::{self, Actor};
use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kiosk_protocol::request_signing::sha256_hex;
use std::net::SocketAddr;

const SESSION_COOKIE: &str = "kc_session";
const FLASH_COOKIE: &str = "kc_flash";
/// A session ends this long after login.
const SESSION_TTL_MS: i64 = 8 * 3600 * 1000;
/// … or after this long unused.
pub(crate) const SESSION_IDLE_MS: i64 = 3600 * 1000;

/// A signed-in console user.
pub(crate) struct Session {
    pub user: ConsoleUser,
    token_hash: String,
    /// The token every form of this session carries.
    pub csrf: String,
    /// A one-time message from the previous action (shown once).
    pub flash: Option<String>,
}

impl Session {
    /// Refuses (403) a user whose role is below `role`.
    pub fn require(&self, role: Role) -> Result<(), ConsoleError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(ConsoleError::forbidden(format!(
                "需要「{}」或更高权限 — this needs the {} role; you are {}",
                role.label(),
                role.as_str(),
                self.user.role.as_str()
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::console(&self.user.username)
    }

    pub fn can(&self, role: Role) -> bool {
        self.user.role >= role
    }
}

fn csrf_of(token: &str) -> String {
    sha256_hex(format!("kiosk-central console csrf\0{token}").as_bytes())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = if is_https(headers) { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The header that clears the flash cookie (added to a page that showed it).
pub(crate) fn clear_flash() -> HeaderValue {
    HeaderValue::from_static("kc_flash=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// A 303 to `location` carrying a one-time message for the next page.
pub(crate) fn redirect_with_flash(location: &str, message: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=120",
        percent_encode(message)
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn next_of(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or("/console/fleet", |pq| pq.as_str())
        .to_string()
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let login = || ConsoleError::Login {
            next: if parts.method == axum::http::Method::GET {
                next_of(parts)
            } else {
                "/console/fleet".into()
            },
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_string)
        else {
            return Err(login());
        };
        let token_hash = sha256_hex(token.as_bytes());
        let lookup = token_hash.clone();
        let user = blocking(state, move |store| {
            store.console_session_user(&lookup, ServerTime::now().unix_ms, SESSION_IDLE_MS)
        })
        .await?
        .map_err(|e| store_failed("read console session", &e))?;
        let Some(user) = user else {
            return Err(login());
        };
        Ok(Session {
            user,
            token_hash,
            csrf: csrf_of(&token),
            flash: cookie(&parts.headers, FLASH_COOKIE)
                .map(decode)
                .filter(|m| !m.is_empty())
                .map(|m| m.chars().take(300).collect()),
        })
    }
}

/// Whether `Origin` (or, without it, `Referer`) names the host the request was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(source) = source else {
        return false;
    };
    let Some(rest) = source
        .strip_prefix("http://")
        .or_else(|| source.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.eq_ignore_ascii_case(host)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A form POST from a signed-in user: session found, origin and CSRF token checked.
pub(crate) struct Post {
    pub session: Session,
    pub form: Params,
}

fn forged() -> ConsoleError {
    ConsoleError::forbidden(
        "表单已失效或来源不明，请刷新页面后重试 — the form's security token is missing or wrong, \
         or it came from another site; reload the page and try again",
    )
}

fn read_form(body: &Bytes) -> Result<Params, ConsoleError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ConsoleError::bad_request("表单不是 UTF-8 — the form is not UTF-8"))?;
    Ok(Params::parse(text))
}

impl FromRequest<AppState> for Post {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ConsoleError> {
        let (mut parts, body) = request.into_parts();
        // The body is read before any refusal, so the connection stays usable for the client.
        let body = axum::body::to_bytes(body, crate::api::MAX_BODY_BYTES)
            .await
            .map_err(|_| ConsoleError::bad_request("表单无法读取 — the form could not be read"))?;
        let session = Session::from_request_parts(&mut parts, state).await?;
        if !same_origin(&parts.headers) {
            tracing::warn!(path = %parts.uri.path(), user = %session.user.username, "console POST from another origin refused");
            return Err(forged());
        }
        let form = read_form(&body)?;
        let sent = form.raw("csrf").unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
            tracing::warn!(user = %session.user.username, "console POST with a wrong CSRF token refused");
            return Err(forged());
        }
        Ok(Post { session, form })
    }
}

/// Only a path inside the console is a place to go back to after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/console/")
                && !n.starts_with("/console/login")
                && !n.contains("//")
                && !n.contains('\\') =>
        {
            n.to_string()
        }
        _ => "/console/fleet".into(),
    }
}

fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

/// `GET /console/login`
pub(crate) async fn login_page(
    State(state): State<AppState>,
    mut parts: Parts,
) -> Result<Response, ConsoleError> {
    let next = safe_next(Params::of(&parts.uri).get("next"));
    if Session::from_request_parts(&mut parts, &state)
        .await
        .is_ok()
    {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(html::login_page(&next, "", None).into_response())
}

/// `POST /console/login`: user name and password.
pub(crate) async fn login(
    State(state): State<AppState>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    if !same_origin(&parts.headers) {
        return Err(forged());
    }
    let form = read_form(&body)?;
    let next = safe_next(form.get("next"));
    let username = form.raw("username").unwrap_or("").trim().to_lowercase();
    let password = form.raw("password").unwrap_or("").to_string();
    let address = client_address(&parts);
    let limits = &state.limits;
    if let Err(wait) = limits
        .login_per_user
        .check(&username)
        .and_then(|()| limits.login_per_address.check(&address))
    {
        tracing::warn!(%address, "console login refused: too many failed attempts");
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "登录失败次数过多，请 {minutes} 分钟后再试 — too many failed attempts; try again in {minutes} min"
        );
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            html::login_page(&next, &username, Some(&message)),
        )
            .into_response());
    }
    let name = username.clone();
    let user = blocking(&state, move |store| {
        users::authenticate(store, &name, &password)
    })
    .await?
    .map_err(|e| store_failed("console login", &e))?;
    let Some(user) = user else {
        limits.login_per_user.hit(&username);
        limits.login_per_address.hit(&address);
        tracing::warn!(%address, "console login failed");
        return Ok((
            StatusCode::UNAUTHORIZED,
            html::login_page(
                &next,
                &username,
                Some("用户名或密码错误 — wrong user name or password"),
            ),
        )
            .into_response());
    };
    limits.login_per_user.reset(&username);
    let mut token = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut token);
    let token = hex::encode(token);
    let token_hash = sha256_hex(token.as_bytes());
    let name = user.username.clone();
    blocking(&state, move |store| {
        let now = ServerTime::now();
        store.create_console_session(&token_hash, &name, &now, now.unix_ms + SESSION_TTL_MS)?;
        users::record(
            store,
            &Actor::console(&name),
            "session.login",
            None,
            Some(format!("from {address}")),
        )
    })
    .await?
    .map_err(|e| store_failed("start console session", &e))?;
    tracing::info!(user = %user.username, role = user.role.as_str(), "console login");
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &parts.headers,
            SESSION_COOKIE,
            &token,
            SESSION_TTL_MS / 1000,
        ),
    );
    Ok(response)
}

/// `POST /console/logout`: ends the session in the store, clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    post: Post,
) -> Result<Response, ConsoleError> {
    let Post { session, .. } = post;
    let (hash, actor) = (session.token_hash.clone(), session.actor());
    blocking(&state, move |store| {
        store.delete_console_session(&hash)?;
        users::record(store, &actor, "session.logout", None, None)
    })
    .await?
    .map_err(|e| store_failed("end console session", &e))?;
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "kc_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn origin_must_name_this_host() {
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "central.example"),
            ("referer", "https://central.example/console/fleet")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080")])));
    }

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(
            safe_next(Some("/console/alarms?status=all")),
            "/console/alarms?status=all"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/console/fleet");
        assert_eq!(safe_next(Some("/console//evil.example")), "/console/fleet");
        assert_eq!(safe_next(None), "/console/fleet");
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = headers(&[("cookie", "a=1; kc_session=abc; kc_flash=x%20y")]);
        assert_eq!(cookie(&h, "kc_session"), Some("abc"));
        assert_eq!(cookie(&h, "kc_flash").map(decode).as_deref(), Some("x y"));
        assert_eq!(cookie(&h, "b"), None);
    }
}
