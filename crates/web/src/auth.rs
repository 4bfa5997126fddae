//! Who is calling: anonymous public (rate-limited per address), a department's
//! machine client (`Authorization: Bearer <token>`), or a signed-in person (session
//! cookie, with a CSRF token for forms). Tokens and session ids are stored only as
//! SHA-256 hashes; passwords as argon2id.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use xinyong_store::Account;

use crate::{ApiError, Shared};

pub const SESSION_COOKIE: &str = "xy_session";
pub const SESSION_HOURS: i64 = 8;

#[derive(Debug, Clone)]
pub enum Caller {
    Public,
    Account { account: Account, csrf: Option<String> },
}

impl Caller {
    pub fn account(&self) -> Option<&Account> {
        match self {
            Caller::Public => None,
            Caller::Account { account, .. } => Some(account),
        }
    }

    /// An account, or 401.
    pub fn require(&self) -> Result<&Account, ApiError> {
        self.account().ok_or_else(ApiError::unauthorized)
    }
}

pub fn hash_secret(secret: &str) -> xinyong_ledger::Hash {
    Sha256::digest(secret.as_bytes()).into()
}

/// A new random secret (API token, session id, CSRF token).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
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
            let hash = hash_secret(&token);
            let account = match state.tokens.get(&hash) {
                Some(a) => Some(a),
                None => {
                    let found = crate::blocking(state, move |s| Ok(s.lock().store.account_by_token(&hash)?)).await?;
                    if let Some(a) = &found {
                        state.tokens.put(hash, a.clone());
                    }
                    found
                }
            };
            return match account {
                Some(a) if !a.disabled => Ok(Caller::Account { account: a, csrf: None }),
                _ => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "令牌无效 / invalid token")),
            };
        }
        if let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) {
            let hash = hash_secret(&sid);
            let now = xinyong_app::now_ms();
            let found = crate::blocking(state, move |s| Ok(s.lock().store.session(&hash, now)?)).await?;
            if let Some((account, session)) = found
                && !account.disabled
            {
                return Ok(Caller::Account { account, csrf: Some(session.csrf) });
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
        Ok(Caller::Public)
    }
}

/// Accounts of recently seen API tokens. An entry lives [`TokenCache::TTL`]: a disabled
/// account or withdrawn token stops working within that time on every node.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<xinyong_ledger::Hash, (Account, Instant)>>,
}

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);

    pub fn get(&self, hash: &xinyong_ledger::Hash) -> Option<Account> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(hash).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(a, _)| a.clone())
    }

    pub fn put(&self, hash: xinyong_ledger::Hash, account: Account) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        entries.insert(hash, (account, Instant::now()));
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_limits() {
        let h = hash_password("正确的密码").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码", &h));
        assert!(!verify_password("wrong", &h));
        let l = RateLimiter::new(1.0, 3.0);
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert!((0..3).all(|_| l.allow(ip)));
        assert!(!l.allow(ip));
        assert!(l.allow(IpAddr::from([10, 0, 0, 2])));
        assert_ne!(new_secret("t_"), new_secret("t_"));
    }
}
