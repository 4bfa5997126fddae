//! Inspection plans (双随机、一公开): a department commits a plan — the population it
//! draws from (filtered by division, industry and the model's coverage, each subject
//! with its grade), the inspector roster, the ratio per grade — as a ledger event
//! carrying the hashes of population and roster; later it draws, seeded from the
//! latest signed ledger head (signed after the commitment), and the draw's digest is a
//! ledger event too; results become `admin_inspection` records through intake, so they
//! feed the grades. Everything is published, and [`replay`] recomputes a draw from the
//! published plan alone (`xinyong inspections replay`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xinyong_core::event::{EventBody, EventKind, Provenance};
use xinyong_core::inspection::{self, ALGORITHM, Candidate, Draw, DrawRules, Inspector};
use xinyong_core::record::date_string;
use xinyong_ledger::LedgerVerifier;
use xinyong_store::{Outcome, PlanRow};

use crate::access::{Caller, acting_department};
use crate::{App, AppError, Result, now_ms, today_shanghai};

/// The catalog item inspection results become.
const RESULT_ITEM: &str = "admin_inspection";

/// A plan as a department asks for it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PlanRequest {
    /// 检查计划名称.
    pub name: String,
    /// 检查事项.
    pub items: Vec<String>,
    /// The grading model whose grades the ratios follow (default `samr_risk`).
    pub model: Option<String>,
    /// Division code prefixes of the population (e.g. `110105`); empty: every division.
    #[serde(default)]
    pub divisions: Vec<String>,
    /// GB/T 4754 section letters of the population; empty: every industry.
    #[serde(default)]
    pub industries: Vec<String>,
    /// Grade letter (or `*`) → per mille drawn.
    pub ratios_permille: BTreeMap<String, u32>,
    /// At least 2 (default 2).
    pub inspectors_per_target: Option<u32>,
    pub roster: Vec<Inspector>,
    /// The inspecting department's unified social credit code (检查实施机关统一社会信用代码).
    pub department_code: String,
    /// The centre names the department; an officer's is its own.
    pub department: Option<String>,
}

/// A draw as published: the head it was seeded from, the draw and its digest.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanDraw {
    /// The signed ledger head the seed comes from (signed after the plan's commitment).
    pub head_size: u64,
    pub head_checkpoint: String,
    pub draw: Draw,
    pub digest: String,
    #[schema(format = Date)]
    pub drawn_on: String,
    pub drawn_event: u64,
}

/// A target's result, recorded as an `admin_inspection` record.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanResult {
    pub code: String,
    /// 检查结果.
    pub result: String,
    #[schema(format = Date)]
    pub on: String,
    pub record_id: i64,
}

/// An inspection plan, published whole.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub department: String,
    pub department_code: String,
    pub items: Vec<String>,
    pub model: String,
    pub divisions: Vec<String>,
    pub industries: Vec<String>,
    pub rules: DrawRules,
    pub roster: Vec<Inspector>,
    /// The population drawn from (检查对象名录), committed before the draw.
    pub population: Vec<Candidate>,
    pub population_hash: String,
    pub roster_hash: String,
    pub algorithm: String,
    #[schema(format = Date)]
    pub created_on: String,
    /// The `inspection.planned` event carrying the hashes.
    pub committed_event: u64,
    pub draw: Option<PlanDraw>,
    pub results: Vec<PlanResult>,
    /// The platform's verification key (signed-note verifier text), to check the head.
    pub verifier_key: String,
}

/// A plan without its population and roster lists (the list of plans).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanSummary {
    pub id: String,
    pub name: String,
    pub department: String,
    #[schema(format = Date)]
    pub created_on: String,
    pub population: usize,
    pub drawn: Option<usize>,
    pub results: usize,
}

/// A result as a department records it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ResultRequest {
    /// The target's code.
    pub code: String,
    /// 检查结果: one of the catalog's values (未发现问题, 发现问题已责令改正 …).
    pub result: String,
    /// 检查日期 (default today).
    #[schema(format = Date)]
    pub on: Option<String>,
    /// 备注.
    pub note: Option<String>,
}

