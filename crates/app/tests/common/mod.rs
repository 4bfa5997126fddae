//! Helpers shared by the app's integration tests: accounts, and a store filled with a
//! generated data set through the real import path.

#![allow(dead_code, clippy::unwrap_used)]

use xinyong_app::accounts::NewAccountRequest;
use xinyong_app::synthetic::{GenEncoding, GenFormat, GenOptions};
use xinyong_app::{App, Caller, today_shanghai};

/// An account of `role` (`officer` with a department, `subject` with its code, `admin`).
pub fn account(app: &App, name: &str, role: &str, provider: Option<&str>, subject: Option<&str>) -> Caller {
    let req = NewAccountRequest {
        username: name.into(),
        role: role.into(),
        provider: provider.map(str::to_string),
        subject_code: subject.map(str::to_string),
        ..Default::default()
    };
    Caller::of_account(app.create_account(&Caller::operator(), &req).unwrap().account.unwrap()).unwrap()
}

/// Generates `subjects` and `records` (CSV, dated up to today, `dirty` % bad rows) into
/// `dir/in` and imports every file as `provider`; returns each file's summary.
pub fn generated(
    app: &App,
    dir: &std::path::Path,
    (subjects, records, seed, dirty): (u64, u64, u64, u32),
    provider: &str,
) -> Vec<xinyong_app::intake::ImportSummary> {
    let input = dir.join("in");
    let opts = GenOptions {
        subjects,
        records,
        seed,
        dirty_percent: dirty,
        format: GenFormat::Csv,
        encoding: GenEncoding::Utf8,
        latest_date: today_shanghai(),
    };
    let manifest = xinyong_app::synthetic::generate(&opts, &input).unwrap();
    manifest
        .files
        .iter()
        .map(|f| xinyong_app::intake::import_file(app, &input.join(&f.file), &f.item, provider, &mut |_| {}).unwrap())
        .collect()
}
