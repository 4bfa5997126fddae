//! Accounts and how callers prove who they are: passwords (argon2id) for people,
//! sessions for the portal, API tokens for departments' systems. Tokens and session
//! ids are stored only as SHA-256 hashes. Creating an account is one use case for the
//! command line and the API alike.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xinyong_core::roles::AccountRole;
use xinyong_store::{NewAccount, Session};

pub use xinyong_store::Account;

use crate::access::{Action, Caller, permit};
use crate::{App, AppError, Result, now_ms, parse_code};

/// How long a portal session lives.
pub const SESSION_HOURS: i64 = 8;

pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A new random secret (API token, session id, CSRF token).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A new account: an officer bound to one department, an administrator, an entity's
/// own account, or a credit agency.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewAccountRequest {
    pub username: String,
    pub display_name: Option<String>,
    /// `officer`, `admin`, `subject` or `agency`.
    pub role: String,
    /// Required for officers: the department.
    pub provider: Option<String>,
    /// Required for subject accounts: the USCC or resident ID it speaks for.
    pub subject_code: Option<String>,
    /// At least 10 characters; omit for a token-only machine client.
    pub password: Option<String>,
    /// Also issue an API token (shown once).
    #[serde(default)]
    pub token: bool,
}

/// The account as stored, and its API token (shown once, stored hashed).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedAccount {
    pub account: Option<Account>,
    /// The API token when one was asked for: shown this once only.
    pub token: Option<String>,
}

/// Every account, as the API answers them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountList {
    pub accounts: Vec<Account>,
}

/// A portal session: the cookie value (shown once) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub session_id: String,
    pub csrf: String,
}

impl App {
    /// Creates an account (the centre only; the command line acts as the operator).
    pub fn create_account(&self, caller: &Caller, req: &NewAccountRequest) -> Result<CreatedAccount> {
        permit(caller, crate::access::Action::ManageAccounts)?;
        let role = AccountRole::parse(&req.role).ok_or_else(|| {
            AppError::invalid(
                "invalid_role",
                "role 应为 officer、admin、subject 或 agency",
                "role must be officer, admin, subject or agency",
            )
        })?;
        let username = req.username.trim();
        if username.is_empty() || username.chars().count() > 64 {
            return Err(AppError::invalid(
                "invalid_username",
                "用户名为 1–64 个字符",
                "username must be 1–64 characters",
            ));
        }
        let provider = req.provider.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
        if role == AccountRole::Officer && provider.is_none() {
            return Err(AppError::invalid("provider_required", "部门用户须指定 provider", "officers need a provider"));
        }
        let subject_code = match (role, req.subject_code.as_deref()) {
            (AccountRole::Subject, Some(c)) => Some(parse_code(c)?.key().to_string()),
            (AccountRole::Subject, None) => {
                return Err(AppError::invalid(
                    "subject_code_required",
                    "主体账号须指定 subject_code",
                    "subject accounts need a subject_code",
                ));
            }
            _ => None,
        };
        let password_hash = match &req.password {
            Some(p) if p.chars().count() < 10 => {
                return Err(AppError::invalid(
                    "weak_password",
                    "密码至少 10 位",
                    "password needs at least 10 characters",
                ));
            }
            Some(p) => Some(hash_password(p)?),
            None => None,
        };
        let token = req.token.then(|| new_secret("xy_"));
        let new = NewAccount {
            username: username.to_string(),
            display_name: req
                .display_name
                .clone()
                .filter(|d| !d.trim().is_empty())
                .or_else(|| provider.clone())
                .unwrap_or_else(|| username.to_string()),
            role: role.as_str().to_string(),
            provider,
            subject_code,
            password_hash,
        };
        let token_hash = token.as_deref().map(hash_secret);
        let account = self.db().write(|s| {
            let now = now_ms();
            let id = s.create_account(&new, now)?;
            if let Some(h) = token_hash {
                s.add_token(id, &h, if caller.account().is_some() { "api" } else { "cli" }, now)?;
            }
            Ok(s.account(&new.username)?)
        })?;
        Ok(CreatedAccount { account, token })
    }

