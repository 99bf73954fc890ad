//! Catalogue TOML → checked [`Catalogue`]. Every error names the item code and the field.

use super::model::DocumentLayout;
use super::model::{
    CardStep, CardType, Channels, ConsentStep, DeliveryStep, Department, DocumentStep,
    FaceCheckStep, FieldType, FormStep, Guide, Hours, Item, NoticeStep, ReceiptStep, Step,
    StepKind, parse_hhmm,
};
use super::templates::{DocumentTemplate, ReceiptQr, ReceiptQrPurpose, RowSource, is_web_address};
use super::{CATALOGUE_FORMAT, Catalogue, CatalogueError};
use crate::text::LocalizedText;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use toml::Value;

/// The top level, items still raw so each can be checked on its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[allow(dead_code)]
    format: i64,
    version: u32,
    published_at: String,
    departments: Vec<Department>,
    #[serde(default)]
    progress_url: Option<String>,
    #[serde(default)]
    document_templates: Vec<DocumentTemplate>,
    #[serde(default)]
    items: Vec<Value>,
}

/// One item with its steps still raw.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    // Read before deserialising (to name the item in errors); declared so it is a known key.
    #[allow(dead_code)]
    code: String,
    name: LocalizedText,
    department: String,
    category: LocalizedText,
    #[serde(default)]
    hot: bool,
    #[serde(default)]
    keywords: Vec<String>,
    guide: Guide,
    #[serde(default)]
    channels: Channels,
    #[serde(default)]
    hours: Hours,
    #[serde(default)]
    needs_central_online: bool,
    #[serde(default = "default_cards")]
    allowed_cards: Vec<CardType>,
    steps: Vec<Value>,
}

fn default_cards() -> Vec<CardType> {
    vec![CardType::Resident]
}

/// A step kind that takes no keys besides `kind`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

pub(super) fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
    let root: Value =
        toml::from_str(text).map_err(|e| CatalogueError::Syntax(e.to_string().trim().into()))?;
    check_format(&root)?;
    let raw: RawCatalogue = root
        .try_into()
        .map_err(|e: toml::de::Error| catalogue_error(crate::toml_error::describe(&e, "")))?;
    if raw.published_at.trim().is_empty() {
        return Err(CatalogueError::Catalogue {
            field: "published_at".into(),
            problem: "must not be empty".into(),
        });
    }
    check_departments(&raw.departments)?;
    if let Some(url) = &raw.progress_url
        && !is_web_address(url)
    {
        return Err(CatalogueError::Catalogue {
            field: "progress_url".into(),
            problem: format!("{url:?} is not an https:// address"),
        });
    }
    check_templates(&raw.document_templates, &raw.departments)?;

    let mut items = Vec::with_capacity(raw.items.len());
    let mut codes = HashSet::new();
    for (index, value) in raw.items.into_iter().enumerate() {
        let item = parse_item(index, value, &raw.departments)?;
        if !codes.insert(item.code.clone()) {
            return Err(item_error(
                &item.code,
                "code",
                "duplicate item code (another item already uses it)",
            ));
        }
        items.push(item);
    }
    for item in &mut items {
        resolve_printouts(
            item,
            raw.progress_url.as_deref(),
            &raw.document_templates,
            &raw.departments,
        )?;
    }
    Ok(Catalogue {
        version: raw.version,
        published_at: raw.published_at,
        departments: raw.departments,
        items,
        progress_url: raw.progress_url,
        document_templates: raw.document_templates,
    })
}

