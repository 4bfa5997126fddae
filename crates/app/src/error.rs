//! The error policy of xinyong, in one place:
//!
//! - Every refusal a caller can act on has a **stable machine-readable `code`**
//!   (`invalid_code`, `forbidden`, `refused`, `conflict` …): clients branch on it, so a
//!   code is never renamed, only added. [`AppError::code`] gives it.
//! - Messages reaching people are **bilingual**: each refusal carries its Chinese and
//!   English text; the edge (`web`, `cli`) decides how to show them (today both,
//!   "中文 / English", in the `message` field).
//! - Failures of our own (store, ledger, I/O, search) are **internal**: the caller gets
//!   `internal` and no detail; the whole source chain goes to the server log where the
//!   edge renders the error ([`AppError::chain`]).
//! - Libraries use `thiserror`; `anyhow` lives only in the binary.

use xinyong_core::record::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No account (or a bad token): sign in or send a token.
    #[error("需要登录或 API 令牌 / authentication required")]
    Unauthenticated,
    /// Signed in, but this role may not do this.
    #[error("{zh} / {en}")]
    Forbidden { code: &'static str, zh: String, en: String },
    /// The request itself is wrong (a field, a code, a date, a size).
    #[error("{zh} / {en}")]
    Invalid { code: &'static str, zh: String, en: String },
    /// A step the rules refuse, with every reason (each "中文 / English").
    #[error("{}", .0.join("；"))]
    Refused(Vec<String>),
    /// What was looked for: "中文 / English", or one name for both.
    #[error("{}", not_found_text(.0))]
    NotFound(String),
    /// Someone else acted first (a second decision, a second feedback, a taken name).
    #[error("{0}")]
    Conflict(String),
    /// Too much at once: retry shortly.
    #[error("{zh} / {en}")]
    Busy { zh: String, en: String },
    /// Too many failed sign-ins for one account name: wait before trying again.
    #[error("{zh} / {en}")]
    TooManyAttempts { zh: String, en: String },
    /// A part the deployment lacks (e.g. the CJK font PDF reports are set in): the
    /// operator can fix it; the message says how.
    #[error("{zh} / {en}")]
    Unavailable { zh: String, en: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Store(xinyong_store::StoreError),
    #[error("{0}")]
    Ledger(#[from] xinyong_ledger::LedgerError),
    #[error("{0}")]
    Catalog(#[from] xinyong_core::catalog::CatalogError),
    #[error("search index: {0}")]
    Search(#[from] xinyong_search::SearchError),
    #[error("{0}")]
    Internal(String),
}

/// "未找到 案件 7 / not found: case 7" — each language names the thing in its own words.
fn not_found_text(what: &str) -> String {
    let (zh, en) = what.split_once(" / ").unwrap_or((what, what));
    format!("未找到 {zh} / not found: {en}")
}

impl From<xinyong_store::StoreError> for AppError {
    fn from(e: xinyong_store::StoreError) -> Self {
        match e {
            xinyong_store::StoreError::NotFound(m) => AppError::NotFound(m),
            xinyong_store::StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Store(other),
        }
    }
}

/// What kind of answer an error is, for the edge to choose a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A malformed request (a query parameter that does not parse).
    BadRequest,
    Unauthenticated,
    Forbidden,
    Invalid,
    NotFound,
    Conflict,
    Busy,
    TooManyAttempts,
    Internal,
}

impl AppError {
    /// A wrong request, with the generic code `invalid_input`.
    pub fn input(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Invalid { code: "invalid_input", zh: zh.into(), en: en.into() }
    }

    /// A wrong request with its own stable code.
    pub fn invalid(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Invalid { code, zh: zh.into(), en: en.into() }
    }

    pub fn forbidden(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Forbidden { code, zh: zh.into(), en: en.into() }
    }

    /// Rows or fields refused by validation, as one invalid request.
    pub fn fields(code: &'static str, errors: &[FieldError]) -> AppError {
        let zh = errors.iter().map(|e| e.zh.clone()).collect::<Vec<_>>().join("；");
        let en = errors.iter().map(|e| e.en.clone()).collect::<Vec<_>>().join("; ");
        AppError::Invalid { code, zh, en }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthorized",
            AppError::Forbidden { code, .. } | AppError::Invalid { code, .. } => code,
            AppError::Refused(_) => "refused",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Busy { .. } => "overloaded",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::Unavailable { .. } => "unavailable",
            _ => "internal",
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::Unauthenticated => ErrorKind::Unauthenticated,
            AppError::Forbidden { .. } => ErrorKind::Forbidden,
            AppError::Invalid { code: "bad_request", .. } => ErrorKind::BadRequest,
            AppError::Invalid { .. } | AppError::Refused(_) => ErrorKind::Invalid,
            AppError::NotFound(_) => ErrorKind::NotFound,
            AppError::Conflict(_) => ErrorKind::Conflict,
            AppError::Busy { .. } | AppError::Unavailable { .. } => ErrorKind::Busy,
            AppError::TooManyAttempts { .. } => ErrorKind::TooManyAttempts,
            _ => ErrorKind::Internal,
        }
    }

    /// What a caller may read: the bilingual message, or a generic line for our own failures.
    pub fn public_message(&self) -> String {
        match self.kind() {
            ErrorKind::Internal => "内部错误 / internal error".to_string(),
            _ => self.to_string(),
        }
    }

    /// The error and its sources, for the server log.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }
}

pub type Result<T> = std::result::Result<T, AppError>;
