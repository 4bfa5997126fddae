//! Who may do what: every permission rule of the platform, in one function
//! ([`permit`]) and tested as one table (role × action → allowed or the reason).
//! Use cases ask here before they touch the store; handlers never compare roles.

use xinyong_core::roles::AccountRole;
use xinyong_store::Account;

use crate::error::{AppError, Result};

/// Who is calling, as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Anyone, not signed in.
    Public,
    /// A department's officer, acting for its own department only.
    Officer { department: String },
    /// The credit centre, acting for any department it names.
    Admin,
    /// An entity's own account.
    Subject { code: String },
    /// A credit agency or bank: reads what is shared with it, for a stated purpose.
    Agency,
}

/// The caller of a use case: a role and, when signed in, the account (for logs).
#[derive(Debug, Clone)]
pub struct Caller {
    role: Role,
    account: Option<Account>,
}

impl Caller {
    pub fn public() -> Caller {
        Caller { role: Role::Public, account: None }
    }

    /// Whoever runs the command line on the data directory: it holds the ledger key,
    /// so it is the credit centre (used to create the first administrator).
    pub fn operator() -> Caller {
        Caller { role: Role::Admin, account: None }
    }

    /// The caller an account speaks as. A disabled account, or a role the platform
    /// does not know, is refused.
    pub fn of_account(account: Account) -> Result<Caller> {
        if account.disabled {
            return Err(AppError::Unauthenticated);
        }
        let role = match AccountRole::parse(&account.role) {
            Some(AccountRole::Admin) => Role::Admin,
            Some(AccountRole::Officer) => Role::Officer { department: account.provider.clone().unwrap_or_default() },
            Some(AccountRole::Subject) => Role::Subject { code: account.subject_code.clone().unwrap_or_default() },
            Some(AccountRole::Agency) => Role::Agency,
            None => return Err(AppError::Unauthenticated),
        };
        Ok(Caller { role, account: Some(account) })
    }

    pub fn role(&self) -> &Role {
        &self.role
    }

    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    /// The account id recorded with what the caller does (0 for the operator).
    pub fn account_id(&self) -> i64 {
        self.account.as_ref().map_or(0, |a| a.id)
    }

    /// The name recorded with what the caller does.
    pub fn actor_name(&self) -> String {
        self.account.as_ref().map_or_else(|| "operator".to_string(), |a| a.username.clone())
    }

    pub fn is_signed_in(&self) -> bool {
        !matches!(self.role, Role::Public)
    }

    /// A department's officer or the credit centre.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Officer { .. } | Role::Admin)
    }

    pub fn is_admin(&self) -> bool {
        matches!(self.role, Role::Admin)
    }

    /// The subject an entity's own account speaks for.
    pub fn own_subject(&self) -> Option<&str> {
        match &self.role {
            Role::Subject { code } => Some(code),
            _ => None,
        }
    }
}

