//! Grades (信用分级分类): the models of `data/grading/` applied to what the store holds.
//!
//! - One subject: [`App::grades_of`] reads its records in force, list entries and
//!   commitments and grades them with every model that covers it, explained (the
//!   records counted, the arithmetic), with the ledger size it was computed at. Always
//!   fresh: a repaired or revoked record has left the grade the moment it is written.
//! - Every subject: [`App::grade_all`] reads the whole store in one scan
//!   (`Store::scan_for_grading`), sorts what it read by subject and grades each on
//!   every core with the same tally as the single grade. The server keeps the result
//!   (the grade book: distributions, inspection populations by grade); the projector
//!   queues the subjects each change touches for a background regrade, so no write
//!   waits for grading; a large change, or a new day, rebuilds the book instead.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use serde::Serialize;
use time::Date;
use xinyong_core::SubjectCode;
use xinyong_core::catalog::Tier;
use xinyong_core::grading::{
    CommitmentFacts, Facts, Graded, ListingFact, Model, Models, RecordFact, RecordFilter, Tally,
};
use xinyong_core::record::date_string;
use xinyong_store::Store;
use xinyong_store::grading::{GradingListing, GradingPart, GradingRecord, GradingSink};

use crate::access::{Action, Caller, permit};
use crate::view::record_fields;
use crate::{App, AppError, Result, today_shanghai};

/// A change touching at most this many subjects is always regraded one by one; a
/// larger one too while that costs less than grading the whole store again
/// ([`in_place_at_most`]).
const REGRADE_AT_MOST: usize = 2_000;

/// What regrading one subject in place is taken to cost (µs) at least: its facts are
/// read from the store, a few random reads on a cold disk (1 ms at the median on a
/// store of Beijing's size). A regrade measured faster does not lower it: subjects
/// without records (a day's registrations) regrade in 40 µs, and a bound taken from
/// them would let a change of every subject be regraded one by one for an hour.
const REGRADE_MICROS_FLOOR: u64 = 1_000;

/// The most subjects a change may touch and still be regraded one by one: while
/// that takes less time than the last full grading took (a day's files into a store of
/// Beijing's size touch tens of thousands of subjects; grading them one by one takes
/// seconds and little memory, where a full grading reads every record and holds a
/// second book beside the kept one).
fn in_place_at_most(book_millis: u64, micros_per_subject: u64) -> usize {
    let affordable = book_millis.saturating_mul(1_000) / micros_per_subject.max(1);
    usize::try_from(affordable).unwrap_or(usize::MAX).max(REGRADE_AT_MOST)
}

/// A grade with its arithmetic in one line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GradeView {
    #[serde(flatten)]
    pub graded: Graded,
    /// "700 − 40（…）+ 20（…）= 680 → B".
    pub arithmetic: String,
}

/// A subject's grades by every model that covers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectGrades {
    /// The subject's code (a person's masked).
    pub code: String,
    pub name: String,
    #[schema(format = Date)]
    pub as_of: String,
    /// The ledger size the grades were computed at.
    pub ledger_size: u64,
    pub grades: Vec<GradeView>,
}

fn models() -> Result<&'static Models> {
    Models::bundled().map_err(|e| AppError::Internal(format!("data/grading: {e}")))
}

/// Every model's facet fields, item → field (the models agree: checked in tests).
fn facets(models: &Models) -> BTreeMap<String, String> {
    models.models.iter().flat_map(|m| m.facets.iter().map(|(k, v)| (k.clone(), v.clone()))).collect()
}

fn tier_of(t: &str) -> Option<Tier> {
    match t {
        "minor" => Some(Tier::Minor),
        "general" => Some(Tier::General),
        "serious" => Some(Tier::Serious),
        "specially_serious" => Some(Tier::SpeciallySerious),
        _ => None,
    }
}

/// A `YYYY-MM-DD` date, read without allocating (the batch reads ten million).
fn day_of(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(num(0..4)?).ok()?, month, u8::try_from(num(8..10)?).ok()?).ok()
}

/// A listing's span as grading reads it from a bare row (the dates as text).
fn listing_span(
    start: Option<&str>,
    end: Option<&str>,
    removed: Option<&str>,
    kind: Option<&str>,
) -> (Option<Date>, Option<Date>) {
    let start = start.and_then(day_of);
    let removal = kind.and_then(xinyong_core::listing::RemovalKind::parse);
    (start, xinyong_core::listing::effective_end(start, end.and_then(day_of), removed.and_then(day_of), removal))
}

/// How a commitment counts: a registration's kept truthfulness commitment is a
/// verified registration; every other ended one is kept or broken.
fn count_commitment(c: &mut CommitmentFacts, state: &str, registration: bool) {
    match (state, registration) {
        ("fulfilled", true) => c.verified_registrations += 1,
        ("fulfilled", false) => c.fulfilled += 1,
        ("breached", _) => c.breached += 1,
        _ => {}
    }
}

fn registration_matter() -> Option<&'static str> {
    xinyong_core::commitment::matters::Matters::bundled().ok()?.registration().map(|m| m.code.as_str())
}

/// A record in force, owned: id, item, provider, tier, decision date, facet value.
type OwnedRecord = (i64, String, String, Option<Tier>, Option<Date>, Option<String>);

/// One subject's facts, owned (borrowed into [`Facts`] to grade).
#[derive(Default)]
struct OwnedFacts {
    records: Vec<OwnedRecord>,
    listings: Vec<(i64, String, Option<Date>, Option<Date>)>,
    commitments: CommitmentFacts,
}