fn check_templates(
    templates: &[DocumentTemplate],
    departments: &[Department],
) -> Result<(), CatalogueError> {
    let mut seen = HashSet::new();
    for (i, t) in templates.iter().enumerate() {
        let at = format!("document_templates[{i}]");
        let problem = |field: &str, problem: String| CatalogueError::Catalogue {
            field: format!("{at}.{field}"),
            problem,
        };
        if !is_code(&t.id) {
            return Err(problem("id", format!("{:?} is not an id", t.id)));
        }
        if !seen.insert(t.id.as_str()) {
            return Err(problem("id", format!("duplicate template id `{}`", t.id)));
        }
        if t.title.zh.trim().is_empty() {
            return Err(problem("title.zh", "missing Chinese title".into()));
        }
        if !departments.iter().any(|d| d.code == t.issuer) {
            return Err(problem(
                "issuer",
                format!("unknown department `{}`", t.issuer),
            ));
        }
        if !is_web_address(&t.verify_url) {
            return Err(problem(
                "verify_url",
                format!("{:?} is not an https:// address", t.verify_url),
            ));
        }
        if t.rows.is_empty() {
            return Err(problem("rows", "must list at least one row".into()));
        }
        for (r, row) in t.rows.iter().enumerate() {
            match RowSource::parse(&row.source) {
                None => {
                    return Err(problem(
                        &format!("rows[{r}].source"),
                        format!(
                            "unknown source `{}` (sources: {})",
                            row.source,
                            RowSource::NOTATIONS
                        ),
                    ));
                }
                Some(RowSource::ValidUntil) if t.validity_days.is_none() => {
                    return Err(problem(
                        &format!("rows[{r}].source"),
                        "`valid_until` needs `validity_days`".into(),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Gives every receipt step its QR code and every document step its resolved template.
fn resolve_printouts(
    item: &mut Item,
    progress_url: Option<&str>,
    templates: &[DocumentTemplate],
    departments: &[Department],
) -> Result<(), CatalogueError> {
    let field_keys: HashSet<String> = item
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Form(f) => Some(f.fields.iter().map(|f| f.key.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    let code = item.code.clone();
    for (i, step) in item.steps.iter_mut().enumerate() {
        match step {
            Step::PrintReceipt(receipt) => match &receipt.qr {
                Some(qr) if !is_web_address(&qr.url) => {
                    return Err(item_error(
                        &code,
                        &format!("steps[{i}].qr.url"),
                        &format!("{:?} is not an https:// address", qr.url),
                    ));
                }
                Some(_) => {}
                None => {
                    receipt.qr = progress_url.map(|url| ReceiptQr {
                        purpose: ReceiptQrPurpose::Progress,
                        url: url.to_string(),
                        caption: None,
                    });
                }
            },
            Step::PrintDocument(doc) => {
                let Some(template) = templates.iter().find(|t| t.id == doc.template) else {
                    let known: Vec<&str> = templates.iter().map(|t| t.id.as_str()).collect();
                    return Err(item_error(
                        &code,
                        &format!("steps[{i}].template"),
                        &format!(
                            "unknown document template `{}` (templates: {})",
                            doc.template,
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                };
                let mut rows = Vec::with_capacity(template.rows.len());
                for (r, row) in template.rows.iter().enumerate() {
                    // Checked in `check_templates`.
                    let Some(source) = RowSource::parse(&row.source) else {
                        continue;
                    };
                    if let RowSource::Field(key) = &source
                        && !field_keys.contains(key)
                    {
                        return Err(item_error(
                            &code,
                            &format!("steps[{i}].template"),
                            &format!(
                                "template `{}` row {r} shows form field `{key}`, which this item does not ask for",
                                template.id
                            ),
                        ));
                    }
                    rows.push((row.label.clone(), source));
                }
                let issuer_name = departments
                    .iter()
                    .find(|d| d.code == template.issuer)
                    .map(|d| d.name.clone())
                    .unwrap_or_default();
                doc.layout = Some(Box::new(DocumentLayout {
                    template: template.clone(),
                    issuer_name,
                    rows,
                }));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_format(root: &Value) -> Result<(), CatalogueError> {
    match root.get("format") {
        Some(Value::Integer(n)) if *n == i64::from(CATALOGUE_FORMAT) => Ok(()),
        Some(Value::Integer(n)) => Err(CatalogueError::UnsupportedFormat { found: *n }),
        Some(_) => Err(CatalogueError::Catalogue {
            field: "format".into(),
            problem: format!("must be the integer {CATALOGUE_FORMAT}"),
        }),
        None => Err(CatalogueError::Catalogue {
            field: "format".into(),
            problem: format!("missing required key (write `format = {CATALOGUE_FORMAT}`)"),
        }),
    }
}

fn check_departments(departments: &[Department]) -> Result<(), CatalogueError> {
    let mut seen = HashSet::new();
    for (i, d) in departments.iter().enumerate() {
        if !is_code(&d.code) {
            return Err(CatalogueError::Catalogue {
                field: format!("departments[{i}].code"),
                problem: format!(
                    "{:?} is not a code (lower-case letters, digits, '_', '-')",
                    d.code
                ),
            });
        }
        if !seen.insert(d.code.as_str()) {
            return Err(CatalogueError::Catalogue {
                field: format!("departments[{i}].code"),
                problem: format!("duplicate department code `{}`", d.code),
            });
        }
        if d.name.zh.trim().is_empty() {
            return Err(CatalogueError::Catalogue {
                field: format!("departments[{i}].name.zh"),
                problem: "missing Chinese name".into(),
            });
        }
    }
    Ok(())
}

fn parse_item(
    index: usize,
    value: Value,
    departments: &[Department],
) -> Result<Item, CatalogueError> {
    let code = match value.get("code") {
        Some(Value::String(code)) if is_code(code) => code.clone(),
        Some(Value::String(code)) => {
            return Err(item_error(
                &format!("#{}", index + 1),
                "code",
                &format!("{code:?} is not a code (lower-case letters, digits, '_', '-')"),
            ));
        }
        _ => {
            return Err(item_error(
                &format!("#{}", index + 1),
                "code",
                "missing required key",
            ));
        }
    };
    // Checked before serde so the message says what a person would look for.
    let zh = value.get("name").and_then(|n| n.get("zh"));
    match zh {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        _ => return Err(item_error(&code, "name.zh", "missing Chinese name")),
    }

    let raw: RawItem = value.try_into().map_err(|e: toml::de::Error| {
        let message = crate::toml_error::describe(&e, "");
        let (field, problem) = message
            .split_once(": ")
            .map(|(f, p)| (f.to_string(), p.to_string()))
            .unwrap_or_else(|| ("(item)".to_string(), message.clone()));
        item_error(&code, &field, &problem)
    })?;

    let department = departments
        .iter()
        .find(|d| d.code == raw.department)
        .ok_or_else(|| {
            let known: Vec<&str> = departments.iter().map(|d| d.code.as_str()).collect();
            item_error(
                &code,
                "department",
                &format!(
                    "unknown department `{}` (departments: {})",
                    raw.department,
                    known.join(", ")
                ),
            )
        })?;

    check_channels(&code, &raw.channels)?;
    check_hours(&code, &raw.hours)?;
    if raw.allowed_cards.is_empty() {
        return Err(item_error(
            &code,
            "allowed_cards",
            "must list at least one card type",
        ));
    }
    if raw.category.zh.trim().is_empty() {
        return Err(item_error(&code, "category.zh", "missing Chinese name"));
    }

    let mut steps = Vec::with_capacity(raw.steps.len());
    for (i, step) in raw.steps.into_iter().enumerate() {
        steps.push(parse_step(&code, i, step)?);
    }
    check_step_order(&code, &steps)?;
    check_form_fields(&code, &steps)?;

    Ok(Item {
        code,
        name: raw.name,
        department: raw.department,
        department_name: department.name.clone(),
        category: raw.category,
        hot: raw.hot,
        keywords: raw
            .keywords
            .iter()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty())
            .collect(),
        guide: raw.guide,
        channels: raw.channels,
        hours: raw.hours,
        needs_central_online: raw.needs_central_online,
        allowed_cards: raw.allowed_cards,
        steps,
    })
}

fn parse_step(code: &str, index: usize, value: Value) -> Result<Step, CatalogueError> {
    let at = format!("steps[{index}]");
    let Value::Table(mut table) = value else {
        return Err(item_error(code, &at, "must be a table with a `kind`"));
    };
    let kind_name = match table.remove("kind") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(item_error(code, &format!("{at}.kind"), "must be a string")),
        None => {
            return Err(item_error(
                code,
                &format!("{at}.kind"),
                "missing required key",
            ));
        }
    };
    let Some(kind) = StepKind::from_name(&kind_name) else {
        let valid: Vec<&str> = StepKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(item_error(
            code,
            &format!("{at}.kind"),
            &format!(
                "unknown step kind `{kind_name}` (valid kinds: {})",
                valid.join(", ")
            ),
        ));
    };
    if kind == StepKind::Form {
        precheck_field_types(code, &at, &table)?;
    }
    let body = Value::Table(table);
    let step = match kind {
        StepKind::Identify => no_fields(code, &at, body).map(|_| Step::Identify)?,
        StepKind::FaceCheck => {
            let face = body_of::<FaceCheckStep>(code, &at, body)?;
            if face.alternatives.is_empty() {
                return Err(item_error(
                    code,
                    &format!("{at}.alternatives"),
                    "must offer at least one alternative (\"staff\" or \"remote\"): declining the camera must not be a dead end",
                ));
            }
            Step::FaceCheck(face)
        }
        StepKind::Submit => no_fields(code, &at, body).map(|_| Step::Submit)?,
        StepKind::Rate => no_fields(code, &at, body).map(|_| Step::Rate)?,
        StepKind::Consent => Step::Consent(body_of::<ConsentStep>(code, &at, body)?),
        StepKind::Form => Step::Form(body_of::<FormStep>(code, &at, body)?),
        StepKind::Notice => Step::Notice(body_of::<NoticeStep>(code, &at, body)?),
        StepKind::PrintReceipt => Step::PrintReceipt(body_of::<ReceiptStep>(code, &at, body)?),
        StepKind::PrintDocument => {
            let doc = body_of::<DocumentStep>(code, &at, body)?;
            // `layout` is filled in once the templates are known (`resolve_printouts`).
            if doc.template.trim().is_empty() {
                return Err(item_error(
                    code,
                    &format!("{at}.template"),
                    "must not be empty",
                ));
            }
            Step::PrintDocument(doc)
        }
        StepKind::Card => Step::Card(body_of::<CardStep>(code, &at, body)?),
        StepKind::Delivery => {
            let delivery = body_of::<DeliveryStep>(code, &at, body)?;
            if delivery.options.is_empty() {
                return Err(item_error(
                    code,
                    &format!("{at}.options"),
                    "must list at least one option (on_site, mail)",
                ));
            }
            Step::Delivery(delivery)
        }
    };
    Ok(step)
}

fn no_fields(code: &str, at: &str, body: Value) -> Result<NoFields, CatalogueError> {
    body_of::<NoFields>(code, at, body)
}

fn body_of<T: DeserializeOwned>(code: &str, at: &str, body: Value) -> Result<T, CatalogueError> {
    body.try_into().map_err(|e: toml::de::Error| {
        let message = crate::toml_error::describe(&e, at);
        match message.split_once(": ") {
            Some((field, problem)) => item_error(code, field, problem),
            None => item_error(code, at, &message),
        }
    })
}

/// Names the offending field when a form field has a type outside the vocabulary.
fn precheck_field_types(
    code: &str,
    at: &str,
    table: &toml::map::Map<String, Value>,
) -> Result<(), CatalogueError> {
    let Some(Value::Array(fields)) = table.get("fields") else {
        return Ok(());
    };
    for (i, field) in fields.iter().enumerate() {
        let key = field.get("key").and_then(Value::as_str).unwrap_or("?");
        match field.get("type") {
            Some(Value::String(t)) if FieldType::NAMES.contains(&t.as_str()) => {}
            Some(Value::String(t)) => {
                return Err(item_error(
                    code,
                    &format!("{at}.fields[{i}].type"),
                    &format!(
                        "field `{key}` has unknown type `{t}` (valid types: {})",
                        FieldType::NAMES.join(", ")
                    ),
                ));
            }
            Some(_) => {
                return Err(item_error(
                    code,
                    &format!("{at}.fields[{i}].type"),
                    "must be a string",
                ));
            }
            None => {
                return Err(item_error(
                    code,
                    &format!("{at}.fields[{i}].type"),
                    &format!(
                        "field `{key}` has no type (valid types: {})",
                        FieldType::NAMES.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The order the flow engine relies on: one `submit`; what gathers data comes before it, what
/// produces results comes after it; `rate` last.
fn check_step_order(code: &str, steps: &[Step]) -> Result<(), CatalogueError> {
    if steps.is_empty() {
        return Err(item_error(code, "steps", "an item needs at least one step"));
    }
    let kinds: Vec<StepKind> = steps.iter().map(Step::kind).collect();
    let submits: Vec<usize> = positions(&kinds, StepKind::Submit);
    let [submit_at] = submits.as_slice() else {
        return Err(item_error(
            code,
            "steps",
            &format!("needs exactly one `submit` step, found {}", submits.len()),
        ));
    };
    for (i, kind) in kinds.iter().enumerate() {
        let before_submit = matches!(
            kind,
            StepKind::Identify
                | StepKind::Consent
                | StepKind::FaceCheck
                | StepKind::Form
                | StepKind::Delivery
        );
        let after_submit = matches!(
            kind,
            StepKind::PrintReceipt | StepKind::PrintDocument | StepKind::Card | StepKind::Rate
        );
        if before_submit && i > *submit_at {
            return Err(item_error(
                code,
                &format!("steps[{i}].kind"),
                &format!("`{kind}` must come before `submit`"),
            ));
        }
        if after_submit && i < *submit_at {
            return Err(item_error(
                code,
                &format!("steps[{i}].kind"),
                &format!("`{kind}` must come after `submit`"),
            ));
        }
    }
    for once in [StepKind::Identify, StepKind::Rate] {
        if positions(&kinds, once).len() > 1 {
            return Err(item_error(
                code,
                "steps",
                &format!("`{once}` may appear only once"),
            ));
        }
    }
    if let Some(rate_at) = kinds.iter().position(|k| *k == StepKind::Rate)
        && rate_at != kinds.len() - 1
    {
        return Err(item_error(
            code,
            &format!("steps[{rate_at}].kind"),
            "`rate` must be the last step",
        ));
    }
    let identify_at = kinds.iter().position(|k| *k == StepKind::Identify);
    if let Some(at) = kinds.iter().position(|k| *k == StepKind::FaceCheck)
        && identify_at.is_none_or(|id| id > at)
    {
        return Err(item_error(
            code,
            &format!("steps[{at}].kind"),
            "`face_check` needs an `identify` step before it",
        ));
    }
    Ok(())
}

fn positions(kinds: &[StepKind], kind: StepKind) -> Vec<usize> {
    kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| **k == kind)
        .map(|(i, _)| i)
        .collect()
}

fn check_form_fields(code: &str, steps: &[Step]) -> Result<(), CatalogueError> {
    let mut keys = HashSet::new();
    for (s, step) in steps.iter().enumerate() {
        let Step::Form(form) = step else { continue };
        if form.fields.is_empty() {
            return Err(item_error(
                code,
                &format!("steps[{s}].fields"),
                "a form needs at least one field",
            ));
        }
        for (f, field) in form.fields.iter().enumerate() {
            let at = format!("steps[{s}].fields[{f}]");
            let key_ok = !field.key.is_empty()
                && field
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                return Err(item_error(
                    code,
                    &format!("{at}.key"),
                    &format!(
                        "{:?} is not a key (lower-case letters, digits, '_')",
                        field.key
                    ),
                ));
            }
            if !keys.insert(field.key.clone()) || field.key == "delivery" {
                return Err(item_error(
                    code,
                    &format!("{at}.key"),
                    &format!("duplicate or reserved field key `{}`", field.key),
                ));
            }
            if field.label.zh.trim().is_empty() {
                return Err(item_error(
                    code,
                    &format!("{at}.label.zh"),
                    "missing Chinese label",
                ));
            }
            if let (Some(min), Some(max)) = (field.min_len, field.max_len)
                && min > max
            {
                return Err(item_error(
                    code,
                    &format!("{at}.min_len"),
                    &format!("{min} is greater than max_len {max}"),
                ));
            }
            if field.field_type == FieldType::Choice && field.choices.is_empty() {
                return Err(item_error(
                    code,
                    &format!("{at}.choices"),
                    &format!("choice field `{}` needs at least one choice", field.key),
                ));
            }
            if field.field_type != FieldType::Choice && !field.choices.is_empty() {
                return Err(item_error(
                    code,
                    &format!("{at}.choices"),
                    "only `choice` fields take choices",
                ));
            }
        }
    }
    Ok(())
}

fn check_channels(code: &str, channels: &Channels) -> Result<(), CatalogueError> {
    for (name, url) in [
        ("online", &channels.online),
        ("app", &channels.app),
        ("mail", &channels.mail),
    ] {
        if let Some(url) = url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(item_error(
                code,
                &format!("channels.{name}"),
                &format!("{url:?} is not an http(s) URL"),
            ));
        }
    }
    Ok(())
}

fn check_hours(code: &str, hours: &Hours) -> Result<(), CatalogueError> {
    let open = parse_hhmm(&hours.open)
        .ok_or_else(|| item_error(code, "hours.open", "must be HH:MM, e.g. \"08:30\""))?;
    let close = parse_hhmm(&hours.close)
        .ok_or_else(|| item_error(code, "hours.close", "must be HH:MM, e.g. \"20:00\""))?;
    if open >= close {
        return Err(item_error(code, "hours", "open must be earlier than close"));
    }
    Ok(())
}

fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn item_error(item: &str, field: &str, problem: &str) -> CatalogueError {
    CatalogueError::Item {
        item: item.to_string(),
        field: field.to_string(),
        problem: problem.to_string(),
    }
}

fn catalogue_error(message: String) -> CatalogueError {
    match message.split_once(": ") {
        Some((field, problem)) => CatalogueError::Catalogue {
            field: field.to_string(),
            problem: problem.to_string(),
        },
        None => CatalogueError::Catalogue {
            field: "(catalogue)".to_string(),
            problem: message,
        },
    }
}
