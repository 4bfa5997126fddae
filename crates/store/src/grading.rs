//! What grading (`app::grading`) reads of a whole store in one pass: every subject,
//! every record in force with one field's value per item, every decided list entry and
//! every commitment's recorded state. Rows are lent to a [`GradingSink`] one at a time
//! (nothing is kept or allocated per row by the store), so 3 M subjects and 10 M
//! records pass through in one scan each.

use std::collections::BTreeMap;

/// A record in force (not revoked, not repaired), as grading reads it.
#[derive(Debug, Clone, Copy)]
pub struct GradingRecord<'a> {
    pub id: i64,
    pub subject: &'a str,
    pub item: &'a str,
    pub provider: &'a str,
    pub tier: Option<&'a str>,
    pub decision_date: Option<&'a str>,
    /// The value of the field the caller named for the record's item.
    pub facet: Option<&'a str>,
}

/// A decided list entry (listed, or listed then removed).
#[derive(Debug, Clone, Copy)]
pub struct GradingListing<'a> {
    pub id: i64,
    pub subject: &'a str,
    pub list_type: &'a str,
    pub start_date: Option<&'a str>,
    /// Exclusive.
    pub end_date: Option<&'a str>,
    pub removed_date: Option<&'a str>,
    /// `early_removal`, `repair`, `decision_revoked` (void from its start), `withdrawn`.
    pub removal_kind: Option<&'a str>,
}

/// Which part of the store a grading scan reads, so that readers on several
/// connections can share the records: everything but the records (subjects, list
/// entries, commitments), the records with ids in `(after, upto]`, or all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradingPart {
    Subjects,
    Records { after: i64, upto: i64 },
    All,
}

impl GradingPart {
    pub(crate) fn subjects(self) -> bool {
        matches!(self, GradingPart::Subjects | GradingPart::All)
    }

    /// The id range of records to read, if any.
    pub(crate) fn records(self) -> Option<(i64, i64)> {
        match self {
            GradingPart::Subjects => None,
            GradingPart::Records { after, upto } => Some((after, upto)),
            GradingPart::All => Some((i64::MIN, i64::MAX)),
        }
    }
}

/// Takes the rows of a grading scan.
pub trait GradingSink {
    fn subject(&mut self, code: &str, kind: &str, industry: Option<&str>, division: Option<&str>);
    fn record(&mut self, r: GradingRecord<'_>);
    fn listing(&mut self, l: GradingListing<'_>);
    /// A commitment: its subject, its recorded state (`pending`, `fulfilled`,
    /// `breached`) and its matter code.
    fn commitment(&mut self, subject: &str, state: &str, matter: Option<&str>);
}

/// The JSON path of a field in an event's payload: `$.fields."name"`.
pub(crate) fn field_path(field: &str) -> String {
    format!("$.fields.\"{}\"", field.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The items with a facet, and each one's field path, in a stable order.
pub(crate) fn facet_paths(facets: &BTreeMap<String, String>) -> Vec<(String, String)> {
    facets.iter().map(|(item, field)| (item.clone(), field_path(field))).collect()
}