impl OwnedFacts {
    fn read(s: &dyn Store, code: &str, facets: &BTreeMap<String, String>) -> Result<OwnedFacts> {
        let mut out = OwnedFacts::default();
        for row in s.records_of(code)? {
            if row.status == "revoked" || row.repaired_event.is_some() {
                continue;
            }
            let facet = match facets.get(&row.item) {
                Some(field) => record_fields(s, &row)?.get(field).cloned(),
                None => None,
            };
            let tier = row.tier.as_deref().and_then(tier_of);
            let decided = row.decision_date.as_deref().and_then(day_of);
            out.records.push((row.id, row.item, row.provider, tier, decided, facet));
        }
        for l in s.listings_of(code)? {
            if l.start.is_none()
                || !matches!(
                    l.status,
                    xinyong_core::listing::ListingStatus::Listed | xinyong_core::listing::ListingStatus::Removed
                )
            {
                continue;
            }
            out.listings.push((l.id, l.list_type.clone(), l.start, l.effective_end()));
        }
        let registration = registration_matter();
        for c in s.commitments_of(code)? {
            let is_registration = registration.is_some() && c.matter.as_deref() == registration;
            count_commitment(&mut out.commitments, c.recorded().state.as_str(), is_registration);
        }
        Ok(out)
    }

    fn facts(&self) -> Facts<'_> {
        Facts {
            records: self
                .records
                .iter()
                .map(|(id, item, provider, tier, decided, facet)| RecordFact {
                    id: *id,
                    item,
                    provider,
                    tier: *tier,
                    decided: *decided,
                    facet: facet.as_deref(),
                })
                .collect(),
            listings: self
                .listings
                .iter()
                .map(|(id, t, start, end)| ListingFact { id: *id, list_type: t, start: *start, end: *end })
                .collect(),
            commitments: self.commitments,
        }
    }
}

// ---- the grade book ------------------------------------------------------------------------

/// Every subject's grade by every model, as of a day.
#[derive(Debug, Clone)]
pub struct GradeBook {
    pub day: Date,
    pub ledger_size: u64,
    /// How long the batch took, and its parts: the store scan, the sort by subject, the
    /// grading on every core.
    pub millis: u64,
    pub scan_millis: u64,
    pub sort_millis: u64,
    pub grade_millis: u64,
    codes: Codes,
    /// Per model, per subject: the score and the grade's band index (`u8::MAX`: not
    /// covered by the model).
    grades: Vec<Vec<(i32, u8)>>,
    /// Per subject: its division and industry (interned; `NONE` when unknown), and its
    /// list entries in force and inspections in the past year (the centre's figures).
    places: Vec<(u32, u32)>,
    extras: Vec<Extras>,
    strings: Interner,
}

/// The item whose records the figures count as inspections.
const INSPECTION_ITEM: &str = "admin_inspection";

/// An inspection the figures count on `day`: decided in the past year.
fn is_recent_inspection(item: &str, decided: Option<Date>, day: Date) -> bool {
    let year_ago = day - time::Duration::days(365);
    item == INSPECTION_ITEM && decided.is_some_and(|d| d > year_ago && d <= day)
}

/// What the figures count of a subject besides its grades.
#[derive(Debug, Clone, Copy, Default)]
struct Extras {
    listings_in_force: u16,
    inspections_past_year: u16,
}

impl Extras {
    fn of<'a>(
        records: impl Iterator<Item = (&'a str, Option<Date>)>,
        listings: impl Iterator<Item = ListingFact<'a>>,
        day: Date,
    ) -> Extras {
        let inspections = records.filter(|(item, d)| is_recent_inspection(item, *d, day)).count();
        let listed = listings.filter(|l| l.in_force_on(day)).count();
        Extras {
            listings_in_force: u16::try_from(listed).unwrap_or(u16::MAX),
            inspections_past_year: u16::try_from(inspections).unwrap_or(u16::MAX),
        }
    }
}

/// A division's or an industry section's figures: subjects per band of a model, list
/// entries in force, inspections in the past year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AreaFigures {
    /// The 6-digit division, or the industry section letter.
    pub code: String,
    pub name: String,
    pub subjects: u64,
    /// Per band of the model, from the best.
    pub bands: Vec<u64>,
    pub listings_in_force: u64,
    pub inspections_past_year: u64,
}

/// How many subjects each model put in each band.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Distribution {
    pub model: String,
    pub model_version: String,
    pub model_name_zh: String,
    /// Subjects the model covers.
    pub graded: u64,
    /// Per band, from the best: letter, name and count.
    pub bands: Vec<BandCount>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BandCount {
    pub letter: String,
    pub name_zh: String,
    pub count: u64,
}

/// The grade book's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GradeFigures {
    #[schema(format = Date)]
    pub as_of: String,
    pub ledger_size: u64,
    pub subjects: u64,
    /// How long the last full grading took.
    pub millis: u64,
    pub models: Vec<Distribution>,
}

impl GradeBook {
    /// The grade (band letter) and score of a subject by a model.
    pub fn grade(&self, model: &Model, model_index: usize, code: &str) -> Option<(String, i64)> {
        let i = self.codes.get(code)? as usize;
        let (score, band) = *self.grades.get(model_index)?.get(i)?;
        let b = model.bands.get(usize::from(band))?;
        Some((b.letter.clone(), i64::from(score)))
    }

    pub fn subjects(&self) -> usize {
        self.codes.len()
    }

    /// Figures by division (`by_industry` false) or industry section, for a model.
    pub fn areas(&self, model: &Model, model_index: usize, by_industry: bool) -> Vec<AreaFigures> {
        let mut out: BTreeMap<String, AreaFigures> = BTreeMap::new();
        let grades = self.grades.get(model_index);
        for (i, (division, industry)) in self.places.iter().enumerate() {
            let key = if by_industry { *industry } else { *division };
            let code = match self.strings.names.get(key as usize) {
                Some(n) if by_industry => n.chars().next().map(String::from).unwrap_or_default(),
                Some(n) => n.clone(),
                None => "—".to_string(),
            };
            let a = out.entry(code.clone()).or_insert_with(|| AreaFigures {
                name: if by_industry {
                    xinyong_core::reference::industry_name(&code).unwrap_or("—").to_string()
                } else {
                    xinyong_core::reference::division_name(&code).unwrap_or("—").to_string()
                },
                code,
                subjects: 0,
                bands: vec![0; model.bands.len()],
                listings_in_force: 0,
                inspections_past_year: 0,
            });
            a.subjects += 1;
            if let Some(b) = grades.and_then(|g| g.get(i)).and_then(|(_, b)| a.bands.get_mut(usize::from(*b))) {
                *b += 1;
            }
            let e = self.extras.get(i).copied().unwrap_or_default();
            a.listings_in_force += u64::from(e.listings_in_force);
            a.inspections_past_year += u64::from(e.inspections_past_year);
        }
        out.into_values().collect()
    }

