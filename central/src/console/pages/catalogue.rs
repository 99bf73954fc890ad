//! `/console/catalogue`: the current catalogue's items (edit, suspend everywhere), the change
//! log of versions (view, export, sign, publish to all or to a group) and the publications.

use crate::api::AppState;
use crate::catalogue as actions;
use crate::clock::ServerTime;
use crate::console::auth::{Post, Session, redirect_with_flash};
use crate::console::html::{self, Nav, csrf, time};
use crate::console::pages::or_dash;
use crate::console::{ConsoleError, blocking};
use crate::storage::Role;
use crate::users;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kiosk_core::catalogue::Catalogue;
use maud::html;

fn parse_version(text: &str) -> Result<u32, ConsoleError> {
    text.parse()
        .map_err(|_| ConsoleError::bad_request("版本号须为整数 — version must be a whole number"))
}

/// `GET /console/catalogue`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ConsoleError> {
    let (versions, publications, groups, current) = blocking(&state, |store| {
        let versions = store.catalogue_versions()?;
        let publications = store.catalogue_publications()?;
        let groups = store.kiosk_groups()?;
        let current_number = publications
            .iter()
            .map(|p| p.version)
            .max()
            .or_else(|| versions.first().map(|v| v.version));
        let current = match current_number {
            Some(v) => store.catalogue_version(v)?,
            None => None,
        };
        Ok::<_, ConsoleError>((versions, publications, groups, current))
    })
    .await??;
    let mut group_names: Vec<String> = groups.into_iter().map(|(_, g)| g).collect();
    group_names.sort();
    group_names.dedup();
    let parsed = current
        .as_ref()
        .and_then(|c| Catalogue::parse(&c.catalogue).ok());
    let published = |v: u32| {
        publications
            .iter()
            .filter(|p| p.version == v)
            .collect::<Vec<_>>()
    };
    let operator = session.can(Role::Operator);
    let signer = state
        .catalogue_signer
        .as_ref()
        .map(|s| s.key_id().to_string());
    let latest = versions.first().map(|v| v.version);
    let body = html! {
        div.cards {
            (html::card("最新版本 Latest stored", html!{ (or_dash(latest)) }, ""))
            (html::card("当前版本 Current (published)", html!{ (or_dash(current.as_ref().map(|c| c.info.version))) }, ""))
            (html::card("事项数 Items", html!{ (or_dash(parsed.as_ref().map(|c| c.items.len()))) }, ""))
            (html::card("签名密钥 Signing key", html!{ span.text { (signer.as_deref().unwrap_or("未配置 none")) } }, if signer.is_some() { "ok" } else { "warn" }))
        }
        @if signer.is_none() {
            p.error { "服务未配置目录签名密钥（--catalogue-key）：新版本不会自动签名，下架功能不可用。 No signing key: new versions stay unsigned and items cannot be suspended." }
        }
        @if operator {
            p { a href="/console/catalogue/draft" { "✎ 编辑目录文件 (TOML) Edit the catalogue file" } }
        }
        h2 { "当前目录事项 Items of version " (or_dash(current.as_ref().map(|c| c.info.version))) }
        @match &parsed {
            None => (html::empty("还没有目录版本；导入一个目录文件开始。 No catalogue yet: import one (CLI `catalogue import` or the TOML editor).")),
            Some(catalogue) => div.table-wrap { table #items {
                thead { tr { th { "编码 Code" } th { "名称 Name" } th { "部门 Department" } th { "分类 Category" } th.num { "步骤 Steps" } th { "热门 Hot" } @if operator { th { "操作 Actions" } } } }
                tbody { @for item in &catalogue.items { tr data-item=(item.code) {
                    td { code { (item.code) } }
                    td { (item.name.zh) br; span.muted { (item.name.en) } }
                    td { (item.department_name.zh) }
                    td { (item.category.zh) }
                    td.num { (item.steps.len()) }
                    td { @if item.hot { span.badge.note { "热门" } } }
                    @if operator { td.actions {
                        a href=(format!("/console/catalogue/items/{}", item.code)) { "编辑 Edit" }
                    } }
                } } }
            } },
        }
        @if let (Some(catalogue), true, true) = (&parsed, operator, signer.is_some()) {
            form.panel #suspend-form method="post" action="/console/catalogue/suspend" {
                (csrf(&session))
                h3 { "全部下架一个事项 Suspend an item everywhere" }
                p.hint { "以当前版本为底稿生成去掉该事项的新版本，签名并发布到全部终端（一步完成）。恢复事项：导入含该事项的新版本。 Makes, signs and publishes to every kiosk a new version without the item." }
                div.row {
                    label { "事项 Item"
                        select name="item_code" required {
                            @for item in &catalogue.items { option value=(item.code) { (item.name.zh) " (" (item.code) ")" } }
                        }
                    }
                    label { "原因（记入变更记录）Reason" input type="text" name="note" required maxlength="2000" placeholder="系统维护"; }
                    label { " " button.danger type="submit" { "全部下架 Suspend everywhere" } }
                }
            }
        }
        h2 { "版本与变更记录 Versions and change log" }
        @if versions.is_empty() {
            (html::empty("没有版本。 No versions."))
        } @else {
            div.table-wrap { table #versions {
                thead { tr { th { "版本" } th { "发布日期 Published at" } th.num { "事项" } th { "变更说明 Change log" } th { "创建 Created" } th { "签名 Signed" } th { "已发布到 Published to" } @if operator { th { "操作 Actions" } } } }
                tbody { @for v in &versions { tr data-version=(v.version) {
                    td { a href=(format!("/console/catalogue/versions/{}", v.version)) { strong { (v.version) } } }
                    td { (v.published_at) }
                    td.num { (v.item_count) }
                    td { (v.note) }
                    td { (v.created_by) br; (time(Some(&v.created_at))) }
                    td { @if let Some(key) = &v.key_id { span.badge.ok { "✓ " (key) } } @else { span.badge.warn { "未签名 unsigned" } } }
                    td { @for p in published(v.version) { span.badge.note { (p.target_group.as_deref().unwrap_or("全部 all")) } " " } }
                    @if operator { td.actions {
                        @if v.key_id.is_none() && signer.is_some() {
                            form.inline method="post" action=(format!("/console/catalogue/versions/{}/sign", v.version)) {
                                (csrf(&session)) button.small type="submit" { "签名 Sign" }
                            }
                        }
                        @if v.key_id.is_some() {
                            form.inline method="post" action="/console/catalogue/publish" {
                                (csrf(&session))
                                input type="hidden" name="version" value=(v.version);
                                select name="group" aria-label="发布范围 target" {
                                    option value="" { "全部终端 all kiosks" }
                                    @for g in &group_names { option value=(g) { "分组 " (g) } }
                                }
                                " "
                                button.small.primary type="submit" { "发布 Publish" }
                            }
                        }
                    } }
                } } }
            } }
        }
        h2 { "发布记录 Publications" }
        @if publications.is_empty() {
            (html::empty("尚未发布。 Nothing published yet."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "#" } th { "版本" } th { "范围 Target" } th { "发布人 By" } th { "时间 At" } } }
                tbody { @for p in &publications { tr {
                    td { (p.id) } td { (p.version) } td { (p.target_group.as_deref().unwrap_or("全部终端 all")) }
                    td { (p.published_by) } td { (time(Some(&p.published_at))) }
                } } }
            } }
            p { a href="/console/rollout" { "查看发布进度 See the rollout →" } }
        }
    };
    Ok(html::page(
        &session,
        Nav::Catalogue,
        "事项目录 Catalogue",
        body,
    ))
}

