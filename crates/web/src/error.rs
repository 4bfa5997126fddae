//! One error type at the edge, rendered as `{"error": {"code", "message"}}` with the
//! right HTTP status. Messages are bilingual (zh / en) where they reach users.

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
        match e {
            xinyong_app::AppError::Input { .. } => ApiError::unprocessable("invalid_input", e.to_string()),
            xinyong_app::AppError::Refused(_) => ApiError::unprocessable("refused", e.to_string()),
            xinyong_app::AppError::NotFound(m) => ApiError::not_found(m),
            xinyong_app::AppError::Store(xinyong_store::StoreError::NotFound(m)) => ApiError::not_found(m),
            xinyong_app::AppError::Store(xinyong_store::StoreError::Conflict(m)) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", m)
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<xinyong_store::StoreError> for ApiError {
    fn from(e: xinyong_store::StoreError) -> Self {
        ApiError::from(xinyong_app::AppError::from(e))
    }
}

impl From<xinyong_search::SearchError> for ApiError {
    fn from(e: xinyong_search::SearchError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("panic in handler").into_response()
}