    pub fn figures(&self, models: &Models) -> GradeFigures {
        let dist = models
            .models
            .iter()
            .zip(&self.grades)
            .map(|(m, grades)| {
                let mut counts = vec![0u64; m.bands.len()];
                for (_, b) in grades {
                    if let Some(c) = counts.get_mut(usize::from(*b)) {
                        *c += 1;
                    }
                }
                Distribution {
                    model: m.code.clone(),
                    model_version: m.version.clone(),
                    model_name_zh: m.name_zh.clone(),
                    graded: counts.iter().sum(),
                    bands: m
                        .bands
                        .iter()
                        .zip(counts)
                        .map(|(b, count)| BandCount { letter: b.letter.clone(), name_zh: b.name_zh.clone(), count })
                        .collect(),
                }
            })
            .collect();
        GradeFigures {
            as_of: date_string(self.day),
            ledger_size: self.ledger_size,
            subjects: self.codes.len() as u64,
            millis: self.millis,
            models: dist,
        }
    }
}

/// Subjects' row numbers by code. Codes of 18 bytes (USCCs and resident IDs: nearly
/// all) are held inline, so millions of them cost no allocation each.
#[derive(Debug, Clone, Default)]
struct Codes {
    short: HashMap<[u8; 18], u32>,
    other: HashMap<Box<str>, u32>,
}

impl Codes {
    fn get(&self, code: &str) -> Option<u32> {
        match <[u8; 18]>::try_from(code.as_bytes()) {
            Ok(b) => self.short.get(&b).copied(),
            Err(_) => self.other.get(code).copied(),
        }
    }

    fn insert(&mut self, code: &str, i: u32) {
        match <[u8; 18]>::try_from(code.as_bytes()) {
            Ok(b) => self.short.insert(b, i),
            Err(_) => self.other.insert(code.into(), i),
        };
    }

    fn len(&self) -> usize {
        self.short.len() + self.other.len()
    }
}

/// Interns strings read by the batch: one allocation per distinct value.
#[derive(Debug, Clone, Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.ids.insert(s.to_string(), i);
        self.names.push(s.to_string());
        i
    }
}

const NONE: u32 = u32::MAX;

/// A record as the batch keeps it until it is graded: 16 bytes, as Beijing's 30 M of
/// them are held at once.
#[derive(Clone, Copy)]
struct Compact {
    subject: u32,
    /// Item and provider, interned as one pair ([`Pairs`]).
    pair: u32,
    facet: u32,
    decided: Day,
    tier: Option<Tier>,
}

/// A decision date as days since 1970-01-01, 0 for none: two bytes reach 2149, and a
/// record decided before 1970 counts as decided on 1970-01-02 (no model looks back
/// that far).
#[derive(Clone, Copy)]
struct Day(u16);

const UNIX_EPOCH_JULIAN: i32 = 2_440_588;

impl Day {
    fn of(d: Option<Date>) -> Day {
        Day(d.map_or(0, |d| (d.to_julian_day() - UNIX_EPOCH_JULIAN).clamp(1, i32::from(u16::MAX)) as u16))
    }

    fn date(self) -> Option<Date> {
        (self.0 != 0).then(|| Date::from_julian_day(UNIX_EPOCH_JULIAN + i32::from(self.0)).ok()).flatten()
    }
}

/// Items and providers interned as pairs (a few thousand in a city): one id per record
/// instead of two.
#[derive(Default)]
struct Pairs {
    ids: HashMap<(u32, u32), u32>,
    pairs: Vec<(u32, u32)>,
}

impl Pairs {
    fn id(&mut self, pair: (u32, u32)) -> u32 {
        let next = self.pairs.len() as u32;
        let id = *self.ids.entry(pair).or_insert(next);
        if id == next {
            self.pairs.push(pair);
        }
        id
    }

    fn get(&self, id: u32) -> (u32, u32) {
        self.pairs.get(id as usize).copied().unwrap_or((NONE, NONE))
    }
}

#[derive(Clone, Copy)]
struct CompactListing {
    subject: u32,
    list_type: u32,
    start: Option<Date>,
    end: Option<Date>,
    id: i64,
}

/// Collects a grading scan.
#[derive(Default)]
struct Collected {
    codes: Codes,
    kinds: Vec<u32>,
    industries: Vec<u32>,
    divisions: Vec<u32>,
    strings: Interner,
    pairs: Pairs,
    /// The records as each reader read them (one id range each), each sorted by subject
    /// in place: joining them would copy every record once more.
    parts: Vec<Vec<Compact>>,
    /// The list entries in force on the day graded: no model and no figure reads others.
    listings: Vec<CompactListing>,
    commitments: Vec<CommitmentFacts>,
    registration: Option<&'static str>,
    day: Option<Date>,
}

impl Collected {
    /// Gives back what the per-subject arrays grew beyond their length.
    fn shrink(&mut self) {
        self.kinds.shrink_to_fit();
        self.industries.shrink_to_fit();
        self.divisions.shrink_to_fit();
        self.commitments.shrink_to_fit();
        self.listings.shrink_to_fit();
    }
}

impl GradingSink for Collected {
    fn subject(&mut self, code: &str, kind: &str, industry: Option<&str>, division: Option<&str>) {
        let i = self.kinds.len() as u32;
        self.codes.insert(code, i);
        let kind = self.strings.id(kind);
        self.kinds.push(kind);
        let industry = industry.map_or(NONE, |x| self.strings.id(x));
        self.industries.push(industry);
        let division = division.map_or(NONE, |x| self.strings.id(x));
        self.divisions.push(division);
        self.commitments.push(CommitmentFacts::default());
    }

