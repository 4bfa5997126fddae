//! The figures a credit centre is judged by (000 五, 004 #20): per department — records
//! sent, decided-to-intake within 7 working days, refused, objections upheld, checks
//! made and their feedback, repairs decided on time — and per division and industry —
//! the grade distribution, list entries in force, inspections done. Each figure comes
//! from the use case that owns it (the data-quality report, the check statistics, the
//! due-process cases, the grade book); an officer sees its own department's row.

use std::collections::BTreeMap;

use serde::Serialize;
use xinyong_core::case::{CaseKind, CaseState, Outcome};
use xinyong_core::record::date_string;
use xinyong_store::CaseFilter;

use crate::access::{Action, Caller, Scope, permit};
use crate::grading::AreaFigures;
use crate::quality::QualityQuery;
use crate::{App, Result, today_shanghai};

/// One department's figures.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DepartmentRow {
    pub department: String,
    /// Records accepted or corrected (in the batches the quality report covers).
    pub records_sent: u64,
    /// Rows refused into the quarantine.
    pub refused: u64,
    /// Records whose intake came within the deadline after the decision (7 working days).
    pub on_time: u64,
    pub late: u64,
    /// ‰ of the records with a known decision date that came in time.
    pub on_time_permille: Option<u32>,
    pub objections_decided: u64,
    /// Objections decided 成立 or 部分成立 (the department's record was wrong).
    pub objections_upheld: u64,
    pub repairs_decided: u64,
    /// Repairs decided on or before their due date.
    pub repairs_on_time: u64,
    pub checks: u64,
    pub checks_with_feedback: u64,
    /// ‰ of checks the department gave feedback on.
    pub feedback_permille: Option<u32>,
}

/// The centre's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CentreFigures {
    #[schema(format = Date)]
    pub as_of: String,
    /// The model the areas' grade distributions use, and its band letters.
    pub model: String,
    pub bands: Vec<String>,
    pub departments: Vec<DepartmentRow>,
    pub divisions: Vec<AreaFigures>,
    pub industries: Vec<AreaFigures>,
}

fn permille(part: u64, whole: u64) -> Option<u32> {
    (whole > 0).then(|| u32::try_from(part * 1000 / whole).unwrap_or(1000))
}

impl App {
    /// The centre's figures: departments and the centre (an officer's row only).
    pub fn centre_figures(&self, caller: &Caller) -> Result<CentreFigures> {
        let own = match permit(caller, Action::GradeFigures)? {
            Scope::Department(d) => Some(d),
            _ => None,
        };
        let mut rows: BTreeMap<String, DepartmentRow> = BTreeMap::new();
        fn row<'a>(rows: &'a mut BTreeMap<String, DepartmentRow>, d: &str) -> &'a mut DepartmentRow {
            rows.entry(d.to_string())
                .or_insert_with(|| DepartmentRow { department: d.to_string(), ..DepartmentRow::default() })
        }
        let quality = self.quality(caller, &QualityQuery { provider: own.clone(), batch: None, limit: Some(1000) })?;
        for p in &quality.providers {
            let r = row(&mut rows, &p.provider);
            r.records_sent = p.figures.accepted + p.figures.corrected;
            r.refused = p.figures.quarantined;
            r.on_time = p.figures.timeliness.on_time;
            r.late = p.figures.timeliness.late;
        }
        for f in self.check_stats(caller)? {
            let r = row(&mut rows, &f.stats.department);
            r.checks = f.stats.checks;
            r.checks_with_feedback = f.stats.with_feedback;
        }
        let filter = CaseFilter { department: own.clone(), limit: 1_000_000, ..CaseFilter::default() };
        for c in self.db().read(|s| Ok(s.cases(&filter)?))? {
            if c.state != CaseState::Decided {
                continue;
            }
            let r = row(&mut rows, &c.department);
            match c.kind {
                CaseKind::Objection => {
                    r.objections_decided += 1;
                    if matches!(c.outcome, Some(Outcome::Upheld | Outcome::PartlyUpheld)) {
                        r.objections_upheld += 1;
                    }
                }
                CaseKind::Repair => {
                    r.repairs_decided += 1;
                    if c.decided_on.is_some_and(|d| d <= c.due) {
                        r.repairs_on_time += 1;
                    }
                }
                _ => {}
            }
        }
        let departments = rows
            .into_values()
            .filter(|r| own.as_ref().is_none_or(|d| &r.department == d))
            .map(|mut r| {
                r.on_time_permille = permille(r.on_time, r.on_time + r.late);
                r.feedback_permille = permille(r.checks_with_feedback, r.checks);
                r
            })
            .collect();
        let models = self.grading_models()?;
        let model = models.models.first().ok_or_else(|| crate::AppError::Internal("no grading model".into()))?;
        let book = self.todays_book()?;
        Ok(CentreFigures {
            as_of: date_string(today_shanghai()),
            model: model.code.clone(),
            bands: model.bands.iter().map(|b| b.letter.clone()).collect(),
            departments,
            divisions: book.areas(model, 0, false),
            industries: book.areas(model, 0, true),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn permille_rounds_down_and_needs_a_whole() {
        assert_eq!(super::permille(2, 3), Some(666));
        assert_eq!(super::permille(0, 0), None);
        assert_eq!(super::permille(5, 5), Some(1000));
    }
}