/// `GET /console/catalogue/versions/{v}`
pub(crate) async fn version_page(
    State(state): State<AppState>,
    session: Session,
    Path(version): Path<String>,
) -> Result<Response, ConsoleError> {
    let version = parse_version(&version)?;
    let stored = blocking(&state, move |store| store.catalogue_version(version))
        .await??
        .ok_or_else(|| ConsoleError::not_found("没有这个版本 — no such version"))?;
    let info = &stored.info;
    let body = html! {
        p { a href="/console/catalogue" { "← 事项目录 Catalogue" } }
        div.panel { dl.facts {
            dt { "发布日期 Published at" } dd { (info.published_at) }
            dt { "事项 Items" } dd { (info.item_count) }
            dt { "变更说明 Change log" } dd { (info.note) }
            dt { "创建 Created" } dd { (info.created_by) " · " (time(Some(&info.created_at))) }
            dt { "签名 Signature" } dd { (info.key_id.as_deref().unwrap_or("未签名 unsigned")) }
        } }
        p {
            a href=(format!("/console/catalogue/versions/{version}/catalogue.toml")) { "⬇ 导出 Export catalogue.toml" }
            @if session.can(Role::Operator) { " · " a href=(format!("/console/catalogue/draft?from={version}")) { "✎ 以此为底稿编辑 Edit from this version" } }
        }
        pre.toml { (stored.catalogue) }
    };
    Ok(html::page(
        &session,
        Nav::Catalogue,
        &format!("目录版本 {version}"),
        body,
    ))
}

