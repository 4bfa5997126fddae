//! One error type at the edge, rendered as `{"error": {"code", "message"}}` with the
//! right HTTP status. The policy (stable codes, bilingual messages, internal detail
//! only in the log) is stated in `xinyong_app::error`; here it is only rendered.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn unauthorized() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "需要登录或 API 令牌 / authentication required")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        tracing::error!(%message, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "内部错误 / internal error")
    }
}

impl From<xinyong_app::AppError> for ApiError {
    fn from(e: xinyong_app::AppError) -> Self {
        use xinyong_app::ErrorKind;
        let status = match e.kind() {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => {
                // the chain goes to the log; the caller learns only that it was ours
                tracing::error!(error = %e.chain(), "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError { status, code: e.code(), message: e.public_message() }
    }
}

/// The body of every error answer of the API.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`invalid_code`, `forbidden`, `refused`, `not_found`,
    /// `conflict` …): never renamed, only added.
    #[schema(value_type = String)]
    pub code: &'static str,
    /// For people: "中文 / English".
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message } };
        (self.status, axum::Json(body)).into_response()
    }
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("panic in handler").into_response()
}

/// Rejections the framework answers itself (malformed JSON, a missing content type, a
/// bad path or query parameter, a body over the limit, a wrong method) come as English
/// plain text: under `/api/` they become the documented JSON error, in both languages,
/// with the framework's own words kept for the detail.
pub async fn json_rejections(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let detail = match axum::body::to_bytes(res.into_body(), 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let (code, zh, en) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "请求参数或请求体无效", "invalid request parameter or body"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "请求体超过上限", "request body over the limit"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "请求体类型不受支持（应为 application/json）",
            "unsupported content type (expected application/json)",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "invalid_body",
            "请求体不是有效的 JSON 或字段不符",
            "the body is not valid JSON or does not fit the schema",
        ),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "不支持该请求方法", "method not allowed"),
        StatusCode::NOT_FOUND => ("not_found", "未找到", "not found"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "请求超时", "request timed out"),
        s if s.is_server_error() => ("internal", "服务器内部错误", "internal error"),
        _ => ("bad_request", "请求无效", "bad request"),
    };
    let message = if detail.is_empty() { format!("{zh} / {en}") } else { format!("{zh} / {en}: {detail}") };
    ApiError::new(status, code, message).into_response()
}
