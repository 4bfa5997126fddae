//! Voluntary registration (自愿注册): an entity registers positive information about
//! itself — qualifications, contract performance, charity, honours, awards — and signs
//! the truthfulness commitment of `data/commitments/matters.toml` (`registration =
//! true`) with it. The information is a record of `voluntary_registration` whose
//! 承诺书编号 names that commitment, and where it stands *is* the commitment's state:
//! self-declared while open, verified once the accepting department records it kept,
//! false once it records it broken — then the broken commitment becomes a breach
//! record (the commitments follower) and the registration is revoked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;
use xinyong_core::commitment::matters::Matter;
use xinyong_core::commitment::{Commitment, Declared};
use xinyong_core::record::date_string;
use xinyong_store::{Outcome, Store};

use crate::access::{Action, Caller, Scope, permit};
use crate::cases::AmendRequest;
use crate::commitments::{CommitmentView, SignRequest, StepRequest};
use crate::view::record_fields;
use crate::{App, AppError, Result, parse_code};

/// The catalog item of registered information.
pub const ITEM: &str = "voluntary_registration";

/// Information an entity registers (自愿注册), with its truthfulness commitment.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RegistrationRequest {
    /// The subject's code (an entity's own account: its own).
    pub code: String,
    /// The subject's name, when the platform does not know the subject yet.
    pub name: Option<String>,
    /// 信息类别: 资质证照, 合同履约, 慈善捐赠, 志愿服务, 荣誉表彰, 奖励, 其他.
    pub category: String,
    /// 信息名称, e.g. the certificate or the award.
    pub title: String,
    /// 信息内容.
    pub content: String,
    /// 颁发或证明单位: who issued or can attest it.
    pub issuer: String,
    /// 取得日期.
    #[schema(format = Date)]
    pub obtained_on: String,
    /// 有效期至 (the information is public until that day).
    #[schema(format = Date)]
    pub valid_until: Option<String>,
    /// 证明材料: what supports it (document numbers, where to see it).
    pub evidence: Option<String>,
}

/// Where a registration stands, by its truthfulness commitment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Declaration {
    /// `self_declared`, `verified` or `false`.
    pub state: Declared,
    /// 自主声明（待核实） / 已核实 / 经核实不实.
    pub state_zh: String,
    /// The truthfulness commitment's record and number.
    pub commitment_record: i64,
    pub commitment_number: String,
    /// The day it was verified or found false.
    #[schema(format = Date)]
    pub on: Option<String>,
    /// What the department recorded (how it verified, or what was false).
    pub note: Option<String>,
}

impl Declaration {
    pub(crate) fn of(c: &Commitment, day: Date) -> Declaration {
        let s = c.standing(day);
        let state = Declared::of(s.state);
        Declaration {
            state,
            state_zh: state.name_zh().to_string(),
            commitment_record: c.record_id,
            commitment_number: c.number.clone(),
            on: s.on.map(date_string),
            note: s.text,
        }
    }
}

/// A registration as its answer shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegistrationView {
    /// The registration's record (`voluntary_registration`).
    pub record_id: i64,
    /// 登记编号 (the truthfulness commitment's number).
    pub number: String,
    pub declaration: Declaration,
    /// The truthfulness commitment signed with it.
    pub commitment: CommitmentView,
}

/// A stored registration's truthfulness commitment: the one its 承诺书编号 names, of its
/// accepting department. `None` for a record of another item.
fn commitment_of(
    s: &dyn Store,
    row: &xinyong_store::RecordRow,
    fields: &BTreeMap<String, String>,
) -> Result<Option<Commitment>> {
    if row.item != ITEM {
        return Ok(None);
    }
    let Some(number) = fields.get("承诺书编号") else { return Ok(None) };
    Ok(s.commitments_of(&row.subject_code)?.into_iter().find(|c| &c.number == number && c.department == row.provider))
}

/// Where a stored registration stands on `day`: `None` for a record of another item.
pub(crate) fn declaration_of(
    s: &dyn Store,
    row: &xinyong_store::RecordRow,
    fields: &BTreeMap<String, String>,
    day: Date,
) -> Result<Option<Declaration>> {
    Ok(commitment_of(s, row, fields)?.map(|c| Declaration::of(&c, day)))
}

/// The registration matter of the bundled list.
fn matter() -> Result<&'static Matter> {
    let matters = xinyong_core::commitment::matters::Matters::bundled()
        .map_err(|e| AppError::Internal(format!("data/commitments/matters.toml: {e}")))?;
    matters
        .registration()
        .ok_or_else(|| AppError::Internal("data/commitments/matters.toml has no registration matter".into()))
}

