//! The kinds of account (账号角色) a platform knows. What each may do is decided in one
//! place in `app` (`access`); here is only the vocabulary, stored as its snake_case name.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    /// 信用中心管理员: the credit centre, which runs the platform.
    Admin,
    /// 部门用户: an officer bound to one department (the providing department of its records).
    Officer,
    /// 主体账号: an entity's own account, speaking for one subject code.
    Subject,
    /// 信用服务机构 / 金融机构: a credit agency or bank, authorised to read shared data.
    Agency,
}

impl AccountRole {
    pub const ALL: [AccountRole; 4] =
        [AccountRole::Admin, AccountRole::Officer, AccountRole::Subject, AccountRole::Agency];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Admin => "admin",
            AccountRole::Officer => "officer",
            AccountRole::Subject => "subject",
            AccountRole::Agency => "agency",
        }
    }

    pub fn parse(s: &str) -> Option<AccountRole> {
        AccountRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in AccountRole::ALL {
            assert_eq!(AccountRole::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).ok(), Some(serde_json::Value::String(r.as_str().into())));
        }
        assert_eq!(AccountRole::parse("root"), None);
    }
}
