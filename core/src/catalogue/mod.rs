//! Service items as data (DESIGN §4): the versioned catalogue file, its loader and validation,
//! which items this kiosk can offer right now, and search.
//!
//! * [`model`] — departments, items, guides, steps, form fields.
//! * [`parse`](self::Catalogue::parse) — TOML → checked [`Catalogue`] (errors name item and field).
//! * [`availability`] — which items the kiosk's devices allow.
//! * [`search`](self::Catalogue::search) — names, keywords and pinyin initials.
//! * `templates` — A4 certificate templates and receipt QR codes.
//!
//! The file format is documented field by field in `core/README.md`.

mod availability;
mod model;
mod parse;
mod search;
mod templates;

pub use availability::{ItemAvailability, UnavailableReason};
pub use model::DocumentLayout;
pub use model::{
    CardMode, CardStep, CardType, Channels, Choice, ConsentStep, DeliveryOption, DeliveryStep,
    Department, DocumentStep, FaceAlternative, FaceCheckStep, FaceVerification, FieldType,
    FormField, FormStep, Guide, Hours, Item, NoticeStep, ReceiptStep, Step, StepKind,
};
pub use templates::{
    DocumentRow, DocumentTemplate, ReceiptQr, ReceiptQrPurpose, RowSource, is_web_address,
};

use std::path::{Path, PathBuf};

/// The catalogue file format this build reads.
pub const CATALOGUE_FORMAT: u32 = 1;

/// A loaded, checked catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    /// Version number; a kiosk never goes back to a lower one.
    pub version: u32,
    /// When the central office published it (RFC 3339).
    pub published_at: String,
    /// Departments, in home-screen order.
    pub departments: Vec<Department>,
    /// Items, in catalogue order.
    pub items: Vec<Item>,
    /// Where a receipt's QR code leads by default (transaction number appended).
    pub progress_url: Option<String>,
    /// A4 certificate layouts.
    pub document_templates: Vec<DocumentTemplate>,
}

/// Why a catalogue was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The file could not be read.
    #[error("cannot read catalogue {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML.
    #[error("catalogue is not valid TOML: {0}")]
    Syntax(String),
    /// A `format` this build cannot read.
    #[error(
        "format: catalogue format {found} is not supported (this kiosk reads format {CATALOGUE_FORMAT})"
    )]
    UnsupportedFormat {
        /// The `format` found, or 0 when missing.
        found: i64,
    },
    /// A problem inside one item.
    #[error("item `{item}`: {field}: {problem}")]
    Item {
        /// The item code (or `#<n>` when the item has no code).
        item: String,
        /// Field path inside the item, e.g. `steps[2].kind`.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A problem outside the items.
    #[error("{field}: {problem}")]
    Catalogue {
        /// Field path, e.g. `departments[1].code`.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

impl Catalogue {
    /// Reads and checks a catalogue file.
    pub fn load(path: impl AsRef<Path>) -> Result<Catalogue, CatalogueError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Catalogue::parse(&text)
    }

    /// Parses and checks catalogue text.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        parse::parse(text)
    }

    /// The item with this code.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// The document template with this id.
    pub fn document_template(&self, id: &str) -> Option<&DocumentTemplate> {
        self.document_templates.iter().find(|t| t.id == id)
    }

    /// The department with this code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }

    /// Items shown among the hot items, in catalogue order.
    pub fn hot_items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.hot)
    }

    /// Items of one department, in catalogue order.
    pub fn items_of_department<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Item> {
        self.items.iter().filter(move |i| i.department == code)
    }
}

#[cfg(test)]
mod tests;
