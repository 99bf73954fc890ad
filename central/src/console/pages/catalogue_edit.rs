//! The catalogue editor: change one item's fields (names, category, hot, keywords, guide texts,
//! hours) or the whole TOML file, check it with the kiosk's own parser, and save it as a new
//! version with a change-log line (signed when the service has a key). Publishing is a separate
//! step on the catalogue page.
//!
//! Both start from a stored version (the latest by default), set `version` to one above the
//! latest stored and `published_at` to now, and go through `catalogue::import` like the admin
//! API and the CLI.

use crate::api::AppState;
use crate::api::query::Params;
use crate::catalogue::{self as actions, CatalogueActionError};
use crate::clock::ServerTime;
use crate::console::auth::{Post, Session, redirect_with_flash};
use crate::console::html::{self, Nav, csrf};
use crate::console::{ConsoleError, blocking};
use crate::storage::{CatalogueVersion, Role};
use crate::users;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kiosk_core::catalogue::{Catalogue, Item};
use maud::{Markup, html};
use toml_edit::{DocumentMut, InlineTable, Item as TomlItem, Value, value};

/// The guide fields, with their labels.
const GUIDE: &[(&str, &str)] = &[
    ("conditions", "申请条件 Conditions"),
    ("materials", "所需材料 Materials"),
    ("fee", "收费标准 Fee"),
    ("time_limit", "办理时限 Time limit"),
    ("legal_basis", "设定依据 Legal basis"),
    ("result_delivery", "结果送达 Result delivery"),
];

/// The stored version to start from (`from`, or the latest) and the next version number.
async fn base(
    state: &AppState,
    from: Option<&str>,
) -> Result<(CatalogueVersion, u32), ConsoleError> {
    let from = match from {
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            ConsoleError::bad_request("from 须为版本号 — from must be a version number")
        })?),
        None => None,
    };
    blocking(state, move |store| {
        let latest = store
            .latest_catalogue_version()?
            .ok_or_else(|| ConsoleError::not_found("还没有目录版本 — no catalogue stored yet"))?;
        let stored = store
            .catalogue_version(from.unwrap_or(latest))?
            .ok_or_else(|| ConsoleError::not_found("没有这个版本 — no such version"))?;
        Ok::<_, ConsoleError>((stored, latest.saturating_add(1)))
    })
    .await?
}

fn parse_doc(text: &str) -> Result<DocumentMut, ConsoleError> {
    text.parse::<DocumentMut>()
        .map_err(|e| ConsoleError::bad_request(format!("目录文件不是有效的 TOML — {e}")))
}

/// Sets `version` and `published_at` for a new version.
fn bump(doc: &mut DocumentMut, version: u32, now: &ServerTime) {
    doc["version"] = value(i64::from(version));
    doc["published_at"] = value(now.rfc3339.clone());
}

fn localized(zh: &str, en: &str) -> Value {
    let mut table = InlineTable::new();
    table.insert("zh", zh.into());
    if !en.is_empty() {
        table.insert("en", en.into());
    }
    Value::InlineTable(table)
}

/// One form field, trimmed (`""` when absent).
fn field<'a>(form: &'a Params, name: &str) -> &'a str {
    form.raw(name).map_or("", str::trim)
}

