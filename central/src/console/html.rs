//! The page frame (header, navigation, flash message, footer), the login and error pages, and
//! small bits of markup the pages share. Markup is `maud`: every value is escaped.

use super::auth::{Session, clear_flash};
use crate::storage::Role;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const STYLESHEET: &str = include_str!("console.css");
/// Times are shown in China Standard Time.
const DISPLAY_OFFSET_HOURS: i8 = 8;

/// `GET /console/static/console.css`
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Which navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Fleet,
    Alarms,
    Tickets,
    Catalogue,
    Rollout,
    Availability,
    Stats,
    Users,
    Audit,
}

const NAV: &[(Nav, &str, &str, &str, Role)] = &[
    (
        Nav::Fleet,
        "/console/fleet",
        "终端总览",
        "Fleet",
        Role::Viewer,
    ),
    (
        Nav::Alarms,
        "/console/alarms",
        "告警",
        "Alarms",
        Role::Viewer,
    ),
    (
        Nav::Tickets,
        "/console/tickets",
        "工单",
        "Tickets",
        Role::Viewer,
    ),
    (
        Nav::Catalogue,
        "/console/catalogue",
        "事项目录",
        "Catalogue",
        Role::Viewer,
    ),
    (
        Nav::Rollout,
        "/console/rollout",
        "发布进度",
        "Rollout",
        Role::Viewer,
    ),
    (
        Nav::Availability,
        "/console/availability",
        "可办率",
        "Availability",
        Role::Viewer,
    ),
    (
        Nav::Stats,
        "/console/stats",
        "统计",
        "Statistics",
        Role::Viewer,
    ),
    (Nav::Users, "/console/users", "用户", "Users", Role::Admin),
    (
        Nav::Audit,
        "/console/audit",
        "审计日志",
        "Audit log",
        Role::Viewer,
    ),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · e政务终端中心控制台" }
            link rel="stylesheet" href="/console/static/console.css";
        }
    }
}

/// Headers every console page gets: no caching, no framing, no inline script.
fn harden(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; \
             frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A full page for a signed-in user.
pub(crate) fn page(session: &Session, nav: Nav, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body {
                header.top {
                    a.brand href="/console/fleet" {
                        span.logo { "e政务" }
                        span { "终端中心控制台" }
                        span.en { "Central console" }
                    }
                    div.who {
                        span.user { (session.user.username) }
                        span.role { (session.user.role.label()) " · " (session.user.role.as_str()) }
                        form.inline method="post" action="/console/logout" {
                            (csrf(session))
                            button.link type="submit" { "退出 Log out" }
                        }
                    }
                }
                nav.main {
                    @for (key, href, zh, en, role) in NAV {
                        @if session.can(*role) {
                            a href=(href) class=@if *key == nav { "active" } {
                                (zh) span.en { (en) }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(flash) = &session.flash {
                        p.flash role="status" { (flash) }
                    }
                    (body)
                }
                footer {
                    "时间为北京时间 (UTC+8) · Times are China Standard Time · kiosk-central "
                    (env!("CARGO_PKG_VERSION"))
                }
            }
        }
    };
    let mut response = axum::response::Html(markup.into_string()).into_response();
    harden(&mut response);
    if session.flash.is_some() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear_flash());
    }
    response
}

/// The login form; `error` when the last attempt failed.
pub(crate) fn login_page(next: &str, username: &str, error: Option<&str>) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head("登录 Sign in"))
            body.login {
                main.login {
                    div.brand-block {
                        span.logo { "e政务" }
                        h1 { "终端中心控制台" }
                        p.en { "Self-service kiosk fleet · central console" }
                    }
                    @if let Some(error) = error {
                        p.error role="alert" { (error) }
                    }
                    form method="post" action="/console/login" {
                        input type="hidden" name="next" value=(next);
                        label { "用户名 User name"
                            input type="text" name="username" value=(username) autocomplete="username" required autofocus;
                        }
                        label { "密码 Password"
                            input type="password" name="password" autocomplete="current-password" required;
                        }
                        button.primary type="submit" { "登录 Sign in" }
                    }
                }
            }
        }
    };
    let mut response = axum::response::Html(markup.into_string()).into_response();
    harden(&mut response);
    response
}