    /// The subjects' scan reads no records: the readers of [`RecordPart`] do.
    fn record(&mut self, _: GradingRecord<'_>) {}

    fn listing(&mut self, l: GradingListing<'_>) {
        let Some(subject) = self.codes.get(l.subject) else { return };
        let (start, end) = listing_span(l.start_date, l.end_date, l.removed_date, l.removal_kind);
        let fact = ListingFact { id: l.id, list_type: l.list_type, start, end };
        if self.day.is_some_and(|day| !fact.in_force_on(day)) {
            return;
        }
        let list_type = self.strings.id(l.list_type);
        self.listings.push(CompactListing { subject, list_type, start, end, id: l.id });
    }

    fn commitment(&mut self, subject: &str, state: &str, matter: Option<&str>) {
        let Some(i) = self.codes.get(subject) else { return };
        let registration = self.registration.is_some() && matter == self.registration;
        if let Some(c) = self.commitments.get_mut(i as usize) {
            count_commitment(c, state, registration);
        }
    }
}

/// A record as the batch keeps it, its strings interned; none for an unknown subject.
fn compact(
    codes: &Codes,
    strings: &mut Interner,
    pairs: &mut Pairs,
    r: &GradingRecord<'_>,
    decided: Option<Date>,
) -> Option<Compact> {
    let subject = codes.get(r.subject)?;
    Some(Compact {
        subject,
        pair: pairs.id((strings.id(r.item), strings.id(r.provider))),
        facet: r.facet.map_or(NONE, |f| strings.id(f)),
        tier: r.tier.and_then(tier_of),
        decided: Day::of(decided),
    })
}

/// The records of one id range, read on a connection of its own: interned in its own
/// table, remapped into the batch's when the ranges are joined. Only records that could
/// count on the day are kept: by a model's window ([`Models::record_filter`]) or as an
/// inspection of the past year for the figures.
struct RecordPart<'a> {
    codes: &'a Codes,
    filter: &'a RecordFilter,
    day: Date,
    strings: Interner,
    pairs: Pairs,
    records: Vec<Compact>,
}

impl GradingSink for RecordPart<'_> {
    fn subject(&mut self, _: &str, _: &str, _: Option<&str>, _: Option<&str>) {}
    fn listing(&mut self, _: GradingListing<'_>) {}
    fn commitment(&mut self, _: &str, _: &str, _: Option<&str>) {}
    fn record(&mut self, r: GradingRecord<'_>) {
        let decided = r.decision_date.and_then(day_of);
        if !self.filter.keeps(r.item, decided) && !is_recent_inspection(r.item, decided, self.day) {
            return;
        }
        if let Some(rec) = compact(self.codes, &mut self.strings, &mut self.pairs, &r, decided) {
            self.records.push(rec);
        }
    }
}

/// A position in a list of the batch: a part holds fewer than 4 G records.
type Offset = u32;

/// Where each subject's rows start in a list sorted by subject.
fn offsets(n: usize, subjects: impl Iterator<Item = u32>) -> Vec<Offset> {
    let mut counts: Vec<Offset> = vec![0; n + 1];
    for s in subjects {
        counts[s as usize + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    counts
}

/// Where each subject's records start, per part (see [`Collected::parts`]).
struct RecordsAt<'a> {
    parts: &'a [Vec<Compact>],
    at: &'a [Vec<Offset>],
}

impl RecordsAt<'_> {
    fn of(&self, s: usize) -> impl Iterator<Item = &Compact> + '_ {
        self.parts.iter().zip(self.at).flat_map(move |(p, at)| &p[at[s] as usize..at[s + 1] as usize])
    }
}

/// Grades a run of subjects of a collected scan, from subject `first` on, by every
/// model: into `out` (one slice per model) and `extras`, all of the run's length, which
/// are the book's own arrays (nothing is copied once graded).
#[allow(clippy::too_many_arguments)]
fn grade_range(
    c: &Collected,
    models: &[Model],
    day: Date,
    first: usize,
    mut out: Vec<&mut [(i32, u8)]>,
    extras: &mut [Extras],
    records: &RecordsAt<'_>,
    list_at: &[Offset],
) {
    let mut tallies: Vec<Tally> = models.iter().map(|m| m.tally(day, false)).collect();
    let name = |i: u32| c.strings.names.get(i as usize).map_or("", String::as_str);
    for (k, extra) in extras.iter_mut().enumerate() {
        let s = first + k;
        *extra = Extras::of(
            records.of(s).map(|r| (name(c.pairs.get(r.pair).0), r.decided.date())),
            c.listings[list_at[s] as usize..list_at[s + 1] as usize].iter().map(|l| ListingFact {
                id: l.id,
                list_type: name(l.list_type),
                start: l.start,
                end: l.end,
            }),
            day,
        );
        let kind = name(c.kinds[s]);
        let industry = (c.industries[s] != NONE).then(|| name(c.industries[s]));
        for (mi, m) in models.iter().enumerate() {
            if !m.covers(kind, industry) {
                out[mi][k] = (0, u8::MAX);
                continue;
            }
            let t = &mut tallies[mi];
            m.reset(t);
            for r in records.of(s) {
                let (item, provider) = c.pairs.get(r.pair);
                let fact = RecordFact {
                    // ids are only kept when a grade is explained, which the batch does not
                    id: 0,
                    item: name(item),
                    provider: name(provider),
                    tier: r.tier,
                    decided: r.decided.date(),
                    facet: (r.facet != NONE).then(|| name(r.facet)),
                };
                m.add_record(t, &fact);
            }
            for l in &c.listings[list_at[s] as usize..list_at[s + 1] as usize] {
                let fact = ListingFact { id: l.id, list_type: name(l.list_type), start: l.start, end: l.end };
                m.add_listing(t, &fact);
            }
            m.add_commitments(t, c.commitments[s]);
            let settled = m.settle(t);
            let score = i32::try_from(settled.score).unwrap_or(if settled.score < 0 { i32::MIN } else { i32::MAX });
            out[mi][k] = (score, u8::try_from(settled.grade).unwrap_or(u8::MAX));
        }
    }
}

