//! What a citizen did on the screen, as the UI adapter forwards it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiAction {
    OpenItem(String),
    SelectDepartment(String),
    Begin,
    Consent(bool),
    SelectField(usize),
    /// A keypad key: a digit, `back` or `clear`.
    Key(String),
    /// A choice button of a form field: field key and the label shown.
    Choose {
        key: String,
        label: String,
    },
    SubmitForm,
    Confirm,
    Back,
    Rate(u8),
    SkipRating,
    Continue,
    ChooseOption(usize),
    Retry,
    GoHome,
    Cancel,
    ToggleLanguage,
    ToggleElder,
    /// Any touch: restarts the step countdown.
    Activity,
    /// A tap on the title in the top bar (five quick taps open the staff PIN screen).
    TitleTap,
    /// A tap in diagnostics mode: `page:devices`, `key:5`, `pin-ok`, `self-test:receipt_printer`,
    /// `close-fault:<id>`, `replenish:receipt_paper`, `exit`, … (see `controller/diagnostics.rs`).
    Diag(String),
}
