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
