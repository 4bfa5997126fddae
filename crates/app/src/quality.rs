//! The data quality report (数据质量, 重错码率): per providing department and per intake
//! batch, how many rows came in, what intake did with them, why rows were refused, the
//! rate of duplicate or wrong codes, and how late decisions reached the platform.
//!
//! Definitions (also in README):
//! - **rows**: non-blank rows received in the batch (a blank spreadsheet line is not a row).
//! - **duplicate** (重码): a row identical to a record already stored (same provider,
//!   item and key fields, same content): intake writes nothing for it.
//! - **wrong code** (错码): a refused row whose subject code breaks a code rule
//!   (`code.*`) or whose document already belongs to another subject's code
//!   (`identity.conflict`); see [`xinyong_store::quality::is_wrong_code`].
//! - **duplicate or wrong codes per thousand** = (duplicates + wrong codes) × 1000 / rows.
//!   The target is below [`TARGET_PER_MILLE`].
//! - **timeliness**: for each record accepted new, the calendar days from its decision
//!   date to the day intake received it (Asia/Shanghai), and whether that day was after
//!   the decision date + [`DEADLINE_WORKDAYS`] working days on the platform's calendar
//!   (`App::calendar`, provisional past its last official year).
//!
//! A batch's figures are what intake did when it received the batch; fixing refused
//! rows later (a resubmission, a corrected upload) is a batch of its own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;
use xinyong_core::calendar::WorkCalendar;
use xinyong_store::quality::{BatchFilter, BatchStats, ReasonCount};

use crate::access::{Action, Caller, Scope, permit};
use crate::{App, Result};

/// The target rate of duplicate or wrong codes, per thousand rows.
pub const TARGET_PER_MILLE: f64 = 1.0;
/// Decisions must reach the platform within this many working days (双公示: 7).
pub const DEADLINE_WORKDAYS: u32 = 7;
/// More calendar days than any span of [`DEADLINE_WORKDAYS`] working days: a decision
/// this old at intake is late whatever the calendar (which may not cover its year).
const SURELY_LATE_DAYS: i64 = 31;

/// Which batches the report covers.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QualityQuery {
    /// One department (the centre; an officer always sees its own).
    pub provider: Option<String>,
    /// One batch.
    pub batch: Option<String>,
    /// Most recent batches listed: 1–1000 (default 200); totals cover the same batches.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Refused rows for one reason, with the reason in words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefusedReason {
    pub field: String,
    pub rule: String,
    pub rows: u64,
    /// The reason naming the field, in Chinese.
    pub zh: String,
    pub en: String,
}

/// When accepted records' decisions reached the platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Timeliness {
    /// Accepted new records with a decision date.
    pub records: u64,
    /// Received within the deadline.
    pub on_time: u64,
    /// Received after decision date + 7 working days.
    pub late: u64,
    /// Neither can be said (a decision before the calendar, received within a month).
    pub undetermined: u64,
    /// Mean calendar days from decision to intake.
    pub mean_days: Option<f64>,
    pub max_days: Option<i64>,
    /// Some deadline past the calendar's official years was counted provisionally.
    pub provisional: bool,
}

/// The figures of a batch, a department or everything.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub rows: u64,
    pub accepted: u64,
    pub corrected: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Of `quarantined`, rows already in quarantine from an earlier batch.
    pub quarantined_known: u64,
    pub wrong_codes: u64,
    /// (duplicates + wrong codes) × 1000 / rows; 0 for no rows.
    pub duplicate_or_wrong_per_mille: f64,
    /// Below the 1‰ target.
    pub meets_target: bool,
    pub refused: Vec<RefusedReason>,
    pub timeliness: Timeliness,
}

/// One intake batch in the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchQuality {
    pub batch: String,
    pub provider: String,
    pub item: String,
    /// The item's Chinese name.
    pub item_name: String,
    pub source: String,
    pub received_ms: i64,
    /// The day intake received it (Asia/Shanghai).
    #[schema(format = Date)]
    pub received_on: String,
    pub figures: Figures,
}

/// One department over the batches in the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderQuality {
    pub provider: String,
    pub batches: u64,
    pub figures: Figures,
}

/// The data quality report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualityReport {
    pub target_per_mille: f64,
    pub deadline_workdays: u32,
    pub total: Figures,
    /// By department name.
    pub providers: Vec<ProviderQuality>,
    /// Most recently received first.
    pub batches: Vec<BatchQuality>,
}