    /// Every account (the centre only).
    pub fn accounts(&self, caller: &Caller) -> Result<Vec<Account>> {
        permit(caller, Action::ManageAccounts)?;
        self.db().read(|s| Ok(s.accounts()?))
    }

    /// The caller of a recently seen token, without touching the store (never blocks):
    /// `None` when the token is not cached.
    pub fn cached_caller(&self, token: &str) -> Option<Result<Caller>> {
        self.tokens().get(&hash_secret(token.trim())).map(Caller::of_account)
    }

    /// The caller a bearer token speaks for. Accounts of recently seen tokens are cached
    /// ([`TokenCache::TTL`]): the check path must not query the store.
    pub fn caller_by_token(&self, token: &str) -> Result<Caller> {
        let hash = hash_secret(token.trim());
        let account = match self.tokens().get(&hash) {
            Some(a) => Some(a),
            None => {
                let found = self.db().read(|s| Ok(s.account_by_token(&hash)?))?;
                if let Some(a) = &found {
                    self.tokens().put(hash, a.clone());
                }
                found
            }
        };
        match account {
            Some(a) => Caller::of_account(a),
            None => Err(AppError::Unauthenticated),
        }
    }

    /// The caller of a live portal session, and the session's CSRF token.
    pub fn caller_by_session(&self, session_id: &str) -> Result<Option<(Caller, String)>> {
        let hash = hash_secret(session_id);
        let now = now_ms();
        match self.db().read(|s| Ok(s.session(&hash, now)?))? {
            Some((account, session)) => match Caller::of_account(account) {
                Ok(c) => Ok(Some((c, session.csrf))),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Signs a person in: a new session, or `None` for a wrong name or password.
    pub fn sign_in(&self, username: &str, password: &str) -> Result<Option<NewSession>> {
        let now = now_ms();
        self.tokens().sign_in_allowed(username, now)?;
        let account = self.db().read(|s| Ok(s.account(username)?))?;
        // an unknown or disabled name costs the same password check as a wrong password:
        // the answer's time does not tell which names exist
        let hash = account.as_ref().filter(|a| !a.disabled).and_then(|a| a.password_hash.clone());
        let ok = verify_password(password, hash.as_deref().unwrap_or(&DUMMY_HASH)) && hash.is_some();
        let account = account.filter(|_| ok);
        let Some(account) = account else {
            self.tokens().sign_in_failed(username, now);
            return Ok(None);
        };
        self.tokens().sign_in_succeeded(username);
        let session_id = new_secret("");
        let now = now_ms();
        let session = Session {
            session_hash: hash_secret(&session_id),
            account_id: account.id,
            csrf: new_secret(""),
            created_ms: now,
            expires_ms: now + SESSION_HOURS * 3_600_000,
        };
        let csrf = session.csrf.clone();
        self.db().write(|s| Ok(s.create_session(&session)?))?;
        Ok(Some(NewSession { session_id, csrf }))
    }

    pub fn sign_out(&self, session_id: &str) -> Result<()> {
        let hash = hash_secret(session_id);
        self.db().write(|s| Ok(s.delete_session(&hash)?))
    }
}

/// A password hash no password matches (an argon2id hash of random bytes): what an
/// unknown account name is checked against.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&new_secret("")).unwrap_or_default());

/// Failed sign-ins allowed for one name before it must wait.
const FREE_FAILURES: u32 = 5;
/// The longest wait (doubling from 1 s after the free failures).
const MAX_WAIT_MS: i64 = 15 * 60 * 1000;

/// Accounts of recently seen API tokens. An entry lives [`TokenCache::TTL`]: a disabled
/// account or withdrawn token stops working within that time on every node.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], (Account, Instant)>>,
    /// Failed sign-ins by account name (existing or not): the count and the time
    /// (ms) before which the name may not try again.
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);

    fn get(&self, hash: &[u8; 32]) -> Option<Account> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(hash).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(a, _)| a.clone())
    }

    fn put(&self, hash: [u8; 32], account: Account) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        entries.insert(hash, (account, Instant::now()));
    }

    /// Refuses a sign-in while the name waits out its backoff.
    pub(crate) fn sign_in_allowed(&self, username: &str, now_ms: i64) -> Result<()> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get(username) {
            Some(&(_, until)) if until > now_ms => {
                let secs = (until - now_ms + 999) / 1000;
                Err(AppError::TooManyAttempts {
                    zh: format!("登录失败次数过多，请 {secs} 秒后再试"),
                    en: format!("too many failed sign-ins: try again in {secs} s"),
                })
            }
            _ => Ok(()),
        }
    }

    /// After the free failures, each failure doubles the wait (1 s, 2 s, 4 s … 15 min).
    pub(crate) fn sign_in_failed(&self, username: &str, now_ms: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, (_, until)| *until > now_ms);
        }
        let entry = failures.entry(username.to_string()).or_insert((0, 0));
        entry.0 += 1;
        if entry.0 >= FREE_FAILURES {
            let doublings = (entry.0 - FREE_FAILURES).min(20);
            entry.1 = now_ms + (1000i64 << doublings).min(MAX_WAIT_MS);
        }
    }

    pub(crate) fn sign_in_succeeded(&self, username: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(username);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn failed_sign_ins_back_off_per_name() {
        let c = TokenCache::default();
        for _ in 0..FREE_FAILURES - 1 {
            c.sign_in_failed("officer", 1_000);
            assert!(c.sign_in_allowed("officer", 1_000).is_ok(), "the first failures are free");
        }
        c.sign_in_failed("officer", 1_000);
        let e = c.sign_in_allowed("officer", 1_500).unwrap_err();
        assert_eq!(e.code(), "too_many_attempts");
        assert!(c.sign_in_allowed("officer", 2_000).is_ok(), "after one second");
        c.sign_in_failed("officer", 2_000);
        assert!(c.sign_in_allowed("officer", 3_500).is_err() && c.sign_in_allowed("officer", 4_000).is_ok(), "doubled");
        assert!(c.sign_in_allowed("another", 1_500).is_ok(), "per name");
        for _ in 0..40 {
            c.sign_in_failed("officer", 10_000);
        }
        assert!(c.sign_in_allowed("officer", 10_000 + MAX_WAIT_MS).is_ok(), "never longer than the cap");
        c.sign_in_succeeded("officer");
        assert!(c.sign_in_allowed("officer", 10_001).is_ok());
    }

    /// An unknown name costs the same password check as a wrong password, so the time
    /// of the answer does not tell which names exist (medians of three; the check alone
    /// is ~10× a lookup, so a missing check shows far below the bound).
    #[test]
    fn sign_in_takes_as_long_for_unknown_names() {
        let dir = tempfile::tempdir().unwrap();
        let app = crate::App::open(dir.path()).unwrap();
        let req = NewAccountRequest {
            username: "officer".into(),
            role: "officer".into(),
            provider: Some("测试部门".into()),
            password: Some("correct horse battery".into()),
            ..Default::default()
        };
        app.create_account(&Caller::operator(), &req).unwrap();
        let median = |name: &str| {
            // three: fewer than the failures a name may have before it waits
            let mut t: Vec<std::time::Duration> = (0..3)
                .map(|i| {
                    let started = Instant::now();
                    // distinct names for the unknown case, so no backoff kicks in
                    let n = if name == "officer" { name.to_string() } else { format!("{name}{i}") };
                    assert!(app.sign_in(&n, "wrong password").unwrap().is_none());
                    started.elapsed()
                })
                .collect();
            t.sort();
            t[1]
        };
        let _ = median("warm-up");
        let wrong = median("officer");
        let unknown = median("nobody");
        assert!(unknown * 3 >= wrong, "unknown {unknown:?} vs wrong password {wrong:?}");
        assert!(app.sign_in("officer", "correct horse battery").unwrap().is_some());
    }

    #[test]
    fn passwords_and_secrets() {
        let h = hash_password("正确的密码").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码", &h));
        assert!(!verify_password("wrong", &h));
        assert_ne!(new_secret("t_"), new_secret("t_"));
    }
}
