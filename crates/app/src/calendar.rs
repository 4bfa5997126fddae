//! The working-day calendar a deployment counts with: the bundled official years plus
//! the years an administrator added from the State Council's notice
//! (`xinyong calendar add-year`). Past the last year, clocks are provisional (see
//! `core::calendar`); adding the year recomputes every open provisional deadline.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use xinyong_core::calendar::WorkCalendar;
use xinyong_core::case::{self, CaseState};
use xinyong_core::event::{EventBody, EventKind};
use xinyong_store::{CaseFilter, CaseStep, Change, Effect};

use crate::access::{Action, Caller, permit};
use crate::{App, AppError, Result, now_ms};

const DIR: &str = "calendar";

/// The official calendar with the years added in `dir/calendar/<year>.toml`, in order.
pub(crate) fn load(dir: &Path) -> Result<WorkCalendar> {
    let mut cal = WorkCalendar::official().clone();
    loop {
        let next = cal.years().1 + 1;
        let path = dir.join(DIR).join(format!("{next}.toml"));
        if !path.exists() {
            return Ok(cal);
        }
        let text = std::fs::read_to_string(&path)?;
        cal = cal
            .with_year(&text)
            .map_err(|e| AppError::input(format!("{}：{e}", path.display()), format!("{}: {e}", path.display())))?;
    }
}

/// What adding a year did.
#[derive(Debug, Clone, Serialize)]
pub struct YearAdded {
    pub year: i32,
    pub ledger_index: u64,
    /// Open cases whose provisional deadline was recomputed.
    pub rescheduled: Vec<i64>,
}

impl App {
    /// The calendar clocks count on.
    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.inner.calendar.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Adds the next year's official notice (validated), as a ledger event, and
    /// recomputes every open deadline that was provisional.
    pub fn add_calendar_year(&self, caller: &Caller, text: &str) -> Result<YearAdded> {
        permit(caller, Action::Operate)?;
        let current = self.calendar();
        let next = current.with_year(text).map_err(|e| {
            AppError::invalid("calendar_year", format!("工作日历无效：{e}"), format!("invalid calendar year: {e}"))
        })?;
        let year = next.years().1;
        let dir = self.dir().join(DIR);
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{year}.toml.tmp"));
        std::fs::write(&tmp, text)?;
        let at = now_ms();
        let p = xinyong_core::event::Provenance {
            at,
            batch: format!("calendar-{at}"),
            provider: "信用中心".into(),
            source: "calendar add-year".into(),
            row: None,
        };
        let mut body = EventBody::subject_created("", "", "", &p);
        body.kind = EventKind::CalendarYearAdded;
        body.subject_kind = None;
        body.name = None;
        body.key = Some(year.to_string());
        body.fields = Some([("toml".to_string(), text.to_string())].into_iter().collect());
        let change = Change { effects: vec![Effect::Event { body: Box::new(body) }], ..Change::default() };
        let done = self.db().write(|s| Ok(s.apply_change(&change, &p, self.key(), at)?))?;
        std::fs::rename(&tmp, dir.join(format!("{year}.toml")))?;
        *self.inner.calendar.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        let rescheduled = self.reschedule_provisional()?;
        Ok(YearAdded { year, ledger_index: done.events.first().copied().unwrap_or_default(), rescheduled })
    }