/// `GET /console/catalogue/versions/{v}/catalogue.toml`
pub(crate) async fn export(
    State(state): State<AppState>,
    _session: Session,
    Path(version): Path<String>,
) -> Result<Response, ConsoleError> {
    let version = parse_version(&version)?;
    let stored = blocking(&state, move |store| store.catalogue_version(version))
        .await??
        .ok_or_else(|| ConsoleError::not_found("没有这个版本 — no such version"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"catalogue-v{version}.toml\""),
            ),
        ],
        stored.catalogue,
    )
        .into_response())
}

/// `POST /console/catalogue/versions/{v}/sign` (operator)
pub(crate) async fn sign(
    State(state): State<AppState>,
    Path(version): Path<String>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    let version = parse_version(&version)?;
    let signer = state
        .catalogue_signer
        .clone()
        .ok_or(actions::CatalogueActionError::NoSigningKey)?;
    let actor = post.session.actor();
    blocking(&state, move |store| {
        let info = actions::sign(store, version, &signer, &ServerTime::now())?;
        users::record(
            store,
            &actor,
            "catalogue.sign",
            Some(format!("version {version}")),
            info.key_id.map(|k| format!("key {k}")),
        )?;
        Ok::<_, ConsoleError>(())
    })
    .await??;
    Ok(redirect_with_flash(
        "/console/catalogue",
        &format!("版本 {version} 已签名 — signed"),
    ))
}

/// `POST /console/catalogue/publish` (operator): `version`, `group` (empty: every kiosk).
pub(crate) async fn publish(
    State(state): State<AppState>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    let version = parse_version(post.form.get("version").unwrap_or(""))?;
    let group = post
        .form
        .get("group")
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty());
    let actor = post.session.actor();
    let target = group.clone();
    let publication = blocking(&state, move |store| {
        let publication = actions::publish(
            store,
            version,
            target.as_deref(),
            &actor.name,
            &ServerTime::now(),
        )?;
        users::record(
            store,
            &actor,
            "catalogue.publish",
            Some(format!("version {version}")),
            Some(format!("to {}", target.as_deref().unwrap_or("all kiosks"))),
        )?;
        Ok::<_, ConsoleError>(publication)
    })
    .await??;
    tracing::info!(version, group = publication.target_group.as_deref().unwrap_or("(all)"), user = %post.session.user.username, "catalogue published from the console");
    Ok(redirect_with_flash(
        "/console/rollout",
        &format!(
            "版本 {version} 已发布到{} — published; kiosks pick it up at their next heartbeat",
            group.map_or("全部终端".to_string(), |g| format!("分组 {g}"))
        ),
    ))
}

/// `POST /console/catalogue/suspend` (operator): `item_code`, `note`.
pub(crate) async fn suspend(
    State(state): State<AppState>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    let item_code = post.form.get("item_code").unwrap_or("").trim().to_string();
    let note = post.form.get("note").unwrap_or("").trim().to_string();
    let signer = state.catalogue_signer.clone();
    let actor = post.session.actor();
    let code = item_code.clone();
    let suspension = blocking(&state, move |store| {
        let s = actions::suspend_item(
            store,
            &code,
            &note,
            &actor.name,
            signer.as_deref(),
            &ServerTime::now(),
        )?;
        users::record(
            store,
            &actor,
            "catalogue.suspend",
            Some(format!("item {code}")),
            Some(format!(
                "version {} published to all: {note}",
                s.version.version
            )),
        )?;
        Ok::<_, ConsoleError>(s)
    })
    .await??;
    Ok(redirect_with_flash(
        "/console/rollout",
        &format!(
            "事项 {item_code} 已在全部终端下架（版本 {}）— suspended everywhere",
            suspension.version.version
        ),
    ))
}
