//! `/console/users` (admin): add users, change roles, disable and enable, set passwords.

use crate::api::AppState;
use crate::console::auth::{Post, Session, redirect_with_flash};
use crate::console::html::{self, Nav, csrf, time};
use crate::console::{ConsoleError, blocking};
use crate::storage::{Role, UserChange};
use crate::users;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;

const ROLES: &[Role] = &[Role::Viewer, Role::Operator, Role::Admin];

/// `GET /console/users`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ConsoleError> {
    session.require(Role::Admin)?;
    let list = blocking(&state, |store| store.console_users()).await??;
    let body = html! {
        form.panel #add-user method="post" action="/console/users" {
            (csrf(&session))
            h3 { "新增用户 Add a user" }
            div.row {
                label { "用户名 User name" input type="text" name="username" required maxlength="32" pattern="[a-z][a-z0-9._-]*" placeholder="ops.zhang"; }
                label { "角色 Role"
                    select name="role" { @for r in ROLES { option value=(r.as_str()) selected[*r == Role::Viewer] { (r.label()) " " (r.as_str()) } } }
                }
                label { "初始密码 Password（≥ " (users::MIN_PASSWORD_CHARS) " 字符）" input type="password" name="password" required minlength=(users::MIN_PASSWORD_CHARS) autocomplete="new-password"; }
                label { "再输一次 Again" input type="password" name="password2" required autocomplete="new-password"; }
                label { " " button.primary type="submit" { "新增 Add" } }
            }
            p.hint { "只读：查看所有页面；运维：另可处理告警与工单、编辑/签名/发布目录、下架事项；管理员：另可管理用户与终端注册。 viewer reads; operator also works alarms, tickets and the catalogue; admin also manages users and kiosk enrolment." }
        }
        div.table-wrap { table #users {
            thead { tr { th { "用户 User" } th { "角色 Role" } th { "状态 State" } th { "创建 Created" } th { "操作 Actions" } } }
            tbody { @for u in &list {
                @let me = u.username == session.user.username;
                tr data-user=(u.username) {
                    td { strong { (u.username) } @if me { " " span.badge.note { "我 you" } } }
                    td { (u.role.label()) " " span.muted { (u.role.as_str()) } }
                    td { @if u.is_disabled() { span.badge.bad { "已停用 disabled" } } @else { span.badge.ok { "启用 active" } } }
                    td { (u.created_by) br; (time(Some(&u.created_at))) }
                    td.actions { @if !me {
                        form.inline method="post" action=(format!("/console/users/{}", u.username)) {
                            (csrf(&session)) input type="hidden" name="op" value="role";
                            select name="role" aria-label="role" { @for r in ROLES { option value=(r.as_str()) selected[*r == u.role] { (r.label()) } } }
                            " " button.small type="submit" { "改角色 Set role" }
                        }
                        " "
                        form.inline method="post" action=(format!("/console/users/{}", u.username)) {
                            (csrf(&session))
                            @if u.is_disabled() {
                                input type="hidden" name="op" value="enable";
                                button.small type="submit" { "启用 Enable" }
                            } @else {
                                input type="hidden" name="op" value="disable";
                                button.small.danger type="submit" { "停用 Disable" }
                            }
                        }
                    }
                    form method="post" action=(format!("/console/users/{}", u.username)) {
                        (csrf(&session)) input type="hidden" name="op" value="password";
                        div.row {
                            input type="password" name="password" placeholder="新密码 new password" required minlength=(users::MIN_PASSWORD_CHARS) autocomplete="new-password";
                            button.small type="submit" { "设密码 Set password" }
                        }
                    } }
                }
            } }
        } }
        p.hint { "停用用户、修改角色或密码会立即结束其所有会话。 Disabling a user or changing their role or password ends their sessions at once." }
    };
    Ok(html::page(&session, Nav::Users, "用户 Users", body))
}

/// `POST /console/users` (admin): `username`, `role`, `password`, `password2`.
pub(crate) async fn add(
    State(state): State<AppState>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Admin)?;
    let username = post
        .form
        .get("username")
        .unwrap_or("")
        .trim()
        .to_lowercase();
    let role = users::parse_role(post.form.get("role").unwrap_or(""))?;
    let password = post.form.raw("password").unwrap_or("").to_string();
    if post.form.raw("password2") != Some(password.as_str()) {
        return Err(ConsoleError::bad_request(
            "两次输入的密码不一致 — the passwords differ",
        ));
    }
    let (name, actor) = (username.clone(), post.session.actor());
    blocking(&state, move |store| {
        users::add_user(store, &name, role, &password, &actor)
    })
    .await??;
    Ok(redirect_with_flash(
        "/console/users",
        &format!("已新增用户 {username}（{}）— user added", role.label()),
    ))
}

/// `POST /console/users/{name}` (admin): `op` = `role` (with `role`), `disable`, `enable`,
/// `password` (with `password`). An admin cannot change their own role or disable themselves.
pub(crate) async fn change(
    State(state): State<AppState>,
    Path(name): Path<String>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Admin)?;
    let op = post.form.get("op").unwrap_or("");
    let own = name == post.session.user.username;
    let actor = post.session.actor();
    let target = name.clone();
    let message = match op {
        "role" | "disable" | "enable" if own => {
            return Err(ConsoleError::forbidden(
                "不能修改自己的角色或停用自己 — you cannot change your own role or disable yourself",
            ));
        }
        "role" => {
            let role = users::parse_role(post.form.get("role").unwrap_or(""))?;
            let change = UserChange {
                role: Some(role),
                ..UserChange::default()
            };
            blocking(&state, move |store| {
                users::change_user(store, &target, change, &actor)
            })
            .await??;
            format!("{name} 的角色已改为 {} — role set", role.label())
        }
        "disable" | "enable" => {
            let disable = op == "disable";
            let change = UserChange {
                disabled: Some(disable),
                ..UserChange::default()
            };
            blocking(&state, move |store| {
                users::change_user(store, &target, change, &actor)
            })
            .await??;
            if disable {
                format!("{name} 已停用 — disabled")
            } else {
                format!("{name} 已启用 — enabled")
            }
        }
        "password" => {
            let password = post.form.raw("password").unwrap_or("").to_string();
            blocking(&state, move |store| {
                users::set_password(store, &target, &password, &actor)
            })
            .await??;
            format!("{name} 的密码已更新 — password set")
        }
        _ => {
            return Err(ConsoleError::bad_request(
                "op: role, disable, enable, password",
            ));
        }
    };
    Ok(redirect_with_flash("/console/users", &message))
}