/// Everything a caller may ask to do that not everyone may.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Act for a department (file records, check, propose a listing): the stated
    /// department, if any.
    ActFor { department: Option<&'a str> },
    /// Read a subject's records beyond what is public (logged with a purpose).
    ReadNonPublic { subject: &'a str },
    /// Read or resubmit a department's quarantined rows.
    Quarantine { department: &'a str },
    /// See the quarantine at all (a department's own rows, or all for the centre).
    QuarantineList,
    /// The data quality report (重错码率, timeliness): a department's own batches, or
    /// the one the centre names (every department's when it names none).
    QualityReport { department: Option<&'a str> },
    /// Read a check and give its feedback.
    CheckOf { department: &'a str },
    /// Per-department check figures.
    CheckStats,
    /// Which departments checked a subject.
    ChecksOfSubject { subject: &'a str },
    /// Read a listing that is not public (noticed, withdrawn, or of a shared type).
    ListingDetail { subject: &'a str },
    /// Object to a noticed listing.
    Object { subject: &'a str, department: &'a str },
    /// Decide, remove or withdraw a listing ("who lists, removes").
    ListingStep { department: &'a str },
    /// Read shared (non-public) list types.
    SharedLists,
    /// Create and list accounts.
    ManageAccounts,
    /// Who read a subject's non-public data.
    AccessLogOf { subject: &'a str },
    /// Object to a subject's record or listing (异议): the entity itself, a department or
    /// the centre on its behalf, and — for a record the public can see — anyone who
    /// leaves a contact.
    FileObjection { subject: &'a str, public_target: bool },
    /// Apply for credit repair (信用修复) of a record or listing: the entity itself, or a
    /// department or the centre recording a paper application.
    FileRepair { subject: &'a str },
    /// Act as the deciding department ("谁认定、谁修复"): decide a case, correct or revoke
    /// a record, issue a rectification notice, record an interview.
    DecideFor { department: &'a str },
    /// Read a case in full (with the applicant's contact): the subject, the department
    /// that must act, the centre.
    ReadCase { subject: &'a str, department: &'a str },
    /// Withdraw an open objection or repair application: the subject, or the centre.
    WithdrawCase { subject: &'a str },
    /// One's own notifications (inbox).
    Inbox,
    /// Open and overdue cases: a department's own queue, or every department's.
    CaseQueue,
    /// Upload an evidence file (for an objection or a repair application of one's own).
    UploadEvidence,
    /// Read an evidence file back by its hash.
    ReadEvidence,
    /// Sign a credit commitment (信用承诺) for a subject: the entity itself online, or an
    /// officer of the accepting department recording a paper signature.
    SignCommitment { subject: &'a str, department: &'a str },
    /// Record that a commitment was kept or broken: the accepting department.
    CommitmentStep { department: &'a str },
    /// A subject's grades (信用评价) with their arithmetic: the subject itself, the
    /// departments and the centre (grades serve supervision; they are not published).
    ReadGrades { subject: &'a str },
    /// Grade distributions across subjects.
    GradeFigures,
    /// Have a credit report (信用报告) made of a subject: the entity its own, departments,
    /// the centre and agencies others' (for a purpose, logged). A special report
    /// (专项信用报告) holds unpublished penalties: not for agencies.
    CreditReport { subject: &'a str, special: bool },
    /// Exchange with other platforms: trust a peer, make and apply batches (the centre).
    Exchange,
    /// Subscribe to a subject's deltas, read the feed, acknowledge what was applied: an
    /// agency (信易贷 and other re-publishers), for a stated purpose and relation.
    Subscribe,
    /// The centre's own operations on the store as stored (every subject in code order,
    /// a subject's rows unfiltered): the command line, demo and benchmarks.
    Operate,
}

/// What a permitted action covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything (the credit centre).
    All,
    /// One department's (an officer's own, or the one the centre named).
    Department(String),
    /// One subject's own.
    Subject(String),
    /// What is shared with authorised users (not what only the centre sees).
    Shared,
}

fn no(code: &'static str, zh: &str, en: &str) -> AppError {
    AppError::forbidden(code, zh, en)
}

fn staff_only() -> AppError {
    no("forbidden", "仅限部门用户和信用中心", "departments and the credit centre only")
}

/// Decides whether `caller` may do `action`, and over what. All rules live here.
pub fn permit(caller: &Caller, action: Action<'_>) -> Result<Scope> {
    use Action::*;
    use Role::*;
    let role = caller.role();
    if matches!(role, Public)
        && !matches!(action, ReadNonPublic { .. } | ListingDetail { .. } | SharedLists | FileObjection { .. })
    {
        return Err(AppError::Unauthenticated);
    }
    match (action, role) {
        (ActFor { department }, Officer { department: own }) => match department.map(str::trim) {
            Some(d) if !d.is_empty() && d != own => Err(no(
                "forbidden",
                &format!("只能以本部门（{own}）名义办理"),
                &format!("you act for {own} only, not {d}"),
            )),
            _ => Ok(Scope::Department(own.clone())),
        },
        (ActFor { department }, Admin) => match department.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Ok(Scope::Department(d.to_string())),
            None => Err(AppError::invalid("department_required", "请注明部门", "state the department")),
        },
        (ActFor { .. }, _) => Err(staff_only()),

        (ReadNonPublic { .. }, Admin) => Ok(Scope::All),
        (ReadNonPublic { .. }, Officer { department }) => Ok(Scope::Department(department.clone())),
        (ReadNonPublic { subject }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (ReadNonPublic { .. }, Agency) => Ok(Scope::Shared),
        (ReadNonPublic { .. }, _) => {
            Err(no("forbidden", "只能查看公示信息", "only the public record is open to this caller"))
        }

        (QuarantineList, Admin) => Ok(Scope::All),
        (QuarantineList, Officer { department }) => Ok(Scope::Department(department.clone())),
        (QuarantineList, _) => Err(staff_only()),
        (Quarantine { .. }, Admin) => Ok(Scope::All),
        (Quarantine { department }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (Quarantine { .. }, Officer { .. }) => {
            Err(no("forbidden", "只能处理本部门的隔离数据", "not your department's entry"))
        }
        (Quarantine { .. }, _) => Err(staff_only()),

        (QualityReport { department }, Admin) => match department.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Ok(Scope::Department(d.to_string())),
            None => Ok(Scope::All),
        },
        (QualityReport { department }, Officer { department: own }) => match department.map(str::trim) {
            Some(d) if !d.is_empty() && d != own => {
                Err(no("forbidden", "只能查看本部门的数据质量", "you see your own department's data quality only"))
            }
            _ => Ok(Scope::Department(own.clone())),
        },
        (QualityReport { .. }, _) => Err(staff_only()),

        (CheckOf { .. }, Admin) => Ok(Scope::All),
        (CheckOf { department }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (CheckOf { .. }, Officer { .. }) => Err(no("forbidden", "只能查看本部门的核查", "not your department's check")),
        (CheckOf { .. }, _) => Err(staff_only()),

        (Exchange, Admin) => Ok(Scope::All),
        (Exchange, _) => Err(no("forbidden", "仅限信用中心", "the credit centre only")),
        (Subscribe, Agency) => Ok(Scope::Shared),
        (Subscribe, _) => Err(no("forbidden", "仅限金融机构和信用服务机构", "banks and credit agencies only")),

        (ReadGrades { .. }, Admin) => Ok(Scope::All),
        (ReadGrades { .. }, Officer { department }) => Ok(Scope::Department(department.clone())),
        (ReadGrades { subject }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (ReadGrades { .. }, _) => Err(no(
            "forbidden",
            "信用评价结果仅向主体本人和有关部门提供",
            "grades are open to the subject itself and the departments only",
        )),
        (GradeFigures, Admin) => Ok(Scope::All),
        (GradeFigures, Officer { department }) => Ok(Scope::Department(department.clone())),
        (GradeFigures, _) => Err(staff_only()),

        (CheckStats, Admin) => Ok(Scope::All),
        (CheckStats, Officer { department }) => Ok(Scope::Department(department.clone())),
        (CheckStats, _) => Err(staff_only()),

        (ChecksOfSubject { .. }, Admin) => Ok(Scope::All),
        (ChecksOfSubject { subject }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (ChecksOfSubject { .. }, _) => {
            Err(no("forbidden", "仅限主体本人和信用中心", "the subject itself and administrators only"))
        }

        (ListingDetail { .. }, Admin | Officer { .. }) => Ok(Scope::All),
        (ListingDetail { subject }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (ListingDetail { .. }, _) => Err(AppError::NotFound("名单记录 / listing".into())),

        (Object { subject, .. }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (Object { .. }, Admin) => Ok(Scope::All),
        (Object { department, .. }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (ListingStep { .. }, Admin) => Ok(Scope::All),
        (ListingStep { department }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (ListingStep { .. }, Subject { .. }) => {
            Err(no("forbidden", "主体不能自行作出列入、移出决定", "a subject cannot decide or remove its own listing"))
        }
        (Object { .. } | ListingStep { .. }, _) => {
            Err(no("forbidden", "谁列入、谁移出：只能由作出决定的部门办理", "only the listing department may act"))
        }

        (SharedLists, Admin | Officer { .. } | Agency) => Ok(Scope::All),
        (SharedLists, _) => Err(no("forbidden", "该名单不公示", "this list is shared with departments, not published")),

        (ManageAccounts, Admin) => Ok(Scope::All),
        (ManageAccounts, _) => Err(no("forbidden", "仅限信用中心管理员", "administrators only")),

        (Operate, Admin) => Ok(Scope::All),
        (Operate, _) => Err(no("forbidden", "仅限信用中心", "the credit centre only")),

        (FileObjection { subject, .. }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (FileObjection { .. }, Admin) => Ok(Scope::All),
        (FileObjection { .. }, Officer { department }) => Ok(Scope::Department(department.clone())),
        (FileObjection { public_target: true, .. }, Public) => Ok(Scope::Shared),
        (FileObjection { .. }, Public) => Err(AppError::Unauthenticated),
        (FileObjection { .. }, _) => Err(no(
            "forbidden",
            "只能对本主体的信息或公示信息提出异议",
            "objections are to one's own record or to what is public",
        )),

        (FileRepair { subject }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (FileRepair { .. }, Admin) => Ok(Scope::All),
        (FileRepair { .. }, Officer { department }) => Ok(Scope::Department(department.clone())),
        (FileRepair { .. }, _) => {
            Err(no("forbidden", "只能为本主体申请信用修复", "a subject applies for its own repair"))
        }

        (DecideFor { .. }, Admin) => Ok(Scope::All),
        (DecideFor { department }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (DecideFor { .. }, _) => Err(no(
            "forbidden",
            "谁认定、谁修复：只能由作出认定的部门办理",
            "only the department that decided may act on it",
        )),

        (ReadCase { .. }, Admin) => Ok(Scope::All),
        (ReadCase { subject, .. }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (ReadCase { department, .. }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (ReadCase { .. }, _) => Err(AppError::NotFound("案件 / case".into())),

        (WithdrawCase { .. }, Admin) => Ok(Scope::All),
        (WithdrawCase { subject }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (WithdrawCase { .. }, _) => Err(no("forbidden", "只能由申请主体撤回", "only the applicant may withdraw")),

        (Inbox, Admin) => Ok(Scope::All),
        (Inbox, Officer { department }) => Ok(Scope::Department(department.clone())),
        (Inbox, Subject { code }) => Ok(Scope::Subject(code.clone())),
        (Inbox, Agency) => Ok(Scope::Shared),
        (Inbox, Public) => Err(AppError::Unauthenticated),

        (CaseQueue, Admin) => Ok(Scope::All),
        (CaseQueue, Officer { department }) => Ok(Scope::Department(department.clone())),
        (CaseQueue, _) => Err(staff_only()),

        // anyone signed in may bring evidence to a case; the case decides what it cites
        (UploadEvidence, Admin) => Ok(Scope::All),
        (UploadEvidence, Officer { department }) => Ok(Scope::Department(department.clone())),
        (UploadEvidence, Subject { code }) => Ok(Scope::Subject(code.clone())),
        (UploadEvidence, Agency) => Ok(Scope::Shared),
        (UploadEvidence, Public) => Err(AppError::Unauthenticated),

        // the parties to a case and the departments handling it; not shared with agencies
        (ReadEvidence, Admin) => Ok(Scope::All),
        (ReadEvidence, Officer { department }) => Ok(Scope::Department(department.clone())),
        (ReadEvidence, Subject { code }) => Ok(Scope::Subject(code.clone())),
        (ReadEvidence, _) => Err(no(
            "forbidden",
            "证据材料仅限案件当事人和办理部门查看",
            "evidence is open to the parties to a case and the departments handling it only",
        )),

        (SignCommitment { subject, .. }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (SignCommitment { .. }, Admin) => Ok(Scope::All),
        (SignCommitment { department, .. }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (SignCommitment { .. }, Subject { .. }) => {
            Err(no("forbidden", "只能以本主体名义签署承诺", "an entity signs commitments for itself only"))
        }
        (SignCommitment { .. }, _) => Err(no(
            "forbidden",
            "纸质承诺书只能由承诺受理单位录入",
            "only the accepting department records a paper commitment",
        )),

        (CommitmentStep { .. }, Admin) => Ok(Scope::All),
        (CommitmentStep { department }, Officer { department: own }) if own == department => {
            Ok(Scope::Department(own.clone()))
        }
        (CommitmentStep { .. }, _) => Err(no(
            "forbidden",
            "履约情况只能由承诺受理单位记录",
            "only the accepting department records whether a commitment was kept",
        )),

        (CreditReport { .. }, Admin) => Ok(Scope::All),
        (CreditReport { .. }, Officer { department }) => Ok(Scope::Department(department.clone())),
        (CreditReport { subject, .. }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (CreditReport { special: false, .. }, Agency) => Ok(Scope::Shared),
        (CreditReport { .. }, Agency) => Err(no(
            "forbidden",
            "专项信用报告由主体本身或部门申请",
            "a special report is made for the entity itself or a department",
        )),
        (CreditReport { .. }, Public) => Err(AppError::Unauthenticated),
        (CreditReport { .. }, Subject { .. }) => {
            Err(no("forbidden", "主体只能获取本主体的信用报告", "an entity obtains its own report only"))
        }

        (AccessLogOf { .. }, Admin) => Ok(Scope::All),
        (AccessLogOf { subject }, Subject { code }) if code == subject => Ok(Scope::Subject(code.clone())),
        (AccessLogOf { .. }, _) => {
            Err(no("forbidden", "仅限主体本人和信用中心", "the subject itself and administrators only"))
        }
    }
}

/// The department a caller acts for (officer: its own; administrator: the one named).
pub fn acting_department(caller: &Caller, stated: Option<&str>) -> Result<String> {
    match permit(caller, Action::ActFor { department: stated })? {
        Scope::Department(d) => Ok(d),
        _ => Err(AppError::Internal("acting for a department resolved to no department".into())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn account(role: &str, provider: Option<&str>, subject: Option<&str>) -> Account {
        Account {
            id: 7,
            username: format!("{role}-user"),
            display_name: String::new(),
            role: role.to_string(),
            provider: provider.map(str::to_string),
            subject_code: subject.map(str::to_string),
            password_hash: None,
            disabled: false,
        }
    }

    const OWN: &str = "海淀区市场监管局";
    const OTHER: &str = "北京市税务局";
    const ME: &str = "91110108551385082Q";
    const THEM: &str = "91110000802100433B";

    fn callers() -> Vec<(&'static str, Caller)> {
        vec![
            ("public", Caller::public()),
            ("officer", Caller::of_account(account("officer", Some(OWN), None)).unwrap()),
            ("admin", Caller::of_account(account("admin", None, None)).unwrap()),
            ("subject", Caller::of_account(account("subject", None, Some(ME))).unwrap()),
            ("agency", Caller::of_account(account("agency", None, None)).unwrap()),
        ]
    }

    /// Allowed, or the error code of the refusal.
    fn outcome(c: &Caller, a: Action<'_>) -> &'static str {
        match permit(c, a) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn the_permission_table() {
        use Action::*;
        // action, then the outcome for: public, officer (of OWN), admin, subject (ME), agency
        let table: Vec<(&str, Action<'_>, [&str; 5])> = vec![
            (
                "act for own",
                ActFor { department: None },
                ["unauthorized", "ok", "department_required", "forbidden", "forbidden"],
            ),
            (
                "act for other",
                ActFor { department: Some(OTHER) },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            ("non-public of me", ReadNonPublic { subject: ME }, ["forbidden", "ok", "ok", "ok", "ok"]),
            ("non-public of them", ReadNonPublic { subject: THEM }, ["forbidden", "ok", "ok", "forbidden", "ok"]),
            ("report of me", CreditReport { subject: ME, special: false }, ["unauthorized", "ok", "ok", "ok", "ok"]),
            (
                "special report of them",
                CreditReport { subject: THEM, special: true },
                ["unauthorized", "ok", "ok", "forbidden", "forbidden"],
            ),
            ("quarantine list", QuarantineList, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            ("quarantine own", Quarantine { department: OWN }, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            (
                "quarantine other",
                Quarantine { department: OTHER },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            (
                "quality, own",
                QualityReport { department: None },
                ["unauthorized", "ok", "ok", "forbidden", "forbidden"],
            ),
            (
                "quality, named own",
                QualityReport { department: Some(OWN) },
                ["unauthorized", "ok", "ok", "forbidden", "forbidden"],
            ),
            (
                "quality, other dept",
                QualityReport { department: Some(OTHER) },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            ("check of own", CheckOf { department: OWN }, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            (
                "check of other",
                CheckOf { department: OTHER },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            ("check stats", CheckStats, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            ("grades of me", ReadGrades { subject: ME }, ["unauthorized", "ok", "ok", "ok", "forbidden"]),
            ("grades of them", ReadGrades { subject: THEM }, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            ("grade figures", GradeFigures, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            ("checks of me", ChecksOfSubject { subject: ME }, ["unauthorized", "forbidden", "ok", "ok", "forbidden"]),
            (
                "checks of them",
                ChecksOfSubject { subject: THEM },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            ("listing of me", ListingDetail { subject: ME }, ["not_found", "ok", "ok", "ok", "not_found"]),
            ("listing of them", ListingDetail { subject: THEM }, ["not_found", "ok", "ok", "not_found", "not_found"]),
            (
                "object, mine",
                Object { subject: ME, department: OTHER },
                ["unauthorized", "forbidden", "ok", "ok", "forbidden"],
            ),
            (
                "object, theirs",
                Object { subject: THEM, department: OWN },
                ["unauthorized", "ok", "ok", "forbidden", "forbidden"],
            ),
            ("step, own dept", ListingStep { department: OWN }, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            (
                "step, other dept",
                ListingStep { department: OTHER },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            ("shared lists", SharedLists, ["forbidden", "ok", "ok", "forbidden", "ok"]),
            ("accounts", ManageAccounts, ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"]),
            ("access log of me", AccessLogOf { subject: ME }, ["unauthorized", "forbidden", "ok", "ok", "forbidden"]),
            (
                "access log of them",
                AccessLogOf { subject: THEM },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            ("operate", Operate, ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"]),
            ("exchange", Exchange, ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"]),
            ("subscribe", Subscribe, ["unauthorized", "forbidden", "forbidden", "forbidden", "ok"]),
            (
                "object to my record",
                FileObjection { subject: ME, public_target: false },
                ["unauthorized", "ok", "ok", "ok", "forbidden"],
            ),
            (
                "object to their public record",
                FileObjection { subject: THEM, public_target: true },
                ["ok", "ok", "ok", "forbidden", "forbidden"],
            ),
            (
                "object to their hidden record",
                FileObjection { subject: THEM, public_target: false },
                ["unauthorized", "ok", "ok", "forbidden", "forbidden"],
            ),
            ("repair mine", FileRepair { subject: ME }, ["unauthorized", "ok", "ok", "ok", "forbidden"]),
            ("repair theirs", FileRepair { subject: THEM }, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            ("decide, own dept", DecideFor { department: OWN }, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            (
                "decide, other dept",
                DecideFor { department: OTHER },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            (
                "case of me at own dept",
                ReadCase { subject: ME, department: OWN },
                ["unauthorized", "ok", "ok", "ok", "not_found"],
            ),
            (
                "case of them at other dept",
                ReadCase { subject: THEM, department: OTHER },
                ["unauthorized", "not_found", "ok", "not_found", "not_found"],
            ),
            ("withdraw mine", WithdrawCase { subject: ME }, ["unauthorized", "forbidden", "ok", "ok", "forbidden"]),
            (
                "withdraw theirs",
                WithdrawCase { subject: THEM },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            ("inbox", Inbox, ["unauthorized", "ok", "ok", "ok", "ok"]),
            ("case queue", CaseQueue, ["unauthorized", "ok", "ok", "forbidden", "forbidden"]),
            ("upload evidence", UploadEvidence, ["unauthorized", "ok", "ok", "ok", "ok"]),
            ("read evidence", ReadEvidence, ["unauthorized", "ok", "ok", "ok", "forbidden"]),
            (
                "sign for me at own dept",
                SignCommitment { subject: ME, department: OWN },
                ["unauthorized", "ok", "ok", "ok", "forbidden"],
            ),
            (
                "sign for them at other dept",
                SignCommitment { subject: THEM, department: OTHER },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
            (
                "commitment step, own dept",
                CommitmentStep { department: OWN },
                ["unauthorized", "ok", "ok", "forbidden", "forbidden"],
            ),
            (
                "commitment step, other dept",
                CommitmentStep { department: OTHER },
                ["unauthorized", "forbidden", "ok", "forbidden", "forbidden"],
            ),
        ];
        let callers = callers();
        let mut wrong = Vec::new();
        for (name, action, expected) in &table {
            for ((who, caller), want) in callers.iter().zip(expected) {
                let got = outcome(caller, *action);
                if got != *want {
                    wrong.push(format!("{name} as {who}: expected {want}, got {got}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn scopes_name_the_department_or_subject() {
        let officer = Caller::of_account(account("officer", Some(OWN), None)).unwrap();
        assert_eq!(acting_department(&officer, None).unwrap(), OWN);
        assert_eq!(acting_department(&officer, Some(&format!(" {OWN} "))).unwrap(), OWN);
        let admin = Caller::of_account(account("admin", None, None)).unwrap();
        assert_eq!(acting_department(&admin, Some(OTHER)).unwrap(), OTHER);
        assert_eq!(permit(&officer, Action::QuarantineList).unwrap(), Scope::Department(OWN.into()));
        assert_eq!(permit(&admin, Action::QuarantineList).unwrap(), Scope::All);
        let quality = |c: &Caller, d: Option<&str>| permit(c, Action::QualityReport { department: d }).unwrap();
        assert_eq!(quality(&officer, None), Scope::Department(OWN.into()));
        assert_eq!(quality(&admin, None), Scope::All);
        assert_eq!(quality(&admin, Some(OTHER)), Scope::Department(OTHER.into()));
    }

    #[test]
    fn disabled_and_unknown_accounts_are_not_callers() {
        let mut a = account("officer", Some(OWN), None);
        a.disabled = true;
        assert!(matches!(Caller::of_account(a), Err(AppError::Unauthenticated)));
        assert!(matches!(Caller::of_account(account("root", None, None)), Err(AppError::Unauthenticated)));
    }
}