    /// Recomputes the open cases whose deadline was provisional, each as a ledger step.
    fn reschedule_provisional(&self) -> Result<Vec<i64>> {
        let cal = self.calendar();
        let rules = xinyong_core::case::DueProcessRules::bundled();
        let open = self.db().read(|s| {
            Ok(s.cases(&CaseFilter {
                state: Some(CaseState::Open.as_str().into()),
                limit: 100_000,
                ..CaseFilter::default()
            })?)
        })?;
        let mut done = Vec::new();
        for c in open.into_iter().filter(|c| c.due_provisional) {
            let Some(set) = rules.rule_set(Some(&c.rule_set)) else { continue };
            let next = case::recompute_due(&c, set, &cal).map_err(|e| AppError::Internal(e.to_string()))?;
            if next == c {
                continue;
            }
            let at = now_ms();
            let p = xinyong_core::event::Provenance {
                at,
                batch: format!("calendar-{at}"),
                provider: c.department.clone(),
                source: "calendar add-year".into(),
                row: None,
            };
            let step = CaseStep { case: next, kind: EventKind::CaseRescheduled, query_hash: None };
            let change = Change { case: Some(step), ..Change::default() };
            self.db().write(|s| Ok(s.apply_change(&change, &p, self.key(), at)?))?;
            done.push(c.id);
        }
        self.after_write();
        Ok(done)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::date;
    use xinyong_core::case::{self, CaseKind, DueProcessRules, Filing, Target};
    use xinyong_core::event::{EventKind, Provenance};
    use xinyong_store::{CaseStep, Change};

    use crate::{App, Caller};

    /// The case: a clock started in mid-December runs into a year the bundled
    /// calendar does not cover; it is provisional until the year's notice is added, then
    /// recomputed (a ledger step), and the added year survives a restart.
    #[test]
    fn a_provisional_deadline_is_recomputed_when_the_year_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(dir.path()).unwrap();
        let code = "91110108551385082Q";
        let rows = vec![
            [
                ("主体名称", "北京测试科技有限公司"),
                ("统一社会信用代码", code),
                ("荣誉名称", "守合同重信用企业"),
                ("荣誉等级", "市级"),
                ("授予日期", "2024-05-06"),
                ("授予机关", "北京市市场监督管理局"),
                ("表彰决定文号", "京发〔2024〕1号"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ];
        crate::intake::ingest_rows(&app, "honour", "北京市市场监督管理局", "test", &rows).unwrap();
        let rules = DueProcessRules::bundled();
        let set = rules.rule_set(Some("national-2025")).unwrap();
        let filed = date!(2026 - 12 - 18);
        let filing = Filing {
            kind: CaseKind::Objection,
            subject: code.into(),
            target: Target::Record { id: 1, item: "honour".into() },
            department: "北京市市场监督管理局".into(),
            applicant: "北京测试科技有限公司".into(),
            contact: String::new(),
            text: "有误".into(),
            attachments: vec![],
            filed_on: filed,
        };
        let c = case::file_objection(set, &app.calendar(), filing, filed).unwrap();
        // 10 working days from Friday 2026-12-18 by the statutory rule: 2027-01-04
        assert!(c.due_provisional && c.due == date!(2027 - 01 - 04), "{c:?}");
        let p = Provenance { at: 1, batch: "t".into(), provider: c.department.clone(), source: "t".into(), row: None };
        let step = CaseStep { case: c, kind: EventKind::CaseFiled, query_hash: None };
        let stored = app
            .db()
            .write(|s| Ok(s.apply_change(&Change { case: Some(step), ..Change::default() }, &p, app.key(), 1)?))
            .unwrap()
            .case
            .unwrap();

        // the notice for 2027 (as it might read): 1–3 Jan off, Saturday 9 Jan worked
        let text = "first_year = 2027\nlast_year = 2027\n\
            [[holiday]]\ndate = 2027-01-01\nname = \"元旦\"\n[[holiday]]\ndate = 2027-01-04\nname = \"元旦\"\n\
            [[holiday]]\ndate = 2027-02-06\nname = \"春节\"\n[[adjusted_workday]]\ndate = 2027-01-09\n";
        assert!(app.add_calendar_year(&Caller::public(), text).is_err(), "the centre only");
        let added = app.add_calendar_year(&Caller::operator(), text).unwrap();
        assert_eq!((added.year, added.rescheduled.clone()), (2027, vec![stored.id]));
        let (now, _) = app.db().read(|s| Ok(s.case(stored.id)?)).unwrap().unwrap();
        // 2027-01-04 is a holiday in the notice: the tenth working day is the 5th
        assert_eq!((now.due, now.due_provisional), (date!(2027 - 01 - 05), false), "{now:?}");
        assert!(now.last_event > stored.last_event, "the recomputation is a ledger step");
        // the year is the deployment's from now on
        drop(app);
        let again = App::open(dir.path()).unwrap();
        assert_eq!(again.calendar().years(), (2019, 2027));
        assert!(again.add_calendar_year(&Caller::operator(), text).is_err(), "the same year twice");
    }
}