/// A refusal reason in words, naming the field: what the report and the quarantine's
/// downloaded files say for each (field, rule). Unknown rules keep their id.
pub fn reason_text(field: &str, rule: &str) -> (String, String) {
    let (zh, en): (&str, &str) = match rule {
        "required" => ("必填项为空", "required but empty"),
        "date" => ("日期格式错误（应为 YYYY-MM-DD）", "not a valid date (YYYY-MM-DD)"),
        "date.future" => ("决定日期晚于报送日", "decision date in the future"),
        "decimal" => ("不是有效的非负数", "not a valid non-negative number"),
        "integer" => ("不是整数", "not an integer"),
        "enum" => ("取值不在允许范围内", "value not among those allowed"),
        "max_len" => ("超过长度上限", "longer than allowed"),
        "code.length" => ("代码位数错误", "code has the wrong length"),
        "code.character" => ("代码含非法字符", "code contains characters not allowed"),
        "code.authority" => ("代码登记管理部门码错误", "code's registering authority is wrong"),
        "code.division" => ("代码行政区划码错误", "code's administrative division is wrong"),
        "code.org_check" => ("组织机构代码校验位错误", "organisation code check digit is wrong"),
        "code.check_char" => ("代码校验码错误", "code's check character is wrong"),
        "code.id_digits" => ("身份证号码位数或字符错误", "resident ID digits are wrong"),
        "code.id_birth_date" => ("身份证号码出生日期错误", "resident ID birth date is wrong"),
        "code.empty" => ("代码为空", "code is empty"),
        "identity.conflict" => ("同一文书已属于另一主体代码", "document already belongs to another subject's code"),
        "code.format" => ("证件号码格式不符合其证件类型", "document number does not fit its document type"),
        "identity.unregistered" => (
            "所载旧证照号码（注册号、组织机构代码、税务登记号）无已登记主体，请先报送其登记信息",
            "no registered subject carries the old identifier; send its registration first",
        ),
        "identity.ambiguous" => ("所载旧证照号码对应多个主体", "the old identifier belongs to several subjects"),
        "identity.legacy_only" => ("仅有旧证照号码，未能确定主体", "only an old identifier, no subject found"),
        "document.pair" => ("证件类型与证件号码须同时填写", "document type and number go together"),
        "columns" => ("列数多于表头", "more cells than header columns"),
        "encoding" => ("含有非法编码字节", "bytes not valid in the file's encoding"),
        "csv.unclosed_quote" => {
            ("引号未闭合，其后各行被并入同一单元格", "unclosed quote: the following lines were folded into one cell")
        }
        "json" => ("不是 JSON 对象", "not a JSON object"),
        "json.type" => ("值应为文本或数字", "value must be text or a number"),
        "unknown_field" => ("含有目录外字段", "field not in the catalog"),
        other => (other, other),
    };
    if field.is_empty() {
        (zh.to_string(), en.to_string())
    } else {
        (format!("“{field}”{zh}"), format!("{field}: {en}"))
    }
}

fn refused_reasons(r: &[ReasonCount]) -> Vec<RefusedReason> {
    r.iter()
        .map(|r| {
            let (zh, en) = reason_text(&r.field, &r.rule);
            RefusedReason { field: r.field.clone(), rule: r.rule.clone(), rows: r.rows, zh, en }
        })
        .collect()
}

/// The day a time in ms falls on in Asia/Shanghai.
pub fn shanghai_day(ms: i64) -> Date {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.to_offset(offset).date())
        .unwrap_or(Date::MIN)
}

/// Timeliness of the records accepted on `received`, by decision date (`YYYY-MM-DD`
/// → records): late when received after decision + [`DEADLINE_WORKDAYS`] working days.
pub fn timeliness(calendar: &WorkCalendar, received: Date, decided: &BTreeMap<String, u64>) -> Timeliness {
    let mut t = Timeliness::default();
    let mut total_days: i64 = 0;
    let mut dated = 0u64;
    for (day, &n) in decided {
        let Ok(d) = Date::parse(day, time::macros::format_description!("[year]-[month]-[day]")) else {
            t.records += n;
            t.undetermined += n;
            continue;
        };
        let days = (received - d).whole_days();
        t.records += n;
        dated += n;
        total_days += days * n as i64;
        t.max_days = Some(t.max_days.map_or(days, |m| m.max(days)));
        match calendar.deadline(d, DEADLINE_WORKDAYS) {
            Ok(due) => {
                t.provisional |= due.provisional;
                if received > due.date {
                    t.late += n;
                } else {
                    t.on_time += n;
                }
            }
            Err(_) if days > SURELY_LATE_DAYS => t.late += n,
            Err(_) => t.undetermined += n,
        }
    }
    t.mean_days = (dated > 0).then(|| total_days as f64 / dated as f64);
    t
}