impl App {
    /// Registers information (自愿注册): the entity's own account online, or an officer
    /// of the accepting department recording a paper registration. The row is checked
    /// against the catalog first, so a commitment is signed only for information that
    /// will be stored; then the truthfulness commitment, then the registration under
    /// the same number.
    pub fn register_information(
        &self,
        caller: &Caller,
        req: &RegistrationRequest,
        channel: &str,
    ) -> Result<RegistrationView> {
        if !caller.is_signed_in() {
            return Err(AppError::Unauthenticated);
        }
        let matter = matter()?;
        let code = parse_code(&req.code)?;
        let scope = permit(caller, Action::SignCommitment { subject: code.key(), department: &matter.department })?;
        let item =
            self.catalog().item(ITEM).ok_or_else(|| AppError::Internal(format!("the catalog has no {ITEM}")))?.clone();
        let known_name = self.db().read(|s| Ok(s.subject(code.key())?.map(|r| r.name)))?;
        let name = known_name.or_else(|| req.name.clone()).unwrap_or_default();
        let mut row: BTreeMap<String, String> = [
            ("主体名称", name),
            ("统一社会信用代码", code.key().to_string()),
            ("信息类别", req.category.clone()),
            ("信息名称", req.title.clone()),
            ("信息内容", req.content.clone()),
            ("颁发或证明单位", req.issuer.clone()),
            ("取得日期", req.obtained_on.clone()),
            ("有效期至", req.valid_until.clone().unwrap_or_default()),
            ("证明材料", req.evidence.clone().unwrap_or_default()),
            // checked with a stand-in: the number comes with the commitment
            ("登记编号", "-".to_string()),
            ("承诺书编号", "-".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
        let values: Vec<Option<&str>> = item.fields.iter().map(|f| row.get(&f.name).map(String::as_str)).collect();
        if let Err(errors) = xinyong_core::record::validate(&item, &values, crate::today_shanghai()) {
            return Err(AppError::fields("registration_invalid", &errors));
        }
        let sign = SignRequest {
            matter: matter.code.clone(),
            code: req.code.clone(),
            name: req.name.clone(),
            ..SignRequest::default()
        };
        let commitment = self.sign_matter(caller, matter, &sign)?;
        for k in ["登记编号", "承诺书编号"] {
            row.insert(k.to_string(), commitment.number.clone());
        }
        let online = matches!(scope, Scope::Subject(_));
        let source = if online { format!("self-declared:{}", caller.actor_name()) } else { channel.to_string() };
        let out = crate::intake::ingest_rows(self, ITEM, &matter.department, &source, &[row])?;
        let record_id = match out.rows.first().map(|r| (&r.outcome, &r.errors)) {
            Some((Outcome::Accepted { record_id, .. }, _)) => *record_id,
            Some((Outcome::Quarantined { .. }, errors)) => {
                return Err(AppError::fields("registration_invalid", errors));
            }
            _ => return Err(AppError::Conflict("该信息已注册 / this information is already registered".into())),
        };
        let today = self.clock_day();
        let c = self.db().read(|s| Ok(s.commitment(commitment.record_id)?))?;
        let declaration = c
            .as_ref()
            .map(|c| Declaration::of(c, today))
            .ok_or_else(|| AppError::Internal(format!("the commitment {} was not taken on", commitment.record_id)))?;
        Ok(RegistrationView { record_id, number: commitment.number.clone(), declaration, commitment })
    }

    /// The truthfulness commitment of a registration record, with the record's subject.
    fn registration_commitment(&self, record_id: i64) -> Result<Commitment> {
        let not_found = || AppError::NotFound(format!("自愿注册信息 {record_id} / registration {record_id}"));
        self.db().read(|s| {
            let Some(row) = s.record(record_id)?.filter(|r| r.item == ITEM) else { return Err(not_found()) };
            commitment_of(s, &row, &record_fields(s, &row)?)?
                .ok_or_else(|| AppError::Internal(format!("registration {record_id} has no commitment")))
        })
    }

    /// The accepting department verifies a registration (已核实): its commitment is
    /// recorded as kept, with how it was verified.
    pub fn verify_registration(
        &self,
        caller: &Caller,
        record_id: i64,
        req: &StepRequest,
        channel: &str,
    ) -> Result<RegistrationView> {
        if !caller.is_signed_in() {
            return Err(AppError::Unauthenticated);
        }
        let c = self.registration_commitment(record_id)?;
        let commitment = self.fulfil_commitment(caller, c.record_id, req, channel)?;
        self.registration_view(record_id, commitment)
    }

    /// The accepting department finds a registration false (经核实不实): its commitment
    /// is broken (a breach record follows through intake) and the registration revoked.
    pub fn refute_registration(
        &self,
        caller: &Caller,
        record_id: i64,
        req: &StepRequest,
        channel: &str,
    ) -> Result<RegistrationView> {
        if !caller.is_signed_in() {
            return Err(AppError::Unauthenticated);
        }
        let c = self.registration_commitment(record_id)?;
        let commitment = self.breach_commitment(caller, c.record_id, req, channel)?;
        let revoke = AmendRequest {
            reason: format!("自愿注册信息经核实不实：{}", req.text.trim()),
            document: c.number.clone(),
            fields: None,
        };
        self.amend_record(caller, record_id, &revoke, channel)?;
        self.registration_view(record_id, commitment)
    }

    fn registration_view(&self, record_id: i64, commitment: CommitmentView) -> Result<RegistrationView> {
        let c = self.registration_commitment(record_id)?;
        let declaration = Declaration::of(&c, self.clock_day());
        Ok(RegistrationView { record_id, number: c.number, declaration, commitment })
    }
}
