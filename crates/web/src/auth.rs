//! Who is calling, as the edge learns it: anonymous public (rate-limited per address),
//! a department's machine client (`Authorization: Bearer <token>`), or a signed-in
//! person (session cookie, with a CSRF token for forms). Which caller may do what is
//! decided in `xinyong_app::access`, not here.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};

use crate::{ApiError, Shared};

pub const SESSION_COOKIE: &str = "xy_session";
pub use xinyong_app::accounts::SESSION_HOURS;

/// The caller of a request: the application's caller, and the session's CSRF token
/// when it came with a session cookie (forms must echo it).
#[derive(Debug, Clone)]
pub struct Caller {
    pub who: xinyong_app::Caller,
    pub csrf: Option<String>,
}

impl std::ops::Deref for Caller {
    type Target = xinyong_app::Caller;

    fn deref(&self) -> &xinyong_app::Caller {
        &self.who
    }
}

impl Caller {
    /// A signed-in caller, or 401.
    pub fn require(&self) -> Result<&xinyong_app::Caller, ApiError> {
        if self.who.is_signed_in() {
            Ok(&self.who)
        } else {
            Err(ApiError::from(xinyong_app::AppError::Unauthenticated))
        }
    }

    /// The form's CSRF token matches the session's (the one check, for every form).
    pub fn csrf_ok(&self, sent: &str) -> bool {
        self.csrf.as_deref().is_some_and(|expected| !sent.is_empty() && expected == sent)
    }
}

pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').find_map(|kv| {
            let (k, val) = kv.trim().split_once('=')?;
            (k == name).then(|| val.to_string())
        })
    })
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "Authorization 应为 Bearer 令牌 / expected a Bearer token",
                    )
                })?
                .trim()
                .to_string();
            // a cached token answers without the store; a miss reads it on the blocking pool
            let found = match state.app.cached_caller(&token) {
                Some(cached) => cached.map_err(ApiError::from),
                None => crate::blocking(state, move |app| app.caller_by_token(&token)).await,
            };
            let who = found.map_err(|e| {
                if e.status == StatusCode::UNAUTHORIZED {
                    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "令牌无效 / invalid token")
                } else {
                    e
                }
            })?;
            return Ok(Caller { who, csrf: None });
        }
        if let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) {
            let found = crate::blocking(state, move |app| app.caller_by_session(&sid)).await?;
            if let Some((who, csrf)) = found {
                let caller = Caller { who, csrf: Some(csrf) };
                // a browser sends the session cookie with any site's request: a JSON call
                // that changes something proves it comes from our own page with the
                // session's token (multipart uploads carry it as their `csrf` field,
                // checked where the body is read)
                let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                let multipart = parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("multipart/form-data"));
                if parts.uri.path().starts_with("/api/") && unsafe_method && !multipart {
                    let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    if !caller.csrf_ok(sent) {
                        return Err(ApiError::forbidden(
                            "会话调用接口须附 X-CSRF-Token 请求头 / a session's API call needs the X-CSRF-Token header",
                        ));
                    }
                }
                return Ok(caller);
            }
        }
        let ip =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
        if !state.limiter.allow(ip) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "请求过于频繁，请稍后再试 / too many requests",
            ));
        }
        Ok(Caller { who: xinyong_app::Caller::public(), csrf: None })
    }
}

/// Token bucket per client address for anonymous requests.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter { per_second, burst, buckets: Mutex::new(HashMap::new()) }
    }

    pub fn allow(&self, ip: IpAddr) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if buckets.len() > 100_000 {
            // forget idle clients rather than grow without bound
            buckets.retain(|_, (tokens, at)| *tokens < self.burst && now.duration_since(*at).as_secs() < 60);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let l = RateLimiter::new(1.0, 3.0);
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert!((0..3).all(|_| l.allow(ip)));
        assert!(!l.allow(ip));
        assert!(l.allow(IpAddr::from([10, 0, 0, 2])));
    }
}