/// An error page (the status and the message).
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head("出错了 Error"))
            body {
                main.narrow {
                    h1 { "出错了 · " (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                    p.error { (message) }
                    p { a href="/console/fleet" { "返回总览 Back to the fleet overview" } }
                }
            }
        }
    };
    let mut response = axum::response::Html(markup.into_string()).into_response();
    harden(&mut response);
    response
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// `2026-11-21 18:00:30` in China Standard Time; the text as given when it does not parse.
pub(crate) fn time(text: Option<&str>) -> Markup {
    let Some(text) = text else {
        return html! { span.muted { "—" } };
    };
    let shown = parse_time(text)
        .and_then(|t| {
            let offset = time::UtcOffset::from_hms(DISPLAY_OFFSET_HOURS, 0, 0).ok()?;
            let layout =
                time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
            t.to_offset(offset).format(&layout).ok()
        })
        .unwrap_or_else(|| text.to_string());
    html! { time datetime=(text) title=(text) { (shown) } }
}

/// "3 分钟前" (how long ago), from the server clock.
pub(crate) fn ago(text: Option<&str>) -> String {
    let Some(at) = text.and_then(parse_time) else {
        return String::new();
    };
    let seconds = (OffsetDateTime::now_utc() - at).whole_seconds().max(0);
    match seconds {
        0..=9 => "刚刚 just now".into(),
        10..=59 => format!("{seconds} 秒前"),
        60..=3599 => format!("{} 分钟前", seconds / 60),
        3600..=86_399 => format!("{} 小时前", seconds / 3600),
        _ => format!("{} 天前", seconds / 86_400),
    }
}

/// A share as `93.5%`; `—` when unknown.
pub(crate) fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A bar for a share (0–1) with its number.
pub(crate) fn meter(value: Option<f64>) -> Markup {
    let width = value.map_or(0.0, |v| (v.clamp(0.0, 1.0) * 100.0).round());
    let class = match value {
        None => "meter none",
        Some(v) if v >= 0.9 => "meter good",
        Some(v) if v >= 0.7 => "meter fair",
        Some(_) => "meter poor",
    };
    html! {
        span class=(class) {
            span.bar { span.fill style=(format!("width:{width}%")) {} }
            span.num { (percent(value)) }
        }
    }
}

/// A kiosk's status as a coloured badge.
pub(crate) fn kiosk_status(status: &str) -> Markup {
    let (class, label) = match status {
        "online" => ("badge ok", "在线 online"),
        "offline" => ("badge bad", "离线 offline"),
        "never_seen" => ("badge muted", "从未上线 never seen"),
        other => ("badge", other),
    };
    html! { span class=(class) { (label) } }
}

/// An alarm severity badge.
pub(crate) fn severity(severity: &str) -> Markup {
    let (class, label) = match severity {
        "critical" => ("badge bad", "严重 critical"),
        "major" => ("badge warn", "重要 major"),
        "minor" => ("badge note", "次要 minor"),
        "warning" => ("badge muted", "提示 warning"),
        other => ("badge", other),
    };
    html! { span class=(class) { (label) } }
}

/// A catalogue rollout status badge.
pub(crate) fn rollout_status(status: &str) -> Markup {
    let (class, label) = match status {
        "up_to_date" => ("badge ok", "已更新 up to date"),
        "pending" => ("badge warn", "待更新 pending"),
        "never_seen" => ("badge muted", "从未上线 never seen"),
        "no_target" => ("badge muted", "未发布 no target"),
        other => ("badge", other),
    };
    html! { span class=(class) data-status=(status) { (label) } }
}

/// A device state badge (`online`, `offline`, `no_device`, `hardware_error`, `user_error`, `busy`,
/// `starting`).
pub(crate) fn device_state(state: &str) -> Markup {
    let class = match state {
        "online" => "badge ok",
        "busy" | "starting" => "badge note",
        "user_error" => "badge warn",
        "offline" | "no_device" | "hardware_error" => "badge bad",
        _ => "badge muted",
    };
    html! { span class=(class) { (state) } }
}

/// A summary figure.
pub(crate) fn card(label: &str, value: Markup, class: &str) -> Markup {
    html! {
        div class=(format!("card {class}")) {
            div.value { (value) }
            div.label { (label) }
        }
    }
}

/// A paragraph saying there is nothing to show.
pub(crate) fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}