/// Sums batches' figures (their timeliness separately: it needs each batch's day).
fn figures(batches: &[(&BatchStats, Timeliness)]) -> Figures {
    let mut f = Figures::default();
    let mut reasons: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut t = Timeliness::default();
    let mut total_days = 0f64;
    for (b, bt) in batches {
        f.rows += b.rows;
        f.accepted += b.accepted;
        f.corrected += b.corrected;
        f.duplicates += b.duplicates;
        f.quarantined += b.quarantined;
        f.quarantined_known += b.quarantined_known;
        f.wrong_codes += b.wrong_code;
        for r in &b.refused {
            *reasons.entry((r.field.clone(), r.rule.clone())).or_default() += r.rows;
        }
        t.records += bt.records;
        t.on_time += bt.on_time;
        t.late += bt.late;
        t.undetermined += bt.undetermined;
        t.provisional |= bt.provisional;
        t.max_days = match (t.max_days, bt.max_days) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(m) = bt.mean_days {
            total_days += m * bt.records as f64;
        }
    }
    if t.max_days.is_some() && t.records > 0 {
        t.mean_days = Some(total_days / t.records as f64);
    }
    f.timeliness = t;
    f.duplicate_or_wrong_per_mille = per_mille(f.duplicates + f.wrong_codes, f.rows);
    f.meets_target = f.duplicate_or_wrong_per_mille < TARGET_PER_MILLE;
    let mut refused: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|((field, rule), rows)| ReasonCount { item: String::new(), field, rule, rows })
        .collect();
    xinyong_store::quality::sort_reasons(&mut refused);
    f.refused = refused_reasons(&refused);
    f
}

fn per_mille(n: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { n as f64 * 1000.0 / of as f64 }
}

impl App {
    /// The data quality report over the most recent batches the caller may see: an
    /// officer its own department's, the centre every department's or the one it names.
    pub fn quality(&self, caller: &Caller, q: &QualityQuery) -> Result<QualityReport> {
        let provider = match permit(caller, Action::QualityReport { department: q.provider.as_deref() })? {
            Scope::Department(d) => Some(d),
            _ => None,
        };
        let filter = BatchFilter {
            provider,
            batch: q.batch.clone().filter(|b| !b.trim().is_empty()),
            limit: crate::page_size(q.limit, 200, 1000)?,
        };
        let stored = self.db().read(|s| Ok(s.intake_batches(&filter)?))?;
        let calendar = self.calendar();
        let timed: Vec<(&BatchStats, Timeliness)> =
            stored.iter().map(|b| (b, timeliness(&calendar, shanghai_day(b.received_ms), &b.decided))).collect();
        let mut by_provider: BTreeMap<&str, Vec<(&BatchStats, Timeliness)>> = BTreeMap::new();
        for (b, t) in &timed {
            by_provider.entry(b.provider.as_str()).or_default().push((b, t.clone()));
        }
        let providers = by_provider
            .into_iter()
            .map(|(p, bs)| ProviderQuality { provider: p.to_string(), batches: bs.len() as u64, figures: figures(&bs) })
            .collect();
        let batches = timed
            .iter()
            .map(|(b, t)| BatchQuality {
                batch: b.batch.clone(),
                provider: b.provider.clone(),
                item: b.item.clone(),
                item_name: self.catalog().item(&b.item).map_or_else(|| b.item.clone(), |i| i.name_zh.clone()),
                source: b.source.clone(),
                received_ms: b.received_ms,
                received_on: xinyong_core::record::date_string(shanghai_day(b.received_ms)),
                figures: figures(&[(*b, t.clone())]),
            })
            .collect();
        Ok(QualityReport {
            target_per_mille: TARGET_PER_MILLE,
            deadline_workdays: DEADLINE_WORKDAYS,
            total: figures(&timed),
            providers,
            batches,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::date;

    fn decided(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(d, n)| (d.to_string(), *n)).collect()
    }

    /// National Day 2024: decided Fri 27 Sep, 7 working days end Sat 12 Oct (a working day).
    #[test]
    fn late_means_after_seven_working_days() {
        let cal = WorkCalendar::official();
        let t = timeliness(cal, date!(2024 - 10 - 12), &decided(&[("2024-09-27", 3)]));
        assert_eq!((t.records, t.on_time, t.late, t.max_days), (3, 3, 0, Some(15)));
        let t = timeliness(cal, date!(2024 - 10 - 14), &decided(&[("2024-09-27", 3), ("2024-10-11", 1)]));
        assert_eq!((t.records, t.on_time, t.late), (4, 1, 3));
        assert_eq!(t.mean_days, Some((17.0 * 3.0 + 3.0) / 4.0));
    }

    #[test]
    fn decisions_before_the_calendar_are_late_when_surely_so() {
        let cal = WorkCalendar::official();
        let t = timeliness(cal, date!(2024 - 01 - 10), &decided(&[("2015-03-01", 2)]));
        assert_eq!((t.late, t.undetermined), (2, 0));
        let t = timeliness(cal, date!(2019 - 01 - 10), &decided(&[("2018-12-28", 1)]));
        assert_eq!((t.late, t.undetermined), (0, 1));
    }

    #[test]
    fn reasons_name_the_field() {
        let (zh, en) = reason_text("统一社会信用代码", "code.check_char");
        assert_eq!(zh, "“统一社会信用代码”代码校验码错误");
        assert_eq!(en, "统一社会信用代码: code's check character is wrong");
        assert_eq!(reason_text("", "some.new_rule").0, "some.new_rule");
    }
}