/// What a replay found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplayReport {
    pub plan: String,
    /// Every check passed and the recomputed draw is the published one.
    pub matches: bool,
    pub population_hash_ok: bool,
    pub roster_hash_ok: bool,
    /// The head's signature verifies with the key.
    pub head_signature_ok: bool,
    /// The head was signed after the plan's commitment (its size is past the event).
    pub head_after_commitment: bool,
    /// The draw recomputed from the published data has the published digest.
    pub draw_ok: bool,
    /// The recomputed digest.
    pub digest: Option<String>,
    pub problems: Vec<String>,
}

/// Recomputes a published plan's draw from the plan alone (and the platform's key):
/// the commitments, the head's signature and place, then the draw itself.
pub fn replay(plan: &Plan, verifier: &LedgerVerifier) -> ReplayReport {
    let mut problems = Vec::new();
    let population_hash_ok = inspection::population_hash(&plan.population) == plan.population_hash;
    if !population_hash_ok {
        problems.push("检查对象名录与承诺的哈希不符 / the population does not match its committed hash".into());
    }
    let roster_hash_ok = inspection::roster_hash(&plan.roster) == plan.roster_hash;
    if !roster_hash_ok {
        problems.push("检查人员名录与承诺的哈希不符 / the roster does not match its committed hash".into());
    }
    let (mut head_signature_ok, mut head_after_commitment, mut draw_ok, mut digest) = (false, false, false, None);
    match &plan.draw {
        None => problems.push("尚未抽取 / not drawn yet".into()),
        Some(d) => {
            match verifier.verify(&d.head_checkpoint) {
                Ok(head) => {
                    head_signature_ok = true;
                    if head.size != d.head_size {
                        problems.push("账本头的规模与公布的不同 / the head's size is not the one published".into());
                    }
                    head_after_commitment = head.size > plan.committed_event;
                }
                Err(e) => problems.push(format!("账本头签名无效 / the head's signature does not verify: {e}")),
            }
            if !head_after_commitment {
                problems.push("账本头不晚于计划承诺 / the head was not signed after the plan's commitment".into());
            }
            let again = inspection::draw(
                inspection::seed(&plan.id, &d.head_checkpoint),
                &plan.population,
                &plan.roster,
                &plan.rules,
            );
            let recomputed = again.digest();
            draw_ok = recomputed == d.digest && again == d.draw;
            if !draw_ok {
                problems.push("重新抽取的结果与公布的不同 / the draw recomputed differs from the published one".into());
            }
            digest = Some(recomputed);
        }
    }
    ReplayReport {
        plan: plan.id.clone(),
        matches: problems.is_empty(),
        population_hash_ok,
        roster_hash_ok,
        head_signature_ok,
        head_after_commitment,
        draw_ok,
        digest,
        problems,
    }
}

/// [`replay`] with the platform's verification key as published (signed-note verifier
/// text): an outsider's replay, with nothing but the plan and the key.
pub fn replay_with_key(plan: &Plan, key_text: &str) -> Result<ReplayReport> {
    let verifier = LedgerVerifier::from_text(key_text.trim()).map_err(|e| {
        AppError::invalid("verifier_key", format!("验证密钥无效：{e}"), format!("invalid verification key: {e}"))
    })?;
    Ok(replay(plan, &verifier))
}

fn provenance(department: &str, channel: &str) -> Provenance {
    let at = now_ms();
    Provenance {
        at,
        batch: format!("inspection-{at}"),
        provider: department.to_string(),
        source: channel.to_string(),
        row: None,
    }
}

/// A stored plan: the events that committed and drew it are the row's first and last
/// (results write no event), so the document need not be written twice to name them.
fn decode(row: &PlanRow) -> Result<Plan> {
    let mut plan: Plan =
        serde_json::from_str(&row.doc).map_err(|e| AppError::Internal(format!("plan {}: {e}", row.id)))?;
    plan.committed_event = row.first_event;
    if let Some(d) = plan.draw.as_mut() {
        d.drawn_event = row.last_event;
    }
    Ok(plan)
}