/// The catalogue text with the item's fields replaced from the form.
fn apply_item_form(
    text: &str,
    code: &str,
    form: &Params,
    version: u32,
    now: &ServerTime,
) -> Result<String, ConsoleError> {
    let mut doc = parse_doc(text)?;
    bump(&mut doc, version, now);
    let item = doc
        .get_mut("items")
        .and_then(TomlItem::as_array_of_tables_mut)
        .and_then(|items| {
            items
                .iter_mut()
                .find(|t| t.get("code").and_then(TomlItem::as_str) == Some(code))
        })
        .ok_or_else(|| ConsoleError::not_found(format!("没有事项 {code} — no such item")))?;
    item["name"] = TomlItem::Value(localized(field(form, "name_zh"), field(form, "name_en")));
    item["category"] = TomlItem::Value(localized(
        field(form, "category_zh"),
        field(form, "category_en"),
    ));
    item["hot"] = value(form.raw("hot") == Some("yes"));
    let keywords: toml_edit::Array = field(form, "keywords")
        .split([',', '，', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    item["keywords"] = value(keywords);
    let guide = item
        .entry("guide")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .ok_or_else(|| ConsoleError::bad_request("guide 不是表 — guide is not a table"))?;
    for (name, _) in GUIDE {
        let zh = field(form, &format!("{name}_zh"));
        let en = field(form, &format!("{name}_en"));
        guide.insert(name, TomlItem::Value(localized(zh, en)));
    }
    let hours = item
        .entry("hours")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .ok_or_else(|| ConsoleError::bad_request("hours 不是表 — hours is not a table"))?;
    hours.insert("open", value(field(form, "open")));
    hours.insert("close", value(field(form, "close")));
    let note_zh = field(form, "hours_note_zh");
    if note_zh.is_empty() {
        hours.remove("note");
    } else {
        hours.insert(
            "note",
            TomlItem::Value(localized(note_zh, field(form, "hours_note_en"))),
        );
    }
    Ok(doc.to_string())
}

/// What the item form shows: the stored item, or what was just sent.
struct ItemFields {
    values: Vec<(String, String)>,
    hot: bool,
}

impl ItemFields {
    fn of(item: &Item) -> Self {
        let mut values = vec![
            ("name_zh".into(), item.name.zh.clone()),
            ("name_en".into(), item.name.en.clone()),
            ("category_zh".into(), item.category.zh.clone()),
            ("category_en".into(), item.category.en.clone()),
            ("keywords".into(), item.keywords.join(", ")),
            ("open".into(), item.hours.open.clone()),
            ("close".into(), item.hours.close.clone()),
            (
                "hours_note_zh".into(),
                item.hours
                    .note
                    .as_ref()
                    .map(|n| n.zh.clone())
                    .unwrap_or_default(),
            ),
            (
                "hours_note_en".into(),
                item.hours
                    .note
                    .as_ref()
                    .map(|n| n.en.clone())
                    .unwrap_or_default(),
            ),
        ];
        let g = &item.guide;
        for (name, text) in [
            ("conditions", &g.conditions),
            ("materials", &g.materials),
            ("fee", &g.fee),
            ("time_limit", &g.time_limit),
            ("legal_basis", &g.legal_basis),
            ("result_delivery", &g.result_delivery),
        ] {
            values.push((format!("{name}_zh"), text.zh.clone()));
            values.push((format!("{name}_en"), text.en.clone()));
        }
        Self {
            values,
            hot: item.hot,
        }
    }

    fn from_form(form: &Params) -> Self {
        let names = [
            "name_zh",
            "name_en",
            "category_zh",
            "category_en",
            "keywords",
            "open",
            "close",
            "hours_note_zh",
            "hours_note_en",
        ];
        let mut values: Vec<(String, String)> = names
            .iter()
            .map(|n| (n.to_string(), field(form, n).to_string()))
            .collect();
        for (name, _) in GUIDE {
            for lang in ["zh", "en"] {
                let key = format!("{name}_{lang}");
                values.push((key.clone(), field(form, &key).to_string()));
            }
        }
        Self {
            values,
            hot: form.raw("hot") == Some("yes"),
        }
    }

    fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

#[allow(clippy::too_many_arguments)]
fn item_form_page(
    session: &Session,
    code: &str,
    from: u32,
    next: u32,
    fields: &ItemFields,
    note: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let text_input = |name: &str, label: &str, required: bool| -> Markup {
        html! { label { (label) input type="text" name=(name) value=(fields.get(name)) required[required]; } }
    };
    let body = html! {
        p { a href="/console/catalogue" { "← 事项目录 Catalogue" } }
        p.hint { "以版本 " (from) " 为底稿；保存后成为版本 " strong { (next) } "（尚未发布，需在目录页发布）。 Based on version " (from) "; saving makes version " (next) ", which still has to be published." }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form.panel #item-form method="post" action=(format!("/console/catalogue/items/{code}")) {
            (csrf(session))
            input type="hidden" name="from" value=(from);
            fieldset { legend { "名称与分类 Name and category" }
                div.grid2 {
                    (text_input("name_zh", "名称（中文）Name zh", true))
                    (text_input("name_en", "名称（英文）Name en", false))
                    (text_input("category_zh", "分类（中文）Category zh", true))
                    (text_input("category_en", "分类（英文）Category en", false))
                }
                label.check { input type="checkbox" name="hot" value="yes" checked[fields.hot]; "首页热门 Hot item on the home screen" }
                label { "搜索关键词（逗号分隔）Keywords, comma-separated" textarea name="keywords" { (fields.get("keywords")) } }
            }
            fieldset { legend { "办事指南 Guide" }
                @for (name, label) in GUIDE {
                    div.grid2 {
                        label { (label) " · 中文" textarea name=(format!("{name}_zh")) required { (fields.get(&format!("{name}_zh"))) } }
                        label { (label) " · English" textarea name=(format!("{name}_en")) { (fields.get(&format!("{name}_en"))) } }
                    }
                }
            }
            fieldset { legend { "办理时间 Hours" }
                div.row {
                    (text_input("open", "开始 Open (HH:MM)", true))
                    (text_input("close", "结束 Close (HH:MM, 24:00)", true))
                }
                div.grid2 {
                    (text_input("hours_note_zh", "说明（中文）Note zh", false))
                    (text_input("hours_note_en", "说明（英文）Note en", false))
                }
            }
            label { "变更说明（必填，记入变更记录）Change-log line (required)"
                input type="text" name="note" value=(note) required maxlength="2000";
            }
            button.primary type="submit" { "保存为版本 " (next) " Save as version " (next) }
        }
    };
    let mut response = html::page(session, Nav::Catalogue, &format!("编辑事项 {code}"), body);
    *response.status_mut() = status;
    response
}

/// `GET /console/catalogue/items/{code}?from=N`
pub(crate) async fn item_form(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    session.require(Role::Operator)?;
    let (stored, next) = base(&state, Params::of(&uri).get("from")).await?;
    let catalogue = Catalogue::parse(&stored.catalogue)
        .map_err(|e| ConsoleError::bad_request(format!("底稿版本无法解析 — {e}")))?;
    let item = catalogue.item(&code).ok_or_else(|| {
        ConsoleError::not_found(format!(
            "版本 {} 中没有事项 {code} — no such item",
            stored.info.version
        ))
    })?;
    Ok(item_form_page(
        &session,
        &code,
        stored.info.version,
        next,
        &ItemFields::of(item),
        "",
        None,
        StatusCode::OK,
    ))
}

/// Imports a new version as the console user; the audit entry names the change.
async fn import(
    state: &AppState,
    session: &Session,
    text: String,
    note: String,
    what: String,
) -> Result<Result<u32, String>, ConsoleError> {
    let signer = state.catalogue_signer.clone();
    let actor = session.actor();
    blocking(state, move |store| {
        match actions::import(
            store,
            &text,
            &note,
            &actor.name,
            signer.as_deref(),
            &ServerTime::now(),
        ) {
            Ok(info) => {
                users::record(
                    store,
                    &actor,
                    "catalogue.save",
                    Some(format!("version {}", info.version)),
                    Some(format!("{what}: {note}")),
                )?;
                Ok(Ok(info.version))
            }
            Err(
                error @ (CatalogueActionError::Invalid(_)
                | CatalogueActionError::BadInput(_)
                | CatalogueActionError::Refused(_)),
            ) => Ok(Err(error.to_string())),
            Err(other) => Err(ConsoleError::from(other)),
        }
    })
    .await?
}

fn saved(version: u32) -> Response {
    redirect_with_flash(
        "/console/catalogue",
        &format!(
            "已保存为版本 {version}。请在下方「版本」表中发布。 Saved as version {version}; publish it below."
        ),
    )
}

/// `POST /console/catalogue/items/{code}`: the item form; a refused catalogue shows the form
/// again with the parser's message.
pub(crate) async fn save_item(
    State(state): State<AppState>,
    Path(code): Path<String>,
    post: Post,
) -> Result<Response, ConsoleError> {
    let Post { session, form } = post;
    session.require(Role::Operator)?;
    let (stored, next) = base(&state, form.get("from")).await?;
    let note = field(&form, "note").to_string();
    let fields = ItemFields::from_form(&form);
    let refuse = |message: String| {
        item_form_page(
            &session,
            &code,
            stored.info.version,
            next,
            &fields,
            &note,
            Some(&message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let text = match apply_item_form(&stored.catalogue, &code, &form, next, &ServerTime::now()) {
        Ok(text) => text,
        Err(ConsoleError::Page { message, .. }) => return Ok(refuse(message)),
        Err(other) => return Err(other),
    };
    match import(&state, &session, text, note.clone(), format!("item {code}")).await? {
        Ok(version) => Ok(saved(version)),
        Err(message) => Ok(refuse(format!("未保存 — not saved: {message}"))),
    }
}

fn draft_page(
    session: &Session,
    from: u32,
    next: u32,
    text: &str,
    note: &str,
    message: Option<(bool, &str)>,
    status: StatusCode,
) -> Response {
    let body = html! {
        p { a href="/console/catalogue" { "← 事项目录 Catalogue" } }
        p.hint { "以版本 " (from) " 为底稿，version 已设为 " strong { (next) } "、published_at 为现在。格式见 core/README.md。 Based on version " (from) "; checked with the kiosk's own parser." }
        @match message {
            Some((true, m)) => p.flash role="status" { (m) },
            Some((false, m)) => p.error role="alert" { (m) },
            None => {},
        }
        form.panel #draft-form method="post" action="/console/catalogue/draft" {
            (csrf(session))
            input type="hidden" name="from" value=(from);
            textarea.code name="catalogue" spellcheck="false" required { (text) }
            label { "变更说明（保存时必填）Change-log line (required to save)"
                input type="text" name="note" value=(note) maxlength="2000";
            }
            div.row {
                button type="submit" name="action" value="validate" { "检查 Validate" }
                button.primary type="submit" name="action" value="save" { "保存为新版本 Save as a new version" }
            }
        }
    };
    let mut response = html::page(
        session,
        Nav::Catalogue,
        "编辑目录文件 Edit the catalogue file",
        body,
    );
    *response.status_mut() = status;
    response
}

/// `GET /console/catalogue/draft?from=N`
pub(crate) async fn draft_form(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    session.require(Role::Operator)?;
    let (stored, next) = base(&state, Params::of(&uri).get("from")).await?;
    let mut doc = parse_doc(&stored.catalogue)?;
    bump(&mut doc, next, &ServerTime::now());
    Ok(draft_page(
        &session,
        stored.info.version,
        next,
        &doc.to_string(),
        "",
        None,
        StatusCode::OK,
    ))
}

/// `POST /console/catalogue/draft`: `action=validate` checks only; `action=save` imports.
pub(crate) async fn save_draft(
    State(state): State<AppState>,
    post: Post,
) -> Result<Response, ConsoleError> {
    let Post { session, form } = post;
    session.require(Role::Operator)?;
    let from: u32 = form.get("from").and_then(|f| f.parse().ok()).unwrap_or(0);
    let next = blocking(&state, |store| store.latest_catalogue_version())
        .await??
        .map_or(1, |v| v.saturating_add(1));
    // Browsers send textarea line ends as CRLF.
    let text = form.raw("catalogue").unwrap_or("").replace("\r\n", "\n");
    let note = field(&form, "note").to_string();
    let parsed = actions::parse_catalogue(&text);
    if form.get("action") != Some("save") {
        return Ok(match parsed {
            Ok(c) => draft_page(
                &session,
                from,
                next,
                &text,
                &note,
                Some((
                    true,
                    &format!(
                        "检查通过：版本 {}，{} 个事项。 Valid: version {}, {} items.",
                        c.version,
                        c.items.len(),
                        c.version,
                        c.items.len()
                    ),
                )),
                StatusCode::OK,
            ),
            Err(e) => draft_page(
                &session,
                from,
                next,
                &text,
                &note,
                Some((false, &e.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        });
    }
    if let Err(e) = parsed {
        return Ok(draft_page(
            &session,
            from,
            next,
            &text,
            &note,
            Some((false, &format!("未保存 — not saved: {e}"))),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    match import(
        &state,
        &session,
        text.clone(),
        note.clone(),
        "catalogue file".into(),
    )
    .await?
    {
        Ok(version) => Ok(saved(version)),
        Err(message) => Ok(draft_page(
            &session,
            from,
            next,
            &text,
            &note,
            Some((false, &format!("未保存 — not saved: {message}"))),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .into_response()),
    }
}