/// The grade book being kept by a server.
#[derive(Default)]
pub(crate) struct Book {
    book: RwLock<Option<Arc<GradeBook>>>,
    /// Held while the whole store is graded ([`App::build_book`]).
    building: std::sync::Mutex<()>,
    /// A background rebuild is running ([`App::rebuild_grades_later`]) …
    rebuilding: std::sync::atomic::AtomicBool,
    /// … and another was asked for since it started: it builds again when done, so a
    /// large change made while it read the store is not left out.
    rebuild_wanted: std::sync::atomic::AtomicBool,
    /// What regrading one subject in place took at the last regrade of many (µs; read
    /// as no less than [`REGRADE_MICROS_FLOOR`], so 0, not yet measured, reads as that).
    regrade_micros: std::sync::atomic::AtomicU64,
    /// Subjects changes touched, waiting for the background regrade, and the ledger
    /// size they reach.
    pending: std::sync::Mutex<(std::collections::BTreeSet<String>, u64)>,
    regrading: std::sync::atomic::AtomicBool,
}

impl App {
    /// The evaluation models (`data/grading/`).
    pub fn grading_models(&self) -> Result<&'static Models> {
        models()
    }

    /// A subject's grades on `as_of` by every model that covers it, explained: the
    /// subject itself, departments and the centre.
    pub fn grades_of(&self, caller: &Caller, code: &SubjectCode, as_of: Date) -> Result<SubjectGrades> {
        permit(caller, Action::ReadGrades { subject: code.key() })?;
        let models = models()?;
        let facets = facets(models);
        let (subject, facts, size) = self.db().read(|s| {
            let subject = s.subject(code.key())?;
            let facts = OwnedFacts::read(s, code.key(), &facets)?;
            Ok((subject, facts, s.ledger_size()?))
        })?;
        let subject = subject
            .ok_or_else(|| AppError::NotFound(format!("主体 {} / subject {}", code.display(), code.display())))?;
        let facts_ref = facts.facts();
        let grades = models
            .models
            .iter()
            .filter(|m| m.covers(&subject.kind, subject.industry.as_deref()))
            .map(|m| {
                let graded = m.grade(&facts_ref, as_of, true);
                GradeView { arithmetic: graded.arithmetic(), graded }
            })
            .collect();
        Ok(SubjectGrades {
            code: code.display(),
            name: subject.name,
            as_of: date_string(as_of),
            ledger_size: size,
            grades,
        })
    }

    /// Grades every subject of the store on `day` by every model: one scan, then every
    /// core (the centre's operation: the command line, the server's book, benchmarks).
    pub fn grade_all(&self, day: Date) -> Result<GradeBook> {
        let started = Instant::now();
        let models = models()?;
        let facets = facets(models);
        let filter = models.record_filter(day);
        let mut c = Collected { registration: registration_matter(), day: Some(day), ..Collected::default() };
        let (size, max) = self.db().scan(|s| {
            s.scan_for_grading(&facets, GradingPart::Subjects, &mut c)?;
            Ok((s.ledger_size()?, s.max_record_id()?))
        })?;
        // the slack of growing by doubling would be held while the records are read
        c.shrink();
        // the records in one id range per core, each on a reader connection of its own
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 16);
        let step = (max / threads as i64).max(1);
        let ranges: Vec<(i64, i64)> = (0..threads as i64)
            .map(|i| (i * step, if i + 1 == threads as i64 { i64::MAX } else { (i + 1) * step }))
            .collect();
        let read: Vec<Result<(Interner, Pairs, Vec<Compact>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .iter()
                .map(|&(after, upto)| {
                    let (codes, facets, filter) = (&c.codes, &facets, &filter);
                    scope.spawn(move || {
                        // ids are dense: the range's width bounds its records (pages never
                        // written to are not resident; the unused end is given back below)
                        let width = usize::try_from(upto.min(max).saturating_sub(after)).unwrap_or(0);
                        let records = Vec::with_capacity(width);
                        let mut part = RecordPart {
                            codes,
                            filter,
                            day,
                            strings: Interner::default(),
                            pairs: Pairs::default(),
                            records,
                        };
                        self.db().scan(|s| {
                            Ok(s.scan_for_grading(facets, GradingPart::Records { after, upto }, &mut part)?)
                        })?;
                        part.records.shrink_to_fit();
                        Ok((part.strings, part.pairs, part.records))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(AppError::Internal("a grading reader failed".into()))))
                .collect()
        });
        for part in read {
            let (strings, pairs, mut records) = part?;
            let remap: Vec<u32> = strings.names.iter().map(|n| c.strings.id(n)).collect();
            let at = |i: u32| if i == NONE { NONE } else { remap.get(i as usize).copied().unwrap_or(NONE) };
            let pair_at: Vec<u32> =
                pairs.pairs.iter().map(|&(item, provider)| c.pairs.id((at(item), at(provider)))).collect();
            for r in &mut records {
                r.pair = pair_at.get(r.pair as usize).copied().unwrap_or(NONE);
                r.facet = at(r.facet);
            }
            c.parts.push(records);
        }
        let scanned = Instant::now();
        let n = c.kinds.len();
        for part in &mut c.parts {
            part.sort_unstable_by_key(|r| r.subject);
        }
        c.listings.sort_unstable_by_key(|l| l.subject);
        let rec_at: Vec<Vec<Offset>> = c.parts.iter().map(|p| offsets(n, p.iter().map(|r| r.subject))).collect();
        let list_at = offsets(n, c.listings.iter().map(|l| l.subject));
        let sorted = Instant::now();
        let chunk = n.div_ceil(threads).max(1);
        // each thread grades one run of subjects straight into the book's arrays
        let mut grades: Vec<Vec<(i32, u8)>> = models.models.iter().map(|_| vec![(0, u8::MAX); n]).collect();
        let mut extras = vec![Extras::default(); n];
        let failed = std::thread::scope(|scope| {
            let mut runs: Vec<_> = grades.iter_mut().map(|g| g.chunks_mut(chunk)).collect();
            let handles: Vec<_> = extras
                .chunks_mut(chunk)
                .enumerate()
                .map(|(k, extras)| {
                    let out: Vec<&mut [(i32, u8)]> = runs.iter_mut().filter_map(Iterator::next).collect();
                    let (c, rec_at, list_at) = (&c, &rec_at, &list_at);
                    scope.spawn(move || {
                        let records = RecordsAt { parts: &c.parts, at: rec_at };
                        grade_range(c, &models.models, day, k * chunk, out, extras, &records, list_at)
                    })
                })
                .collect();
            // every thread joined (not stopping at the first failure), then any failure told
            handles.into_iter().map(|h| h.join().is_err()).filter(|failed| *failed).count() > 0
        });
        if failed {
            return Err(AppError::Internal("a grading thread failed".into()));
        }
        // the records and their offsets are done with before the book is put together
        drop((std::mem::take(&mut c.parts), std::mem::take(&mut c.listings), rec_at, list_at));
        let ms = |a: Instant, b: Instant| b.duration_since(a).as_millis() as u64;
        let now = Instant::now();
        Ok(GradeBook {
            day,
            ledger_size: size,
            millis: ms(started, now),
            scan_millis: ms(started, scanned),
            sort_millis: ms(scanned, sorted),
            grade_millis: ms(sorted, now),
            places: c.divisions.iter().copied().zip(c.industries.iter().copied()).collect(),
            codes: c.codes,
            grades,
            extras,
            strings: c.strings,
        })
    }

    /// The server's grade book, if built.
    pub fn grade_book(&self) -> Option<Arc<GradeBook>> {
        self.inner.grades.book.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The grade book's figures: subjects per band by every model (departments and the
    /// centre).
    pub fn grade_figures(&self, caller: &Caller) -> Result<GradeFigures> {
        permit(caller, Action::GradeFigures)?;
        Ok(self.todays_book()?.figures(models()?))
    }

    /// Today's grade book: the kept one, or built now (once, however many ask at once).
    pub(crate) fn todays_book(&self) -> Result<Arc<GradeBook>> {
        let today = today_shanghai();
        match self.grade_book() {
            Some(b) if b.day == today => Ok(b),
            _ => self.build_book(today, true),
        }
    }

    /// Grades every subject and keeps the book, one build at a time in this process: a
    /// build holds about 1 GB at Beijing's size, so the first requests of a new day and
    /// the background rebuild must not each run one. `reuse`: a book of `day` built
    /// while this one waited is answer enough. A book of an earlier day is let go
    /// before the build, as nothing reads it any more (its memory is the new one's).
    /// What changed while the build read the store is regraded into it afterwards.
    fn build_book(&self, day: Date, reuse: bool) -> Result<Arc<GradeBook>> {
        let book = {
            let _one = self.inner.grades.building.lock().unwrap_or_else(|e| e.into_inner());
            {
                let mut kept = self.inner.grades.book.write().unwrap_or_else(|e| e.into_inner());
                match kept.as_ref() {
                    Some(k) if reuse && k.day == day => return Ok(k.clone()),
                    Some(k) if k.day < day => *kept = None,
                    _ => {}
                }
            }
            self.keep_book(self.grade_all(day)?)
        };
        // changes made during the build (the projector regraded them into the book kept
        // then, or into none): regraded as the projector would; a large one asks for
        // another rebuild. The book is let go first: a regrade copies a book that
        // someone still holds (all of it, some 200 MB at Beijing's size).
        let from = book.ledger_size;
        drop(book);
        if let Err(e) = self.regrade_since(from) {
            tracing::warn!(error = %e.chain(), "regrading the changes made during the rebuild failed");
        }
        self.grade_book().ok_or_else(|| AppError::Internal("the grade book was let go as it was built".into()))
    }

    /// Keeps a book unless the one kept is of a later day. A kept book further along the
    /// ledger is replaced all the same: it may have left out a large change that only
    /// this build read (a change too large to regrade in place asks for a build), and
    /// what it regraded after this build's scan is regraded again by [`App::build_book`].
    /// Returns the book kept.
    fn keep_book(&self, book: GradeBook) -> Arc<GradeBook> {
        let mut kept = self.inner.grades.book.write().unwrap_or_else(|e| e.into_inner());
        match kept.as_ref() {
            Some(k) if k.day > book.day => k.clone(),
            _ => {
                let book = Arc::new(book);
                *kept = Some(book.clone());
                book
            }
        }
    }

    /// Rebuilds the book in the background; while a rebuild runs, asks it to build once
    /// more when it is done.
    pub(crate) fn rebuild_grades_later(&self) {
        use std::sync::atomic::Ordering;
        let grades = &self.inner.grades;
        grades.rebuild_wanted.store(true, Ordering::Release);
        if grades.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let app = self.clone();
        std::thread::spawn(move || app.run_rebuilds());
    }

    /// The background rebuild: builds while one is wanted, then lets go of the running
    /// flag (and takes it again if a rebuild was asked for in between).
    fn run_rebuilds(&self) {
        use std::sync::atomic::Ordering;
        let grades = &self.inner.grades;
        loop {
            while grades.rebuild_wanted.swap(false, Ordering::AcqRel) {
                self.rebuild_once();
            }
            grades.rebuilding.store(false, Ordering::Release);
            if !grades.rebuild_wanted.load(Ordering::Acquire) || grades.rebuilding.swap(true, Ordering::AcqRel) {
                return;
            }
        }
    }

    fn rebuild_once(&self) {
        match self.build_book(today_shanghai(), false) {
            Ok(book) => tracing::info!(subjects = book.subjects(), ms = book.millis, "grade book rebuilt"),
            // not retried at once: a store that cannot be read now would spin; the next
            // change or the next day asks again
            Err(e) => tracing::warn!(error = %e.chain(), "grading every subject failed; retrying on a later change"),
        }
    }

    /// Regrades the subjects of every event from ledger index `from` on.
    fn regrade_since(&self, from: u64) -> Result<()> {
        let size = self.db().read(|s| Ok(s.ledger_size()?))?;
        let mut touched = std::collections::BTreeSet::new();
        let mut at = from;
        while at < size {
            let refs = self.db().read(|s| Ok(s.event_refs(at, 50_000)?))?;
            let Some(last) = refs.last() else { break };
            at = last.index + 1;
            touched.extend(refs.into_iter().map(|r| r.subject_code));
        }
        self.regrade(&touched, size)
    }

    /// Queues the subjects a change touched for the background regrade: the projector
    /// hands them over and returns, so no write waits for grading.
    pub(crate) fn regrade_later(&self, touched: std::collections::BTreeSet<String>, ledger_size: u64) {
        use std::sync::atomic::Ordering;
        if touched.is_empty() || self.grade_book().is_none() {
            return;
        }
        {
            let mut pending = self.inner.grades.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.0.extend(touched);
            pending.1 = pending.1.max(ledger_size);
        }
        if self.inner.grades.regrading.swap(true, Ordering::AcqRel) {
            return;
        }
        let app = self.clone();
        std::thread::spawn(move || {
            loop {
                let (touched, size) = {
                    let mut pending = app.inner.grades.pending.lock().unwrap_or_else(|e| e.into_inner());
                    (std::mem::take(&mut pending.0), pending.1)
                };
                if touched.is_empty() {
                    app.inner.grades.regrading.store(false, Ordering::Release);
                    // a change queued between the take and the flag: go on unless another
                    // worker started for it
                    let more = !app.inner.grades.pending.lock().unwrap_or_else(|e| e.into_inner()).0.is_empty();
                    if more && !app.inner.grades.regrading.swap(true, Ordering::AcqRel) {
                        continue;
                    }
                    break;
                }
                if let Err(e) = app.regrade(&touched, size) {
                    tracing::warn!(error = %e.chain(), "regrading the subjects of a change failed");
                }
            }
        });
    }

    /// Regrades the subjects a change touched in the book (a change too large to regrade
    /// one by one in less time than a full grading, or a book of another day, rebuilds
    /// it in the background instead). The grades are computed first; the book is changed
    /// in place under its lock (copied only while a reader still holds the old one).
    pub(crate) fn regrade(&self, touched: &std::collections::BTreeSet<String>, ledger_size: u64) -> Result<()> {
        use std::sync::atomic::Ordering;
        let Some(book) = self.grade_book() else { return Ok(()) };
        let today = today_shanghai();
        let measured = self.inner.grades.regrade_micros.load(Ordering::Relaxed);
        let at_most = in_place_at_most(book.millis, measured.max(REGRADE_MICROS_FLOOR));
        if book.day != today || touched.len() > at_most {
            self.rebuild_grades_later();
            return Ok(());
        }
        drop(book);
        if touched.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let models = models()?;
        let facets = facets(models);
        let mut fresh = Vec::with_capacity(touched.len());
        for code in touched {
            let (subject, facts) = self.db().read(|s| Ok((s.subject(code)?, OwnedFacts::read(s, code, &facets)?)))?;
            let Some(subject) = subject else { continue };
            let facts_ref = facts.facts();
            let extras = Extras::of(
                facts_ref.records.iter().map(|r| (r.item, r.decided)),
                facts_ref.listings.iter().copied(),
                today,
            );
            let grades: Vec<(i32, u8)> = models
                .models
                .iter()
                .map(|m| {
                    if m.covers(&subject.kind, subject.industry.as_deref()) {
                        let settled = m.settle(&m.tally_of(&facts_ref, today, false));
                        (i32::try_from(settled.score).unwrap_or(0), u8::try_from(settled.grade).unwrap_or(u8::MAX))
                    } else {
                        (0, u8::MAX)
                    }
                })
                .collect();
            fresh.push((code, subject, extras, grades));
        }
        // the cost per subject, from a regrade large enough to say (a few subjects in
        // the page cache would promise too much)
        if touched.len() >= 100 {
            let took = started.elapsed();
            tracing::info!(subjects = touched.len(), ms = took.as_millis() as u64, "grade book regraded");
            let micros = took.as_micros() / touched.len() as u128;
            self.inner.grades.regrade_micros.store(u64::try_from(micros).unwrap_or(u64::MAX).max(1), Ordering::Relaxed);
        }
        let mut kept = self.inner.grades.book.write().unwrap_or_else(|e| e.into_inner());
        let Some(book) = kept.as_mut() else { return Ok(()) };
        let next = Arc::make_mut(book);
        for (code, subject, extras, grades) in fresh {
            let i = match next.codes.get(code) {
                Some(i) => i as usize,
                None => {
                    let i = next.codes.len();
                    next.codes.insert(code, i as u32);
                    next.grades.iter_mut().for_each(|g| g.push((0, u8::MAX)));
                    let division = subject.division.as_deref().map_or(NONE, |d| next.strings.id(d));
                    let industry = subject.industry.as_deref().map_or(NONE, |d| next.strings.id(d));
                    next.places.push((division, industry));
                    next.extras.push(Extras::default());
                    i
                }
            };
            next.extras[i] = extras;
            for (mi, entry) in grades.into_iter().enumerate() {
                next.grades[mi][i] = entry;
            }
        }
        next.ledger_size = next.ledger_size.max(ledger_size);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn a_decision_day_keeps_its_date(jd in UNIX_EPOCH_JULIAN + 1..UNIX_EPOCH_JULIAN + i32::from(u16::MAX)) {
            let d = Date::from_julian_day(jd).unwrap();
            proptest::prop_assert_eq!(Day::of(Some(d)).date(), Some(d));
        }
    }

    #[test]
    fn a_batch_record_is_sixteen_bytes_and_knows_no_date_from_none() {
        assert_eq!(std::mem::size_of::<Compact>(), 16);
        assert_eq!(Day::of(None).date(), None);
        let old = Date::from_calendar_date(1960, time::Month::May, 1).unwrap();
        assert_eq!(Day::of(Some(old)).date(), Date::from_calendar_date(1970, time::Month::January, 2).ok());
    }

    #[test]
    fn dates_read_like_the_core_parser() {
        for s in ["2026-12-06", "2024-02-29", "2023-02-29", "2026-13-01", "20261206", "2026-1-06", "abcd-ef-gh", ""] {
            assert_eq!(day_of(s), xinyong_core::record::parse_date(s).filter(|_| s.len() == 10), "{s}");
        }
    }

    #[test]
    fn models_agree_on_each_items_facet() {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for m in &models().unwrap().models {
            for (item, field) in &m.facets {
                let before = seen.insert(item, field);
                assert!(before.is_none_or(|f| f == field), "{item}: {before:?} vs {field}");
            }
        }
    }

    #[test]
    fn a_change_is_regraded_in_place_while_that_costs_less_than_a_full_grading() {
        assert_eq!(in_place_at_most(500, REGRADE_MICROS_FLOOR), REGRADE_AT_MOST);
        assert_eq!(in_place_at_most(70_000, 1_000), 70_000);
        assert_eq!(in_place_at_most(70_000, 0), 70_000_000);
        assert_eq!(in_place_at_most(u64::MAX, 1), usize::MAX);
    }

    /// `subjects` new subjects registered (no records); their codes.
    fn register(app: &App, dir: &std::path::Path, subjects: u64, seed: u64) -> std::collections::BTreeSet<String> {
        use crate::synthetic::{GenEncoding, GenFormat, GenOptions};
        let input = dir.join(format!("in-{seed}"));
        let opts = GenOptions {
            subjects,
            records: 0,
            seed,
            dirty_percent: 0,
            format: GenFormat::Csv,
            encoding: GenEncoding::Utf8,
            latest_date: today_shanghai(),
        };
        let manifest = crate::synthetic::generate(&opts, &input).unwrap();
        let file = manifest.files.iter().find(|f| f.item == "registration").unwrap();
        let summary = crate::intake::import_file(
            app,
            &input.join(&file.file),
            "registration",
            "北京市市场监督管理局",
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(summary.accepted, subjects);
        let text = std::fs::read_to_string(input.join(&file.file)).unwrap();
        let mut lines = text.lines();
        let column = lines.next().unwrap().split(',').position(|h| h == "统一社会信用代码").unwrap();
        lines.filter_map(|l| l.split(',').nth(column).map(str::to_string)).collect()
    }

    #[test]
    fn a_large_change_is_regraded_in_place_when_a_full_grading_costs_more() {
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(dir.path()).unwrap();
        register(&app, dir.path(), 20, 1);
        app.todays_book().unwrap();
        let touched = register(&app, dir.path(), 2_100, 2);
        assert_eq!(touched.len(), 2_100);
        // the last full grading took 10 s: 2 100 subjects at 1 ms each cost less
        {
            let mut kept = app.inner.grades.book.write().unwrap();
            Arc::make_mut(kept.as_mut().unwrap()).millis = 10_000;
        }
        let before = app.grade_book().unwrap();
        let size = app.counts().unwrap().events;
        app.regrade(&touched, size).unwrap();
        let after = app.grade_book().unwrap();
        assert_eq!(after.subjects(), before.subjects() + 2_100);
        assert_eq!(after.ledger_size, size);
        assert!(!app.inner.grades.rebuilding.load(Ordering::Acquire), "no rebuild was started");
        assert_eq!(after.millis, before.millis, "the same book, regraded in place");
    }

    #[test]
    fn a_rebuild_asked_for_while_one_runs_is_built_after_it() {
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(dir.path()).unwrap();
        register(&app, dir.path(), 20, 1);
        let before = app.todays_book().unwrap();
        // a rebuild is running (this thread stands for it) when a change too large to
        // regrade one by one comes in: it must not be forgotten when the rebuild ends
        app.inner.grades.rebuilding.store(true, Ordering::Release);
        let touched = register(&app, dir.path(), 2_100, 2);
        app.inner.grades.regrade_micros.store(u64::MAX, Ordering::Relaxed);
        app.regrade(&touched, app.counts().unwrap().events).unwrap();
        assert_eq!(app.grade_book().unwrap().subjects(), before.subjects(), "not regraded in place");
        app.run_rebuilds();
        let after = app.grade_book().unwrap();
        assert_eq!(after.subjects(), before.subjects() + 2_100);
        assert!(!app.inner.grades.rebuilding.load(Ordering::Acquire));
        assert!(!app.inner.grades.rebuild_wanted.load(Ordering::Acquire));
    }

    #[test]
    fn a_built_book_replaces_one_regraded_further_but_without_a_large_change() {
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(dir.path()).unwrap();
        register(&app, dir.path(), 20, 1);
        let today = today_shanghai();
        app.todays_book().unwrap();
        // a large change asks for a rebuild (held back here: one is "running") …
        app.inner.grades.rebuilding.store(true, Ordering::Release);
        app.inner.grades.regrade_micros.store(u64::MAX, Ordering::Relaxed);
        let large = register(&app, dir.path(), 2_100, 2);
        app.regrade(&large, app.counts().unwrap().events).unwrap();
        // … whose build reads the store now …
        let built = app.grade_all(today).unwrap();
        // … while a small change after it is regraded into the kept book, which so goes
        // further along the ledger than the build, yet lacks the large change
        let small = register(&app, dir.path(), 1, 3);
        app.regrade(&small, app.counts().unwrap().events).unwrap();
        let kept = app.grade_book().unwrap();
        assert_eq!(kept.subjects(), 21);
        assert!(kept.ledger_size > built.ledger_size);
        let from = built.ledger_size;
        app.keep_book(built);
        app.regrade_since(from).unwrap();
        let book = app.grade_book().unwrap();
        assert_eq!(book.subjects(), 20 + 2_100 + 1);
        assert_eq!(book.ledger_size, app.counts().unwrap().events);
    }

    #[test]
    fn a_revoked_decision_is_void_from_its_start() {
        let (s, e) = listing_span(Some("2026-01-01"), None, Some("2026-03-01"), Some("decision_revoked"));
        assert_eq!(s, e);
        let (_, e) = listing_span(Some("2026-01-01"), Some("2027-01-01"), Some("2026-03-01"), Some("repair"));
        assert_eq!(e, day_of("2026-03-01"));
    }
}