fn encode(plan: &Plan) -> Result<String> {
    serde_json::to_string(plan).map_err(|e| AppError::Internal(e.to_string()))
}

fn facts(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

impl App {
    /// Commits a plan: the population and roster hashed into an `inspection.planned`
    /// event before any draw. An officer's own department, or the one the centre names.
    pub fn create_plan(&self, caller: &Caller, req: &PlanRequest, channel: &str) -> Result<Plan> {
        let department = acting_department(caller, req.department.as_deref())?;
        let bad = |zh: &str, en: &str| AppError::invalid("plan_invalid", zh, en);
        if req.name.trim().is_empty() || req.items.iter().all(|i| i.trim().is_empty()) {
            return Err(bad("须填写计划名称和检查事项", "a plan needs a name and inspection items"));
        }
        let model_code = req.model.clone().unwrap_or_else(|| "samr_risk".to_string());
        let model = self.grading_models()?.model(&model_code).ok_or_else(|| {
            bad(&format!("未知评价模型 {model_code}"), &format!("unknown grading model {model_code:?}"))
        })?;
        let rules = DrawRules {
            ratios_permille: req.ratios_permille.clone(),
            inspectors_per_target: req.inspectors_per_target.unwrap_or(2),
        };
        if let Some(g) = rules.ratios_permille.keys().find(|g| *g != "*" && model.rank(g) == usize::MAX) {
            return Err(bad(
                &format!("模型 {model_code} 没有等级 {g}"),
                &format!("model {model_code} has no grade {g:?}"),
            ));
        }
        inspection::check_rules(&rules, &req.roster).map_err(|e| {
            let (zh, en) = e.split_once(" / ").unwrap_or((e.as_str(), e.as_str()));
            bad(zh, en)
        })?;
        if xinyong_core::Uscc::parse(req.department_code.trim()).is_err() {
            return Err(bad(
                "检查实施机关统一社会信用代码无效",
                "the department's unified social credit code is invalid",
            ));
        }
        let model_index = self.grading_models()?.models.iter().position(|m| m.code == model.code).unwrap_or(0);
        let book = self.todays_book()?;
        // the population: every subject of the divisions and industries the model covers
        let mut population = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.db().read(|s| Ok(s.subjects_after(&after, 20_000)?))?;
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            for s in page {
                let division = s.division.clone().unwrap_or_default();
                let industry = s.industry.as_deref();
                let in_divisions =
                    req.divisions.is_empty() || req.divisions.iter().any(|d| division.starts_with(d.trim()));
                let in_industries = req.industries.is_empty()
                    || industry.is_some_and(|i| req.industries.iter().any(|x| i.starts_with(x.trim())));
                if in_divisions && in_industries && model.covers(&s.kind, industry) {
                    let grade = book.grade(model, model_index, &s.code).map(|(l, _)| l);
                    population.push(Candidate { code: s.code, division, grade });
                }
            }
        }
        let today = today_shanghai();
        let id = format!("JC-{}-{:06}", date_string(today).replace('-', ""), rand::random::<u32>() % 1_000_000);
        let mut plan = Plan {
            id: id.clone(),
            name: req.name.trim().to_string(),
            department: department.clone(),
            department_code: req.department_code.trim().to_string(),
            items: req.items.iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect(),
            model: model.code.clone(),
            divisions: req.divisions.clone(),
            industries: req.industries.clone(),
            population_hash: inspection::population_hash(&population),
            roster_hash: inspection::roster_hash(&req.roster),
            rules,
            roster: req.roster.clone(),
            population,
            algorithm: ALGORITHM.to_string(),
            created_on: date_string(today),
            committed_event: 0,
            draw: None,
            results: Vec::new(),
            verifier_key: self.verifier().to_text(),
        };
        let body = EventBody::inspection(
            EventKind::InspectionPlanned,
            &id,
            facts(&[
                ("计划名称", plan.name.clone()),
                ("algorithm", ALGORITHM.to_string()),
                ("model", format!("{} {}", model.code, model.version)),
                ("population_hash", plan.population_hash.clone()),
                ("population_size", plan.population.len().to_string()),
                ("roster_hash", plan.roster_hash.clone()),
                ("rules", serde_json::to_string(&plan.rules).unwrap_or_default()),
            ]),
            &provenance(&department, channel),
        );
        let doc = encode(&plan)?;
        let (idx, _) =
            self.db().write(|s| Ok(s.put_plan(&id, &department, &doc, None, Some(&body), self.key(), now_ms())?))?;
        plan.committed_event = idx.unwrap_or_default();
        self.after_write();
        Ok(plan)
    }

    fn stored_plan(&self, id: &str) -> Result<(Plan, PlanRow)> {
        let row = self
            .db()
            .read(|s| Ok(s.plan(id)?))?
            .ok_or_else(|| AppError::NotFound(format!("检查计划 {id} / inspection plan {id}")))?;
        Ok((decode(&row)?, row))
    }

    /// A plan as published (anyone).
    pub fn plan(&self, id: &str) -> Result<Plan> {
        Ok(self.stored_plan(id)?.0)
    }

    /// Every plan, newest first (anyone).
    pub fn plans(&self) -> Result<Vec<PlanSummary>> {
        let rows = self.db().read(|s| Ok(s.plans()?))?;
        rows.iter()
            .map(|r| {
                let p = decode(r)?;
                Ok(PlanSummary {
                    id: p.id,
                    name: p.name,
                    department: p.department,
                    created_on: p.created_on,
                    population: p.population.len(),
                    drawn: p.draw.as_ref().map(|d| d.draw.targets.len()),
                    results: p.results.len(),
                })
            })
            .collect()
    }

    /// Draws a committed plan, seeded from the latest signed head (signed after the
    /// commitment): the plan's department.
    pub fn draw_plan(&self, caller: &Caller, id: &str, channel: &str) -> Result<Plan> {
        if !caller.is_signed_in() {
            return Err(AppError::Unauthenticated);
        }
        let (mut plan, row) = self.stored_plan(id)?;
        acting_department(caller, Some(&plan.department))?;
        if plan.draw.is_some() {
            return Err(AppError::invalid(
                "plan_drawn",
                "该计划已抽取，不能重抽",
                "the plan is drawn already: no second draw",
            ));
        }
        let head = self
            .db()
            .read(|s| Ok(s.latest_head()?))?
            .ok_or_else(|| AppError::Internal("no signed head to seed the draw".into()))?;
        if head.head.size <= plan.committed_event {
            return Err(AppError::Internal("the latest head precedes the plan's commitment".into()));
        }
        let draw =
            inspection::draw(inspection::seed(&plan.id, &head.checkpoint), &plan.population, &plan.roster, &plan.rules);
        let digest = draw.digest();
        let body = EventBody::inspection(
            EventKind::InspectionDrawn,
            &plan.id,
            facts(&[
                ("head_size", head.head.size.to_string()),
                ("seed", draw.seed.clone()),
                ("digest", digest.clone()),
                ("targets", draw.targets.len().to_string()),
            ]),
            &provenance(&plan.department, channel),
        );
        plan.draw = Some(PlanDraw {
            head_size: head.head.size,
            head_checkpoint: head.checkpoint.clone(),
            draw,
            digest,
            drawn_on: date_string(today_shanghai()),
            drawn_event: 0,
        });
        // the event's index is known once written: the document names it in a second write
        let doc = encode(&plan)?;
        let (department, last) = (plan.department.clone(), row.last_event);
        let (idx, _) = self
            .db()
            .write(|s| Ok(s.put_plan(id, &department, &doc, Some(last), Some(&body), self.key(), now_ms())?))?;
        if let (Some(d), Some(i)) = (plan.draw.as_mut(), idx) {
            d.drawn_event = i;
        }
        self.after_write();
        Ok(plan)
    }

    /// Records a drawn target's result as an `admin_inspection` record (the plan's
    /// department): it feeds the grades and is published like any record.
    pub fn record_plan_result(&self, caller: &Caller, id: &str, req: &ResultRequest, channel: &str) -> Result<Plan> {
        if !caller.is_signed_in() {
            return Err(AppError::Unauthenticated);
        }
        let (mut plan, row) = self.stored_plan(id)?;
        acting_department(caller, Some(&plan.department))?;
        let code = crate::parse_code(&req.code)?;
        let Some(drawn) = plan.draw.as_ref() else {
            return Err(AppError::invalid("plan_not_drawn", "计划尚未抽取", "the plan is not drawn yet"));
        };
        if !drawn.draw.targets.iter().any(|t| t.code == code.key()) {
            return Err(AppError::invalid(
                "not_a_target",
                "该主体不是本计划抽中的检查对象",
                "the subject was not drawn by this plan",
            ));
        }
        let on = match req.on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => crate::parse_day("on", d)?,
            None => today_shanghai(),
        };
        let name = self.db().read(|s| Ok(s.subject(code.key())?.map(|r| r.name)))?.unwrap_or_default();
        let mut values: BTreeMap<String, String> = [
            ("行政相对人名称", name),
            ("行政相对人类别", "法人及非法人组织".to_string()),
            ("统一社会信用代码", code.key().to_string()),
            ("检查任务编号", plan.id.clone()),
            ("检查任务名称", plan.name.clone()),
            ("检查类型", "双随机抽查".to_string()),
            ("检查方式", "现场检查".to_string()),
            ("检查事项", plan.items.join("；")),
            ("检查结果", req.result.trim().to_string()),
            ("检查日期", date_string(on)),
            ("检查实施机关", plan.department.clone()),
            ("检查实施机关统一社会信用代码", plan.department_code.clone()),
            ("数据来源单位", plan.department.clone()),
            ("数据来源单位统一社会信用代码", plan.department_code.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if let Some(n) = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            values.insert("备注".to_string(), n.to_string());
        }
        let out = crate::intake::ingest_rows(
            self,
            RESULT_ITEM,
            &plan.department,
            &format!("inspection:{}:{channel}", plan.id),
            &[values],
        )?;
        let record_id = match out.rows.first().map(|r| (&r.outcome, &r.errors)) {
            Some((Outcome::Accepted { record_id, .. } | Outcome::Corrected { record_id, .. }, _)) => *record_id,
            Some((Outcome::Duplicate { record_id }, _)) => *record_id,
            Some((Outcome::Quarantined { .. }, errors)) => return Err(AppError::fields("result_invalid", errors)),
            None => return Err(AppError::Internal("intake returned no row".into())),
        };
        plan.results.retain(|r| r.code != code.key());
        plan.results.push(PlanResult {
            code: code.key().to_string(),
            result: req.result.trim().to_string(),
            on: date_string(on),
            record_id,
        });
        plan.results.sort_by(|a, b| a.code.cmp(&b.code));
        let doc = encode(&plan)?;
        let department = plan.department.clone();
        self.db()
            .write(|s| Ok(s.put_plan(id, &department, &doc, Some(row.last_event), None, self.key(), now_ms())?))?;
        Ok(plan)
    }

    /// Replays a stored plan's draw (see [`replay`]) with this platform's key, and checks
    /// the published hashes against the ledger event that committed them.
    pub fn replay_plan(&self, id: &str) -> Result<ReplayReport> {
        let plan = self.plan(id)?;
        let mut report = replay(&plan, &self.verifier());
        let committed = crate::ledger::proof(self, plan.committed_event)?.event;
        let fields = committed.as_ref().map(|e| e["fields"].clone()).unwrap_or_default();
        let ledger_agrees = fields["population_hash"] == plan.population_hash.as_str()
            && fields["roster_hash"] == plan.roster_hash.as_str()
            && committed.as_ref().is_some_and(|e| e["key"] == plan.id.as_str());
        if !ledger_agrees {
            report.matches = false;
            report
                .problems
                .push("账本中的计划承诺与公布的不同 / the ledger's commitment differs from the published plan".into());
        }
        Ok(report)
    }
}
