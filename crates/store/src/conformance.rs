//! The conformance suite every back end must pass. Each check takes a fresh, empty
//! store. This crate's tests run each check as its own test per back end
//! (`conformance::sqlite_memory::<check>`, `conformance::sqlite_file::<check>`,
//! `conformance::postgres::<check>`), so a failure names its check; [`run_all`] runs
//! them all on stores from one factory.

use time::macros::date;
use xinyong_core::Catalog;
use xinyong_core::event::Provenance;
use xinyong_core::record::{FieldError, validate};
use xinyong_ledger::{LedgerKey, leaf_hash, root_of, verify_inclusion};

use crate::{Entry, NewQuarantine, NewRecord, Outcome, QuarantineFilter, Store};

pub type Check = fn(&mut dyn Store) -> Result<(), String>;

/// Calls `$m! { $args…, [check, check, …] }` with every check's name: the one list
/// [`CHECKS`] and the per-check tests are made from.
macro_rules! with_checks {
    ($m:ident $(, $arg:ident)*) => {
        $m! { $($arg,)* [
            append_creates_subjects_records_and_events,
            reappend_is_duplicate_and_adds_nothing,
            changed_content_is_a_correction,
            quarantine_is_kept_listed_and_resolved,
            registration_projects_onto_subject,
            a_rename_keeps_the_old_name,
            revoke_appends_an_event,
            heads_are_signed_and_match_the_leaves,
            accounts_tokens_sessions_and_access_log,
            listing_steps_are_ledger_events_and_guarded,
            derived_listings_follow_their_records,
            checks_feedback_and_department_figures,
            due_process_steps_commit_with_their_effects,
            webhook_deliveries_retry_then_fail,
            evidence_is_stored_once_by_its_hash,
            intake_figures_and_quarantine_reasons,
            old_identifiers_find_their_subjects,
            commitments_follow_their_steps,
            grading_scan_lends_what_is_in_force,
            plans_are_written_with_their_events,
            exchange_docs_are_written_with_their_event,
            sm2_ledgers_hash_with_sm3,
            breach_records_are_found_by_subject,
        ] }
    };
}

macro_rules! check_table {
    ([$($name:ident),* $(,)?]) => {
        /// Every check, by name.
        pub const CHECKS: &[(&str, Check)] = &[$((stringify!($name), $name)),*];
    };
}

with_checks!(check_table);

/// Runs every check on a fresh store from `make`; returns the failures.
pub fn run_all(make: &mut dyn FnMut() -> Box<dyn Store>) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, check) in CHECKS {
        let mut store = make();
        if let Err(e) = check(store.as_mut()) {
            failures.push(format!("{name}: {e}"));
        }
    }
    failures
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn key() -> LedgerKey {
    LedgerKey::generate("conformance.test/ledger")
}

/// A record of catalog item `item` from (field, value) pairs, validated on `day` and
/// filed by `provider` as row `row` of its file.
fn item_record(
    item: &str,
    pairs: &[(&str, &str)],
    day: time::Date,
    provider: &str,
    row: u64,
) -> Result<NewRecord, String> {
    let catalog = Catalog::bundled().map_err(|e| e.to_string())?;
    let item = catalog.item(item).ok_or_else(|| format!("no {item} item"))?;
    let values: Vec<Option<&str>> =
        item.fields.iter().map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v)).collect();
    let rec = validate(item, &values, day).map_err(|e| format!("{e:?}"))?;
    Ok(NewRecord::prepare(rec, provider, prov(row), None))
}

fn prov(row: u64) -> Provenance {
    Provenance {
        at: 1_700_000_000_000,
        batch: "b1".into(),
        provider: "海淀区市场监管局".into(),
        source: "t.csv".into(),
        row: Some(row),
    }
}

/// A valid honour record for `code` with document number `doc`.
fn honour(code: &str, doc: &str, title: &str) -> Result<NewRecord, String> {
    let pairs = [
        ("主体名称", "北京测试科技有限公司"),
        ("统一社会信用代码", code),
        ("荣誉名称", title),
        ("荣誉等级", "市级"),
        ("授予日期", "2024-05-06"),
        ("授予机关", "北京市市场监督管理局"),
        ("表彰决定文号", doc),
    ];
    item_record("honour", &pairs, date!(2026 - 01 - 01), "海淀区市场监管局", 1)
}

const A: &str = "91110108551385082Q";
const B: &str = "91110000802100433B";

fn append_creates_subjects_records_and_events(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    let entries = vec![
        Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?)),
        Entry::Record(Box::new(honour(A, "京发〔2024〕2号", "纳税信用A级")?)),
        Entry::Record(Box::new(honour(B, "京发〔2024〕3号", "守合同重信用企业")?)),
    ];
    let out = s.append(&entries, &k, 1).map_err(|e| e.to_string())?;
    ensure!(out.subjects_created == 2, "subjects created {}", out.subjects_created);
    ensure!(out.outcomes.iter().all(|o| matches!(o, Outcome::Accepted { .. })), "{:?}", out.outcomes);
    // 2 subject events + 3 record events, dense from 0
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == 5, "ledger size");
    let subject = s.subject(A).map_err(|e| e.to_string())?.ok_or("subject A missing")?;
    ensure!(subject.kind == "enterprise" && subject.name == "北京测试科技有限公司", "{subject:?}");
    ensure!(subject.division.as_deref() == Some("110108"), "division {:?}", subject.division);
    let recs = s.records_of(A).map_err(|e| e.to_string())?;
    ensure!(recs.len() == 2 && recs.iter().all(|r| r.subject_code == A && r.status == "active"), "{recs:?}");
    for r in &recs {
        let ev = s.event(r.event_index).map_err(|e| e.to_string())?.ok_or("event missing")?;
        ensure!(ev.kind == "record.created" && ev.record_id == Some(r.id) && ev.subject_code == A, "{ev:?}");
        ensure!(leaf_hash(&ev.payload) == ev.leaf, "leaf of event {} is not the hash of its payload", ev.index);
    }
    let c = s.counts().map_err(|e| e.to_string())?;
    ensure!(c.subjects == 2 && c.records == 3 && c.events == 5, "{c:?}");
    let first = s.subjects_after("", 1).map_err(|e| e.to_string())?;
    let rest = s.subjects_after(&first[0].code, 10).map_err(|e| e.to_string())?;
    ensure!(first.len() == 1 && rest.len() == 1 && first[0].code < rest[0].code, "paging {first:?} {rest:?}");
    // an item's records, paged by id
    let page = s.records_of_item("honour", 0, 2).map_err(|e| e.to_string())?;
    ensure!(page.len() == 2 && page[0].id < page[1].id && page.iter().all(|r| r.item == "honour"), "{page:?}");
    let rest = s.records_of_item("honour", page[1].id, 10).map_err(|e| e.to_string())?;
    ensure!(rest.len() == 1 && rest[0].subject_code == B, "{rest:?}");
    ensure!(s.records_of_item("admin_penalty", 0, 10).map_err(|e| e.to_string())?.is_empty(), "other item");
    Ok(())
}

fn reappend_is_duplicate_and_adds_nothing(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    let e = vec![Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?))];
    s.append(&e, &k, 1).map_err(|e| e.to_string())?;
    let size = s.ledger_size().map_err(|e| e.to_string())?;
    let heads = s.heads().map_err(|e| e.to_string())?.len();
    let out = s.append(&e, &k, 2).map_err(|e| e.to_string())?;
    ensure!(matches!(out.outcomes[..], [Outcome::Duplicate { .. }]), "{:?}", out.outcomes);
    ensure!(out.head.is_none(), "a batch without events must not sign a head");
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == size, "events were added");
    ensure!(s.heads().map_err(|e| e.to_string())?.len() == heads, "a head was added");
    Ok(())
}

fn changed_content_is_a_correction(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    s.append(&[Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "旧名称")?))], &k, 1).map_err(|e| e.to_string())?;
    let out = s
        .append(&[Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "新名称")?))], &k, 2)
        .map_err(|e| e.to_string())?;
    let Outcome::Corrected { record_id, ledger_index } = out.outcomes[0] else {
        return Err(format!("{:?}", out.outcomes));
    };
    let rec = s.record(record_id).map_err(|e| e.to_string())?.ok_or("record missing")?;
    ensure!(rec.event_index == ledger_index, "record points to {} not {ledger_index}", rec.event_index);
    let ev = s.event(ledger_index).map_err(|e| e.to_string())?.ok_or("event missing")?;
    ensure!(ev.kind == "record.corrected", "{}", ev.kind);
    ensure!(String::from_utf8_lossy(&ev.payload).contains("新名称"), "payload lacks the new value");
    ensure!(s.counts().map_err(|e| e.to_string())?.records == 1, "a second record was created");
    // the same document for another subject is refused into quarantine, not moved
    let out = s
        .append(&[Entry::Record(Box::new(honour(B, "京发〔2024〕1号", "新名称")?))], &k, 3)
        .map_err(|e| e.to_string())?;
    ensure!(matches!(out.outcomes[0], Outcome::Quarantined { already_known: false, .. }), "{:?}", out.outcomes);
    ensure!(s.records_of(B).map_err(|e| e.to_string())?.is_empty(), "record moved to another subject");
    let q = s.quarantine(&QuarantineFilter::default()).map_err(|e| e.to_string())?;
    ensure!(q.len() == 1 && q[0].errors[0].rule == "identity.conflict", "{q:?}");
    Ok(())
}

fn quarantine_entry(raw: &str, replaces: Option<i64>) -> NewQuarantine {
    NewQuarantine {
        provider: "海淀区市场监管局".into(),
        item: "honour".into(),
        batch: "b1".into(),
        source: "t.csv".into(),
        row: Some(7),
        raw: raw.into(),
        raw_hash: leaf_hash(raw.as_bytes()),
        subject_hint: Some("91110108551385082R".into()),
        errors: vec![FieldError::new("统一社会信用代码", "code.check_char", "校验码错误", "bad check character")],
        replaces,
    }
}

fn quarantine_is_kept_listed_and_resolved(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    let q = Entry::Quarantine(Box::new(quarantine_entry("{\"统一社会信用代码\":\"91110108551385082R\"}", None)));
    let out = s.append(std::slice::from_ref(&q), &k, 1).map_err(|e| e.to_string())?;
    let Outcome::Quarantined { quarantine_id, already_known: false } = out.outcomes[0] else {
        return Err(format!("{:?}", out.outcomes));
    };
    let again = s.append(&[q], &k, 2).map_err(|e| e.to_string())?;
    ensure!(
        again.outcomes[0] == Outcome::Quarantined { quarantine_id, already_known: true },
        "the same bad row twice must be one entry: {:?}",
        again.outcomes
    );
    let open = QuarantineFilter { status: Some("open".into()), item: Some("honour".into()), ..Default::default() };
    let listed = s.quarantine(&open).map_err(|e| e.to_string())?;
    ensure!(
        listed.len() == 1 && listed[0].row == Some(7) && listed[0].errors[0].field == "统一社会信用代码",
        "{listed:?}"
    );
    let other = QuarantineFilter { item: Some("admin_penalty".into()), ..Default::default() };
    ensure!(s.quarantine(&other).map_err(|e| e.to_string())?.is_empty(), "filter by item ignored");
    // a resubmission that fails again updates the entry
    let retry = Entry::Quarantine(Box::new(quarantine_entry("{\"统一社会信用代码\":\"x\"}", Some(quarantine_id))));
    s.append(&[retry], &k, 3).map_err(|e| e.to_string())?;
    ensure!(s.quarantine(&open).map_err(|e| e.to_string())?.len() == 1, "retry added an entry");
    // a corrected resubmission resolves it
    let mut fixed = honour(A, "京发〔2024〕9号", "守合同重信用企业")?;
    fixed.resolves = Some(quarantine_id);
    let out = s.append(&[Entry::Record(Box::new(fixed))], &k, 4).map_err(|e| e.to_string())?;
    let Outcome::Accepted { record_id, .. } = out.outcomes[0] else {
        return Err(format!("{:?}", out.outcomes));
    };
    let entry = s.quarantine_entry(quarantine_id).map_err(|e| e.to_string())?.ok_or("entry gone")?;
    ensure!(entry.status == "resolved" && entry.resolved_record == Some(record_id), "{entry:?}");
    ensure!(s.counts().map_err(|e| e.to_string())?.quarantine_open == 0, "still open");
    // a resubmission that becomes the row another entry holds is a conflict (found by
    // API fuzzing as a 500 from the unique index), and the entry is left as it was
    let other = Entry::Quarantine(Box::new(quarantine_entry("{\"统一社会信用代码\":\"y\"}", None)));
    let out = s.append(&[other], &k, 5).map_err(|e| e.to_string())?;
    let Outcome::Quarantined { quarantine_id: other_id, .. } = out.outcomes[0] else {
        return Err(format!("{:?}", out.outcomes));
    };
    let same = Entry::Quarantine(Box::new(quarantine_entry("{\"统一社会信用代码\":\"x\"}", Some(other_id))));
    let refused = s.append(&[same], &k, 6);
    ensure!(matches!(refused, Err(crate::StoreError::Conflict(_))), "{refused:?}");
    let kept = s.quarantine_entry(other_id).map_err(|e| e.to_string())?.ok_or("entry gone")?;
    ensure!(kept.raw.contains("\"y\"") && kept.status == "open", "{kept:?}");
    Ok(())
}

/// A valid registration row for `code`: its name, former names (separated by ；) and
/// legal representative.
fn registration(code: &str, name: &str, former: &str) -> Result<NewRecord, String> {
    let pairs = [
        ("统一社会信用代码", code),
        ("主体名称", name),
        ("曾用名", former),
        ("法定代表人", "张三"),
        ("法定代表人证件号码", "11010519491231002X"),
        ("成立日期", "2010-01-02"),
        ("行业门类", "I"),
    ];
    item_record("registration", &pairs, date!(2026 - 01 - 01), "市场监管局", 2)
}

/// Old identifiers (issue 11): what a registration declares, and the organisation code a
/// USCC embeds, find the subject, for a whole batch in one call; a resident ID whose
/// digits 9–17 happen to form a valid organisation code finds nothing.
fn old_identifiers_find_their_subjects(s: &mut dyn Store) -> Result<(), String> {
    let pairs = [
        ("统一社会信用代码", B),
        ("主体名称", "北京旧号科技有限公司"),
        ("成立日期", "2001-01-02"),
        ("注册号", "110108000000016"),
        ("组织机构代码", "80210043-3"),
        ("税务登记号", "110000802100433"),
    ];
    let reg = Entry::Record(Box::new(item_record("registration", &pairs, date!(2026 - 01 - 01), "市场监管局", 1)?));
    // a person whose ID's positions 9–17 are a valid organisation code
    let person = (0..100)
        .find_map(|n| {
            let body = format!("491231{n:02}");
            let org = xinyong_core::documents::complete_org_code(&body)?;
            let check = org.chars().last().filter(char::is_ascii_digit)?;
            xinyong_core::ResidentId::complete(&format!("11010519{body}{check}"))
        })
        .ok_or("no person code")?;
    let fake_org = person.expose()[8..17].to_string();
    let entries = vec![
        reg.clone(),
        Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?)),
        Entry::Record(Box::new(honour(person.expose(), "京发〔2024〕2号", "优秀个人")?)),
    ];
    s.append(&entries, &key(), 1).map_err(|e| e.to_string())?;
    s.append(&[reg], &key(), 2).map_err(|e| e.to_string())?; // again: nothing new
    let ids = [
        ("registration_number", "110108000000016"),
        ("org_code", "551385082"),
        ("org_code", "802100433"),
        ("org_code", fake_org.as_str()),
        ("tax_number", "110000802100433"),
        ("registration_number", "110108000000024"),
    ];
    let mut found: Vec<(String, String, String)> = s
        .subjects_by_identifiers(&ids)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|m| (m.scheme, m.value, m.subject))
        .collect();
    found.sort();
    found.dedup();
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    let expected = vec![
        t("org_code", "551385082", A),
        t("org_code", "802100433", B),
        t("registration_number", "110108000000016", B),
        t("tax_number", "110000802100433", B),
    ];
    ensure!(found == expected, "found {found:?}");
    ensure!(s.subjects_by_identifiers(&[]).map_err(|e| e.to_string())?.is_empty(), "empty lookup");
    Ok(())
}

fn registration_projects_onto_subject(s: &mut dyn Store) -> Result<(), String> {
    let rec = registration(A, "北京新名科技有限公司", "北京旧名科技有限公司；北京更旧科技有限公司")?;
    s.append(&[Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?))], &key(), 1)
        .map_err(|e| e.to_string())?;
    s.append(&[Entry::Record(Box::new(rec))], &key(), 2).map_err(|e| e.to_string())?;
    let subject = s.subject(A).map_err(|e| e.to_string())?.ok_or("subject missing")?;
    ensure!(subject.name == "北京新名科技有限公司", "name {}", subject.name);
    // the row's former names, then the name the row replaced
    ensure!(
        subject.former_names == ["北京旧名科技有限公司", "北京更旧科技有限公司", "北京测试科技有限公司"],
        "{:?}",
        subject.former_names
    );
    ensure!(subject.legal_rep_id.as_deref() == Some("11010519491231002X"), "legal rep id not stored for matching");
    ensure!(subject.industry.as_deref() == Some("I"), "industry");
    Ok(())
}

fn a_rename_keeps_the_old_name(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    let former = |s: &mut dyn Store, code: &str| -> Result<(String, Vec<String>), String> {
        let subject = s.subject(code).map_err(|e| e.to_string())?.ok_or("subject missing")?;
        Ok((subject.name, subject.former_names))
    };
    let append = |s: &mut dyn Store, rows: Vec<NewRecord>, at: i64| -> Result<(), String> {
        let entries: Vec<Entry> = rows.into_iter().map(|r| Entry::Record(Box::new(r))).collect();
        s.append(&entries, &k, at).map(|_| ()).map_err(|e| e.to_string())
    };
    // created by another item's row under one name, renamed by the registry
    append(s, vec![honour(A, "京发〔2024〕1号", "守合同重信用企业")?], 1)?;
    append(s, vec![registration(A, "北京一名科技有限公司", "北京零名科技有限公司")?], 2)?;
    let (name, names) = former(s, A)?;
    ensure!(name == "北京一名科技有限公司", "name {name}");
    ensure!(names == ["北京零名科技有限公司", "北京测试科技有限公司"], "after the first rename: {names:?}");
    // the same row again changes nothing, and names are never listed twice
    append(s, vec![registration(A, "北京一名科技有限公司", "北京零名科技有限公司")?], 3)?;
    ensure!(former(s, A)?.1 == names, "a re-sent row changed the former names: {:?}", former(s, A)?.1);
    // a later rename without a former-name list keeps every name before it
    append(s, vec![registration(A, "北京二名科技有限公司", "")?], 4)?;
    let (name, names) = former(s, A)?;
    ensure!(name == "北京二名科技有限公司", "name {name}");
    ensure!(
        names == ["北京零名科技有限公司", "北京测试科技有限公司", "北京一名科技有限公司"],
        "after the second rename: {names:?}"
    );
    // back to an old name: the current name is not a former name
    append(s, vec![registration(A, "北京测试科技有限公司", "")?], 5)?;
    let names = former(s, A)?.1;
    ensure!(
        names == ["北京零名科技有限公司", "北京一名科技有限公司", "北京二名科技有限公司"],
        "after renaming back: {names:?}"
    );
    // within one batch: a subject created by a registration row, renamed by the next row
    append(s, vec![registration(B, "北京乙科技有限公司", "")?, registration(B, "北京乙新科技有限公司", "")?], 6)?;
    let (name, names) = former(s, B)?;
    ensure!(name == "北京乙新科技有限公司" && names == ["北京乙科技有限公司"], "{name} {names:?}");
    Ok(())
}

fn revoke_appends_an_event(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    let out =
        s.append(&[Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "x")?))], &k, 1).map_err(|e| e.to_string())?;
    let Outcome::Accepted { record_id, .. } = out.outcomes[0] else {
        return Err(format!("{:?}", out.outcomes));
    };
    let (idx, head) = s.revoke(record_id, "决定被撤销", &prov(0), &k).map_err(|e| e.to_string())?;
    ensure!(head.head.size == idx + 1, "head size {} after event {idx}", head.head.size);
    let rec = s.record(record_id).map_err(|e| e.to_string())?.ok_or("record missing")?;
    ensure!(rec.status == "revoked" && rec.revoked_event == Some(idx), "{rec:?}");
    let content = s.event(rec.event_index).map_err(|e| e.to_string())?.ok_or("content event missing")?;
    ensure!(content.kind == "record.created", "a revoked record keeps its content event, got {}", content.kind);
    ensure!(s.revoke(record_id, "again", &prov(0), &k).is_err(), "revoking twice must fail");
    Ok(())
}

fn heads_are_signed_and_match_the_leaves(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    for (i, doc) in ["1", "2", "3"].iter().enumerate() {
        s.append(&[Entry::Record(Box::new(honour(A, doc, "x")?))], &k, i as i64).map_err(|e| e.to_string())?;
    }
    let heads = s.heads().map_err(|e| e.to_string())?;
    ensure!(heads.len() == 3, "{} heads", heads.len());
    ensure!(heads.windows(2).all(|w| w[0].head.size < w[1].head.size), "heads not in order");
    let verifier = k.verifier();
    for h in &heads {
        let th = verifier.verify(&h.checkpoint).map_err(|e| e.to_string())?;
        ensure!(th == h.head, "checkpoint says {th:?}, row says {:?}", h.head);
        let leaves = s.leaf_hashes(h.head.size).map_err(|e| e.to_string())?;
        ensure!(root_of(&leaves) == h.head.root, "root of size {} differs", h.head.size);
    }
    let last = s.latest_head().map_err(|e| e.to_string())?.ok_or("no head")?;
    let leaves = s.leaf_hashes(last.head.size).map_err(|e| e.to_string())?;
    let proof = xinyong_ledger::inclusion_proof(&leaves, 1).map_err(|e| e.to_string())?;
    verify_inclusion(1, last.head.size, &leaves[1], &proof, &last.head.root).map_err(|e| e.to_string())?;
    // a range of leaves is that range; past the end is an error, not a short answer
    let n = last.head.size;
    ensure!(s.leaf_range(1, n).map_err(|e| e.to_string())? == leaves[1..], "leaf_range(1, {n})");
    ensure!(s.leaf_range(n, n).map_err(|e| e.to_string())?.is_empty(), "an empty range");
    ensure!(s.leaf_range(0, n + 1).is_err(), "a range past the end");
    Ok(())
}

fn accounts_tokens_sessions_and_access_log(s: &mut dyn Store) -> Result<(), String> {
    let officer = crate::NewAccount {
        subject_code: None,
        username: "chaoyang-samr".into(),
        display_name: "朝阳区市场监管局".into(),
        role: "officer".into(),
        provider: Some("朝阳区市场监督管理局".into()),
        password_hash: None,
    };
    let id = s.create_account(&officer, 1).map_err(|e| e.to_string())?;
    ensure!(s.create_account(&officer, 2).is_err(), "duplicate username accepted");
    let a = s.account("chaoyang-samr").map_err(|e| e.to_string())?.ok_or("account missing")?;
    ensure!(a.id == id && a.role == "officer" && a.provider.as_deref() == Some("朝阳区市场监督管理局"), "{a:?}");
    ensure!(s.accounts().map_err(|e| e.to_string())? == vec![a.clone()], "accounts list");
    let token = leaf_hash(b"token");
    s.add_token(id, &token, "demo", 3).map_err(|e| e.to_string())?;
    ensure!(s.account_by_token(&token).map_err(|e| e.to_string())?.map(|a| a.id) == Some(id), "token lookup");
    ensure!(s.account_by_token(&leaf_hash(b"other")).map_err(|e| e.to_string())?.is_none(), "wrong token accepted");
    let session = crate::Session {
        session_hash: leaf_hash(b"cookie"),
        account_id: id,
        csrf: "c".into(),
        created_ms: 10,
        expires_ms: 20,
    };
    s.create_session(&session).map_err(|e| e.to_string())?;
    ensure!(s.session(&session.session_hash, 15).map_err(|e| e.to_string())?.is_some(), "live session not found");
    ensure!(s.session(&session.session_hash, 25).map_err(|e| e.to_string())?.is_none(), "expired session accepted");
    s.delete_session(&session.session_hash).map_err(|e| e.to_string())?;
    ensure!(s.session(&session.session_hash, 15).map_err(|e| e.to_string())?.is_none(), "deleted session accepted");
    for (at, what) in [(100, "first"), (200, "second")] {
        let e = crate::AccessEntry {
            subject_code: A.into(),
            account_id: id,
            actor: "chaoyang-samr".into(),
            provider: a.provider.clone(),
            purpose: "行政许可审查".into(),
            what: what.into(),
            at_ms: at,
        };
        s.log_access(&e).map_err(|e| e.to_string())?;
    }
    let log = s.access_log(A, 10).map_err(|e| e.to_string())?;
    ensure!(log.len() == 2 && log[0].what == "second", "{log:?}");
    ensure!(s.access_log(B, 10).map_err(|e| e.to_string())?.is_empty(), "log leaked to another subject");
    Ok(())
}

fn step<T>(r: Result<T, Vec<xinyong_core::listing::StepError>>) -> Result<T, String> {
    r.map_err(|e| format!("{e:?}"))
}

fn listing_steps_are_ledger_events_and_guarded(s: &mut dyn Store) -> Result<(), String> {
    use xinyong_core::event::EventKind;
    use xinyong_core::listing::{self, Before, Decision, ListingStatus, Notice};
    use xinyong_core::lists::ListRules;
    let k = key();
    let rules = ListRules::bundled();
    let cal = xinyong_core::calendar::WorkCalendar::official();
    let today = date!(2026 - 01 - 01);
    s.append(&[Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?))], &k, 1)
        .map_err(|e| e.to_string())?;
    let before = s.ledger_size().map_err(|e| e.to_string())?;
    let n = Notice {
        subject: A.into(),
        list_type: "serious_dishonesty".into(),
        provider: "朝阳区市场监管局".into(),
        basis: Some("《严重失信主体名单管理办法》第五条".into()),
        reason: "拒不履行".into(),
        notice_date: date!(2025 - 01 - 02),
        persons: vec![],
        scope: None,
    };
    let noticed = step(listing::notice(rules, cal, n.clone(), today))?;
    let (stored, head) =
        s.put_listing(&noticed, EventKind::ListingNoticed, &prov(1), &k, 2).map_err(|e| e.to_string())?;
    ensure!(stored.id > 0 && stored.first_event == before && stored.last_event == before, "{stored:?}");
    ensure!(head.head.size == before + 1, "head size {}", head.head.size);
    let ev = s.event(before).map_err(|e| e.to_string())?.ok_or("listing event missing")?;
    ensure!(ev.kind == "listing.noticed" && ev.subject_code == A, "{ev:?}");
    let body = xinyong_core::event::EventBody::from_bytes(&ev.payload).map_err(|e| e.to_string())?;
    ensure!(body.key.as_deref() == Some(stored.id.to_string().as_str()), "event key {:?}", body.key);
    ensure!(s.listing(stored.id).map_err(|e| e.to_string())?.as_ref() == Some(&stored), "listing round trip");
    let document = [("reason", "r"), ("basis", "b"), ("measures_notice", "m"), ("removal", "x"), ("remedy", "y")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let d = Decision { decision_date: date!(2025 - 02 - 03), start: None, end: None, document };
    let decided = step(listing::decide(rules, Before::Noticed(&stored), d, today))?;
    let (listed, _) = s.put_listing(&decided, EventKind::ListingDecided, &prov(1), &k, 3).map_err(|e| e.to_string())?;
    ensure!(listed.status == ListingStatus::Listed && listed.decided_event == Some(before + 1), "{listed:?}");
    // a step computed from a stale read is refused, and appends nothing
    let size = s.ledger_size().map_err(|e| e.to_string())?;
    let stale = s.put_listing(&decided, EventKind::ListingDecided, &prov(1), &k, 4);
    ensure!(matches!(stale, Err(crate::StoreError::Conflict(_))), "stale step: {stale:?}");
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == size, "a refused step appended an event");
    // unknown subject
    let mut other = noticed.clone();
    other.subject = B.into();
    let missing = s.put_listing(&other, EventKind::ListingNoticed, &prov(1), &k, 5);
    ensure!(matches!(missing, Err(crate::StoreError::NotFound(_))), "unknown subject: {missing:?}");
    let filter = |active_on: &str| crate::ListingFilter {
        list_type: Some("serious_dishonesty".into()),
        active_on: Some(active_on.into()),
        limit: 10,
        ..Default::default()
    };
    ensure!(s.listings(&filter("2025-06-01")).map_err(|e| e.to_string())?.len() == 1, "active listing not found");
    ensure!(s.listings(&filter("2025-01-01")).map_err(|e| e.to_string())?.is_empty(), "listed before its start");
    ensure!(s.listings(&filter("2028-02-03")).map_err(|e| e.to_string())?.is_empty(), "listed after its end");
    ensure!(s.listings_of(A).map_err(|e| e.to_string())?.len() == 1, "listings_of");
    // removed: in force before the removal day only
    let rm =
        listing::Removal { date: date!(2026 - 02 - 03), kind: listing::RemovalKind::Repair, reason: "修复".into() };
    // (a repair waits for the list type's early-removal minimum: a year after the start)
    let removed = step(listing::remove(rules, &listed, rm, date!(2026 - 03 - 01)))?;
    s.put_listing(&removed, EventKind::ListingRemoved, &prov(1), &k, 6).map_err(|e| e.to_string())?;
    ensure!(s.listings(&filter("2026-02-02")).map_err(|e| e.to_string())?.len() == 1, "in force before removal");
    ensure!(s.listings(&filter("2026-02-03")).map_err(|e| e.to_string())?.is_empty(), "in force after removal");
    let size = s.ledger_size().map_err(|e| e.to_string())?;
    let changed = s.listings_changed_since(before + 1).map_err(|e| e.to_string())?;
    ensure!(changed.len() == 1 && changed[0].status == ListingStatus::Removed, "{changed:?}");
    ensure!(s.listings_changed_since(size).map_err(|e| e.to_string())?.is_empty(), "nothing changed since");
    let created = s.subjects_created_since(0, 10).map_err(|e| e.to_string())?;
    ensure!(created.len() == 1 && created[0].code == A, "{created:?}");
    ensure!(s.subjects_created_since(1, 10).map_err(|e| e.to_string())?.is_empty(), "subjects since 1");
    Ok(())
}

/// Entries derived from records: written in one batch with one head, found by their
/// record, never derived twice; followers keep their cursor; records load by id.
fn derived_listings_follow_their_records(s: &mut dyn Store) -> Result<(), String> {
    use xinyong_core::event::EventKind;
    use xinyong_core::listing::{Listing, ListingSource, ListingStatus, RemovalKind};
    let k = key();
    let out = s
        .append(
            &[
                Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?)),
                Entry::Record(Box::new(honour(B, "京发〔2024〕2号", "守合同重信用企业")?)),
            ],
            &k,
            1,
        )
        .map_err(|e| e.to_string())?;
    let ids: Vec<i64> = out
        .outcomes
        .iter()
        .filter_map(|o| match o {
            crate::Outcome::Accepted { record_id, .. } => Some(*record_id),
            _ => None,
        })
        .collect();
    ensure!(ids.len() == 2, "{out:?}");
    let refs = s.event_refs(0, 10).map_err(|e| e.to_string())?;
    let record_refs: Vec<i64> =
        refs.iter().filter(|r| r.kind == "record.created").filter_map(|r| r.record_id).collect();
    ensure!(record_refs == ids, "event refs carry their record: {refs:?}");
    ensure!(refs.iter().filter(|r| r.kind == "subject.created").all(|r| r.record_id.is_none()), "{refs:?}");
    let rows = s.records_by_ids(&[ids[1], 999_999, ids[0]]).map_err(|e| e.to_string())?;
    ensure!(rows.iter().map(|r| r.id).collect::<Vec<_>>() == ids, "records by id: {rows:?}");
    let derived = |subject: &str, record_id: i64| Listing {
        id: 0,
        subject: subject.into(),
        list_type: "dishonest_debtor".into(),
        status: ListingStatus::Listed,
        provider: "朝阳区人民法院".into(),
        basis: Some("法释〔2017〕7号".into()),
        reason: "拒不履行".into(),
        notice_date: None,
        objection_until: None,
        objections: vec![],
        decision_date: Some(date!(2025 - 03 - 01)),
        start: Some(date!(2025 - 03 - 01)),
        end: None,
        removed_date: None,
        removal_kind: None,
        removal_reason: None,
        document: [("案号".to_string(), "（2025）京0105执1号".to_string())].into(),
        persons: vec![],
        scope: None,
        source: Some(ListingSource { record_id, rule: "r@1".into(), item: "honour".into() }),
        first_event: 0,
        decided_event: None,
        last_event: 0,
    };
    let before = s.ledger_size().map_err(|e| e.to_string())?;
    let steps = [(derived(A, ids[0]), EventKind::ListingDerived), (derived(B, ids[1]), EventKind::ListingDerived)];
    let (stored, head) = s.put_listings(&steps, &prov(1), &k, 2).map_err(|e| e.to_string())?;
    ensure!(head.head.size == before + 2 && stored.len() == 2, "one head for the batch: {}", head.head.size);
    ensure!(stored[0].decided_event == Some(before), "a derivation stands for the decision: {:?}", stored[0]);
    let all = s.listings(&crate::ListingFilter { limit: 10, ..Default::default() }).map_err(|e| e.to_string())?;
    let here = crate::ListingFilter { limit: 10, decided_here: true, ..Default::default() };
    ensure!(all.len() == 2, "{all:?}");
    ensure!(s.listings(&here).map_err(|e| e.to_string())?.is_empty(), "derived entries are not decided here");
    let back = s.listings_from_record(ids[0]).map_err(|e| e.to_string())?;
    ensure!(back.len() == 1 && back[0] == stored[0], "listing by record: {back:?}");
    ensure!(back[0].source.as_ref().is_some_and(|src| src.rule == "r@1"), "{back:?}");
    // the same derivation again (another process got there first): refused, nothing appended
    let again = s.put_listings(&steps[..1], &prov(1), &k, 3);
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "derived twice: {again:?}");
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == before + 2, "a refused batch appended");
    // one bad step refuses the whole batch
    let mut ended = stored[0].clone();
    ended.status = ListingStatus::Removed;
    ended.removed_date = Some(date!(2025 - 06 - 01));
    ended.removal_kind = Some(RemovalKind::RecordRevoked);
    let mut stale = stored[1].clone();
    stale.last_event = 0;
    let mixed = s.put_listings(
        &[(ended.clone(), EventKind::ListingRemoved), (stale, EventKind::ListingRemoved)],
        &prov(1),
        &k,
        4,
    );
    ensure!(matches!(mixed, Err(crate::StoreError::Conflict(_))), "{mixed:?}");
    ensure!(s.listing(stored[0].id).map_err(|e| e.to_string())?.as_ref() == Some(&stored[0]), "half a batch");
    let (done, _) =
        s.put_listings(&[(ended, EventKind::ListingRemoved)], &prov(1), &k, 5).map_err(|e| e.to_string())?;
    let back = s.listing(done[0].id).map_err(|e| e.to_string())?.ok_or("listing gone")?;
    ensure!(back.removal_kind == Some(RemovalKind::RecordRevoked), "{back:?}");
    ensure!(back.in_force_on(date!(2025 - 05 - 31)) && !back.in_force_on(date!(2025 - 06 - 01)), "{back:?}");
    ensure!(s.cursor("derive").map_err(|e| e.to_string())? == 0, "a new cursor starts at 0");
    s.set_cursor("derive", 17).map_err(|e| e.to_string())?;
    s.set_cursor("derive", 42).map_err(|e| e.to_string())?;
    ensure!(s.cursor("derive").map_err(|e| e.to_string())? == 42, "cursor round trip");
    ensure!(s.cursor("other").map_err(|e| e.to_string())? == 0, "cursors are per name");
    Ok(())
}

fn checks_feedback_and_department_figures(s: &mut dyn Store) -> Result<(), String> {
    use crate::{CheckRow, Feedback, NotApplied};
    let check = |id: &str, dept: &str, at_ms: i64, verdict: &str, measures: &[&str]| CheckRow {
        id: id.into(),
        at_ms,
        account_id: 1,
        department: dept.into(),
        matter: "government_procurement".into(),
        purpose: "采购资格审查".into(),
        subject_code: A.into(),
        as_of: "2025-06-01".into(),
        verdict: verdict.into(),
        measures: measures.iter().map(|m| m.to_string()).collect(),
        listings: vec![7],
        ledger_size: 9,
        feedback: None,
    };
    let batch = vec![
        check("c1", "财政局", 10, "prohibit", &["M-SD-01", "M-SD-02"]),
        check("c2", "财政局", 20, "clear", &[]),
        check("c3", "住建委", 30, "restrict", &["M-KA-01"]),
    ];
    s.record_checks(&batch).map_err(|e| e.to_string())?;
    ensure!(s.check_entry("c1").map_err(|e| e.to_string())?.as_ref() == Some(&batch[0]), "check round trip");
    let f = Feedback {
        at_ms: 40,
        account_id: 2,
        applied: vec!["M-SD-01".into()],
        not_applied: vec![NotApplied { id: "M-SD-02".into(), reason: "不涉及".into() }],
        note: Some("已终止采购资格".into()),
    };
    s.record_feedback("c1", &f).map_err(|e| e.to_string())?;
    let again = s.record_feedback("c1", &f);
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "second feedback: {again:?}");
    let unknown = s.record_feedback("nope", &f);
    ensure!(matches!(unknown, Err(crate::StoreError::NotFound(_))), "unknown check: {unknown:?}");
    let stored = s.check_entry("c1").map_err(|e| e.to_string())?.ok_or("c1 missing")?;
    ensure!(stored.feedback.as_ref() == Some(&f), "{:?}", stored.feedback);
    let mine = s.checks_of(A, 2).map_err(|e| e.to_string())?;
    ensure!(mine.iter().map(|c| c.id.as_str()).collect::<Vec<_>>() == ["c3", "c2"], "newest first: {mine:?}");
    let stats = s.check_stats(None).map_err(|e| e.to_string())?;
    ensure!(stats.len() == 2 && stats[0].department == "住建委" && stats[1].department == "财政局", "{stats:?}");
    let fin = &stats[1];
    ensure!(
        fin.checks == 2
            && fin.non_clear == 1
            && fin.with_feedback == 1
            && fin.measures_applied == 1
            && fin.measures_not_applied == 1,
        "{fin:?}"
    );
    ensure!(s.check_stats(Some("住建委")).map_err(|e| e.to_string())?.len() == 1, "one department");
    // later checks (a back end may index by subject in batches): all still found, newest first
    let later: Vec<CheckRow> = (4..9).map(|i| check(&format!("c{i}"), "住建委", 5_000 * i, "clear", &[])).collect();
    s.record_checks(&later[..1]).map_err(|e| e.to_string())?;
    s.maintain(5_000).map_err(|e| e.to_string())?;
    s.record_checks(&later[1..]).map_err(|e| e.to_string())?;
    let all = s.checks_of(A, 100).map_err(|e| e.to_string())?;
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    ensure!(ids == ["c8", "c7", "c6", "c5", "c4", "c3", "c2", "c1"], "after more checks: {ids:?}");
    ensure!(s.checks_of(B, 10).map_err(|e| e.to_string())?.is_empty(), "checks leaked to another subject");
    // more checks than a back end may index in one upkeep step: all found while it catches up
    let many: Vec<CheckRow> = (9..1_309).map(|i| check(&format!("m{i}"), "住建委", 5_000 * i, "clear", &[])).collect();
    s.record_checks(&many).map_err(|e| e.to_string())?;
    for step in 0..4 {
        s.maintain(100_000_000 + 1_000 * step).map_err(|e| e.to_string())?;
        let all = s.checks_of(A, 2_000).map_err(|e| e.to_string())?;
        ensure!(
            all.len() == 1_308 && all[0].id == "m1308" && all[1_307].id == "c1",
            "upkeep step {step}: {}",
            all.len()
        );
    }
    Ok(())
}

fn evidence_is_stored_once_by_its_hash(s: &mut dyn Store) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    let sha = |b: &[u8]| xinyong_ledger::hex(&Sha256::digest(b).into());
    // every byte value (NULs, invalid UTF-8), and a file of the full stated size
    let small: Vec<u8> = (0..=255u8).cycle().take(4099).collect();
    let big: Vec<u8> = (0..xinyong_core::evidence::MAX_EVIDENCE_BYTES).map(|i| (i * 7 % 251) as u8).collect();
    let (a, b) = (sha(&small), sha(&big));
    ensure!(s.evidence(&a).map_err(|e| e.to_string())?.is_none(), "evidence before it was stored");
    ensure!(s.put_evidence(&a, "application/pdf", &small, "alice", 10).map_err(|e| e.to_string())?, "first put");
    ensure!(s.put_evidence(&b, "image/png", &big, "bob", 11).map_err(|e| e.to_string())?, "second file");
    // the same bytes again: one row, the first upload's media type kept
    let again = s.put_evidence(&a, "image/jpeg", &small, "carol", 12).map_err(|e| e.to_string())?;
    ensure!(!again, "the same bytes stored twice");
    let (media, content) = s.evidence(&a).map_err(|e| e.to_string())?.ok_or("small file missing")?;
    ensure!(media == "application/pdf" && content == small, "small file: {media}, {} bytes", content.len());
    let (media, content) = s.evidence(&b).map_err(|e| e.to_string())?.ok_or("big file missing")?;
    ensure!(media == "image/png" && content == big, "big file: {media}, {} bytes", content.len());
    let meta = s.evidence_meta(&b).map_err(|e| e.to_string())?;
    ensure!(meta == Some(("image/png".into(), big.len() as u64)), "metadata of the big file: {meta:?}");
    ensure!(s.evidence_meta(&"0".repeat(64)).map_err(|e| e.to_string())?.is_none(), "metadata of no file");
    ensure!(s.evidence(&sha(b"other")).map_err(|e| e.to_string())?.is_none(), "an unknown hash answered");
    // evidence is not a ledger event: the case that cites it appends that
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == 0, "storing evidence appended to the ledger");
    Ok(())
}

/// A refused row of batch `batch` with one error per (field, rule).
fn refused_row(batch: &str, raw: &str, errors: &[(&str, &str)]) -> Entry {
    let mut q = quarantine_entry(raw, None);
    q.batch = batch.into();
    q.errors = errors.iter().map(|(f, r)| FieldError::new(f, r, "理由", "reason")).collect();
    Entry::Quarantine(Box::new(q))
}

/// Every append writes its batch's figures in the same transaction; chunks of one
/// batch add up; the quarantine counts, groups and filters its rows by reason.
fn intake_figures_and_quarantine_reasons(s: &mut dyn Store) -> Result<(), String> {
    use crate::{BatchFilter, ReasonCount};
    let k = key();
    let err = |e: crate::StoreError| e.to_string();
    let code = "统一社会信用代码";
    let chunk1 = vec![
        Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?)),
        Entry::Record(Box::new(honour(A, "京发〔2024〕2号", "守合同重信用企业")?)),
        Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?)), // duplicate
        Entry::Record(Box::new(honour(B, "京发〔2024〕2号", "守合同重信用企业")?)), // identity conflict
        refused_row("b1", "{\"r\":1}", &[(code, "code.check_char")]),
        refused_row("b1", "{\"r\":2}", &[("荣誉名称", "required"), ("授予日期", "date")]),
    ];
    s.append(&chunk1, &k, 1_700_000_000_500).map_err(err)?;
    // a second chunk of the same batch: the first bad row again, and another bad code
    let chunk2 = vec![
        refused_row("b1", "{\"r\":1}", &[(code, "code.check_char")]),
        refused_row("b1", "{\"r\":3}", &[(code, "code.length"), ("荣誉名称", "required")]),
    ];
    s.append(&chunk2, &k, 1_700_000_000_900).map_err(err)?;
    // another department's batch with nothing but a refused row
    let mut other = quarantine_entry("{\"r\":4}", None);
    other.provider = "北京市税务局".into();
    other.batch = "b2".into();
    s.append(&[Entry::Quarantine(Box::new(other))], &k, 1_800_000_000_000).map_err(err)?;

    let all = s.intake_batches(&BatchFilter::default()).map_err(err)?;
    ensure!(all.iter().map(|b| b.batch.as_str()).collect::<Vec<_>>() == ["b2", "b1"], "newest first: {all:?}");
    let b = s.intake_batches(&BatchFilter { batch: Some("b1".into()), ..Default::default() }).map_err(err)?;
    let [b] = &b[..] else { return Err(format!("{b:?}")) };
    ensure!(
        (b.provider.as_str(), b.item.as_str(), b.source.as_str(), b.received_ms)
            == ("海淀区市场监管局", "honour", "t.csv", 1_700_000_000_000),
        "{b:?}"
    );
    let counts = (b.rows, b.accepted, b.corrected, b.duplicates, b.quarantined, b.quarantined_known, b.wrong_code);
    ensure!(
        counts == (8, 2, 0, 1, 5, 1, 4),
        "rows, accepted, corrected, duplicates, quarantined, known, wrong code: {counts:?}"
    );
    let reason = |field: &str, rule: &str, rows: u64| ReasonCount {
        item: String::new(),
        field: field.into(),
        rule: rule.into(),
        rows,
    };
    ensure!(
        b.refused
            == [
                reason(code, "code.check_char", 2),
                reason("荣誉名称", "required", 2),
                reason("", "identity.conflict", 1),
                reason("授予日期", "date", 1),
                reason(code, "code.length", 1),
            ],
        "{:?}",
        b.refused
    );
    ensure!(b.decided.iter().collect::<Vec<_>>() == [(&"2024-05-06".to_string(), &2)], "{:?}", b.decided);
    let b2 =
        s.intake_batches(&BatchFilter { provider: Some("北京市税务局".into()), ..Default::default() }).map_err(err)?;
    ensure!(b2.len() == 1 && b2[0].received_ms == 1_800_000_000_000 && b2[0].rows == 1, "{b2:?}");

    // the quarantine: 5 entries (the known row is one), grouped and filtered by reason
    let mine = QuarantineFilter { provider: Some("海淀区市场监管局".into()), ..Default::default() };
    ensure!(s.quarantine_count(&mine).map_err(err)? == 4, "entries of b1");
    let groups = s.quarantine_reasons(&mine).map_err(err)?;
    let group = |field: &str, rule: &str, rows: u64| ReasonCount {
        item: "honour".into(),
        field: field.into(),
        rule: rule.into(),
        rows,
    };
    ensure!(
        groups
            == [
                group("荣誉名称", "required", 2),
                group("", "identity.conflict", 1),
                group("授予日期", "date", 1),
                group(code, "code.check_char", 1),
                group(code, "code.length", 1),
            ],
        "{groups:?}"
    );
    let by_rule = QuarantineFilter { rule: Some("required".into()), ..mine.clone() };
    let rows = s.quarantine(&by_rule).map_err(err)?;
    ensure!(rows.len() == 2 && s.quarantine_count(&by_rule).map_err(err)? == 2, "{rows:?}");
    let by_field = QuarantineFilter { field: Some(code.into()), ..Default::default() };
    ensure!(s.quarantine_count(&by_field).map_err(err)? == 3, "two of b1 and b2's");
    let rule_in_field =
        QuarantineFilter { field: Some(code.into()), rule: Some("required".into()), ..Default::default() };
    ensure!(s.quarantine_count(&rule_in_field).map_err(err)? == 0, "rule and field must hold in one error");
    let by_batch = QuarantineFilter { batch: Some("b2".into()), ..Default::default() };
    let rows = s.quarantine(&by_batch).map_err(err)?;
    ensure!(rows.len() == 1 && rows[0].provider == "北京市税务局", "{rows:?}");
    let paged = s.quarantine(&QuarantineFilter { limit: 2, ..mine.clone() }).map_err(err)?;
    let next = s.quarantine(&QuarantineFilter { limit: 2, after_id: paged[1].id, ..mine.clone() }).map_err(err)?;
    ensure!(paged.len() == 2 && next.len() == 2 && next[0].id > paged[1].id, "paging");
    Ok(())
}

/// One `#[test]` per check in module `$module`, each calling `$runner(name, check)`.
#[cfg(test)]
macro_rules! tests_per_check {
    ($module:ident, $runner:ident, [$($name:ident),* $(,)?]) => {
        mod $module {
            $(
                #[test]
                fn $name() {
                    super::tests::$runner(stringify!($name), super::$name);
                }
            )*
        }
    };
}

fn due_process_steps_commit_with_their_effects(s: &mut dyn Store) -> Result<(), String> {
    use xinyong_core::case::{self, CaseKind, CaseState, DueProcessRules, Filing, Target};
    use xinyong_core::event::EventKind;

    use crate::{CaseFilter, CaseStep, Change, Effect, NewNotification, StoreError};
    let k = key();
    let out = s
        .append(
            &[
                Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "x")?)),
                Entry::Record(Box::new(honour(A, "京发〔2024〕2号", "y")?)),
            ],
            &k,
            1,
        )
        .map_err(|e| e.to_string())?;
    let ids: Vec<i64> = out
        .outcomes
        .iter()
        .filter_map(|o| if let Outcome::Accepted { record_id, .. } = o { Some(*record_id) } else { None })
        .collect();
    ensure!(ids.len() == 2, "{:?}", out.outcomes);
    let rules = DueProcessRules::bundled();
    let set = rules.rule_set(None).ok_or("no default rule set")?;
    let cal = xinyong_core::calendar::WorkCalendar::official();
    let today = date!(2026 - 03 - 02);
    let filing = Filing {
        kind: CaseKind::Repair,
        subject: A.into(),
        target: Target::Record { id: ids[0], item: "honour".into() },
        department: "海淀区市场监管局".into(),
        applicant: "北京测试科技有限公司".into(),
        contact: "010-1".into(),
        text: "已整改".into(),
        attachments: vec![],
        filed_on: today,
    };
    let claims: Vec<String> = rules.repair_condition.iter().map(|c| c.code.clone()).collect();
    let filed = case::file_repair(set, &rules.repair_condition, cal, filing, &claims, "承诺", today)
        .map_err(|e| e.to_string())?;
    let size = s.ledger_size().map_err(|e| e.to_string())?;
    let hash = [7u8; 32];
    let step = CaseStep { case: filed, kind: EventKind::CaseFiled, query_hash: Some(hash) };
    let done = s
        .apply_change(&Change { case: Some(step), ..Change::default() }, &prov(0), &k, 2)
        .map_err(|e| e.to_string())?;
    let stored = done.case.ok_or("no case returned")?;
    ensure!(stored.id > 0 && stored.first_event == size && done.events == vec![size], "{stored:?} {:?}", done.events);
    ensure!(done.head.head.size == size + 1, "head {}", done.head.head.size);
    let (back, h) = s.case(stored.id).map_err(|e| e.to_string())?.ok_or("case missing")?;
    ensure!(back == stored && h == Some(hash), "case round trip: {back:?} {h:?}");
    let ev = s.event(size).map_err(|e| e.to_string())?.ok_or("case event missing")?;
    ensure!(ev.kind == "case.filed" && ev.subject_code == A, "{ev:?}");
    ensure!(!String::from_utf8_lossy(&ev.payload).contains("010-1"), "the contact must not reach the ledger");

    // the decision, its effect and its notifications: one commit
    let d = case::Decision {
        outcome: case::Outcome::Granted,
        remedy: None,
        reasons: String::new(),
        decided_on: today,
        next_possible: None,
    };
    let granted = case::decide(&stored, d, today).map_err(|e| e.to_string())?;
    let note = NewNotification {
        recipient_kind: "department".into(),
        recipient: "北京市税务局".into(),
        subject_code: A.into(),
        topic: "record_repaired".into(),
        text_zh: "已修复".into(),
        text_en: "repaired".into(),
    };
    let change = Change {
        case: Some(CaseStep { case: granted.clone(), kind: EventKind::CaseDecided, query_hash: None }),
        effects: vec![Effect::RepairRecord { record_id: ids[0], case_id: stored.id }],
        notifications: vec![note.clone()],
    };
    let done = s.apply_change(&change, &prov(0), &k, 3).map_err(|e| e.to_string())?;
    ensure!(done.events == vec![size + 1, size + 2], "{:?}", done.events);
    let rec = s.record(ids[0]).map_err(|e| e.to_string())?.ok_or("record missing")?;
    ensure!(rec.repaired_event == Some(size + 2) && rec.status == "active", "{rec:?}");
    let ev = s.event(size + 2).map_err(|e| e.to_string())?.ok_or("repair event missing")?;
    ensure!(ev.kind == "record.repaired" && ev.record_id == Some(ids[0]), "{ev:?}");
    let (back, h) = s.case(stored.id).map_err(|e| e.to_string())?.ok_or("case missing")?;
    ensure!(back.state == CaseState::Decided && h == Some(hash), "query hash kept: {back:?}");
    let inbox = s.notifications("department", "北京市税务局", 10).map_err(|e| e.to_string())?;
    ensure!(inbox.len() == 1 && inbox[0].topic == "record_repaired" && inbox[0].state == "pending", "{inbox:?}");
    ensure!(inbox[0].event_index == size + 2, "{inbox:?}");
    ensure!(!s.mark_notification_read(inbox[0].id, "department", "别人", 4).map_err(|e| e.to_string())?, "not theirs");
    ensure!(s.mark_notification_read(inbox[0].id, "department", "北京市税务局", 4).map_err(|e| e.to_string())?, "read");
    let inbox = s.notifications("department", "北京市税务局", 10).map_err(|e| e.to_string())?;
    ensure!(inbox[0].state == "read" && inbox[0].read_ms == Some(4), "{inbox:?}");

    // a second decision from the same stale read conflicts and writes nothing at all
    let size = s.ledger_size().map_err(|e| e.to_string())?;
    let stale = Change { notifications: vec![note.clone(), note], ..change };
    match s.apply_change(&stale, &prov(0), &k, 5) {
        Err(StoreError::Conflict(_)) => {}
        other => return Err(format!("stale decision: {other:?}")),
    }
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == size, "a refused change appended events");
    ensure!(s.notifications("department", "北京市税务局", 10).map_err(|e| e.to_string())?.len() == 1, "notified");

    // an effect the record no longer allows conflicts (repaired twice), and a revocation
    // without a case is its own change
    let again = Change { effects: vec![Effect::RepairRecord { record_id: ids[0], case_id: 0 }], ..Change::default() };
    ensure!(matches!(s.apply_change(&again, &prov(0), &k, 6), Err(StoreError::Conflict(_))), "repaired twice");
    let revoke = Change {
        effects: vec![Effect::RevokeRecord { record_id: ids[1], reason: "错误".into() }],
        ..Change::default()
    };
    let done = s.apply_change(&revoke, &prov(0), &k, 7).map_err(|e| e.to_string())?;
    let rec = s.record(ids[1]).map_err(|e| e.to_string())?.ok_or("record missing")?;
    ensure!(rec.status == "revoked" && rec.revoked_event == done.events.first().copied(), "{rec:?}");
    ensure!(matches!(s.apply_change(&revoke, &prov(0), &k, 8), Err(StoreError::Conflict(_))), "revoked twice");

    let open = s
        .cases(&CaseFilter { subject: Some(A.into()), limit: 10, ..CaseFilter::default() })
        .map_err(|e| e.to_string())?;
    ensure!(open.len() == 1 && open[0].id == stored.id, "{open:?}");
    let none = s
        .cases(&CaseFilter { state: Some("open".into()), limit: 10, ..CaseFilter::default() })
        .map_err(|e| e.to_string())?;
    ensure!(none.is_empty(), "no case is open: {none:?}");
    let changed = s.cases_changed_since(size).map_err(|e| e.to_string())?;
    ensure!(changed.is_empty(), "{changed:?}");
    let changed = s.cases_changed_since(0).map_err(|e| e.to_string())?;
    ensure!(changed.len() == 1, "{changed:?}");
    Ok(())
}

fn webhook_deliveries_retry_then_fail(s: &mut dyn Store) -> Result<(), String> {
    use crate::due_process::{MAX_ATTEMPTS, retry_after_ms};
    use crate::{Change, Effect, NewNotification, Webhook};
    let k = key();
    let out =
        s.append(&[Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "x")?))], &k, 1).map_err(|e| e.to_string())?;
    let Outcome::Accepted { record_id, .. } = out.outcomes[0] else { return Err(format!("{:?}", out.outcomes)) };
    let note = |who: &str| NewNotification {
        recipient_kind: "department".into(),
        recipient: who.into(),
        subject_code: A.into(),
        topic: "record_revoked".into(),
        text_zh: "撤销".into(),
        text_en: "revoked".into(),
    };
    let hook = Webhook {
        recipient_kind: "department".into(),
        recipient: "机器".into(),
        url: "http://127.0.0.1:9/hook".into(),
        secret: "s3cret".into(),
        created_ms: 1,
    };
    s.put_webhook(&hook).map_err(|e| e.to_string())?;
    s.put_webhook(&Webhook { url: "http://127.0.0.1:9/hook2".into(), ..hook.clone() }).map_err(|e| e.to_string())?;
    let hooks = s.webhooks().map_err(|e| e.to_string())?;
    ensure!(hooks.len() == 1 && hooks[0].url.ends_with("hook2"), "replaced, not added: {hooks:?}");
    let change = Change {
        effects: vec![Effect::RevokeRecord { record_id, reason: "x".into() }],
        notifications: vec![note("机器"), note("人")],
        ..Change::default()
    };
    s.apply_change(&change, &prov(0), &k, 100).map_err(|e| e.to_string())?;
    // only the machine recipient's notification is delivered by webhook
    let due = s.due_deliveries(100, 10).map_err(|e| e.to_string())?;
    ensure!(due.len() == 1 && due[0].notification.recipient == "机器" && due[0].secret == "s3cret", "{due:?}");
    let id = due[0].notification.id;
    s.record_delivery(id, Some("connection refused"), 100).map_err(|e| e.to_string())?;
    ensure!(s.due_deliveries(100, 10).map_err(|e| e.to_string())?.is_empty(), "retried at once");
    let later = 100 + retry_after_ms(1);
    ensure!(s.due_deliveries(later, 10).map_err(|e| e.to_string())?.len() == 1, "due again after the back-off");
    let mut now = later;
    for _ in 1..MAX_ATTEMPTS {
        s.record_delivery(id, Some("500"), now).map_err(|e| e.to_string())?;
        now += 7 * 3600 * 1000;
    }
    let inbox = s.notifications("department", "机器", 10).map_err(|e| e.to_string())?;
    ensure!(inbox[0].state == "failed" && inbox[0].attempts == MAX_ATTEMPTS, "{inbox:?}");
    ensure!(s.due_deliveries(now, 10).map_err(|e| e.to_string())?.is_empty(), "a failed delivery is not retried");
    Ok(())
}

/// A credit commitment record of `code` numbered `number`.
fn commitment_record(code: &str, number: &str) -> Result<NewRecord, String> {
    let pairs = [
        ("承诺主体名称", "北京测试科技有限公司"),
        ("统一社会信用代码", code),
        ("承诺类型", "容缺受理型"),
        ("承诺事项", "食品经营许可申请材料容缺受理"),
        ("承诺书编号", number),
        ("承诺日期", "2026-09-28"),
        ("承诺受理单位", "北京市市场监督管理局"),
        ("履约期限", "2026-10-10"),
        ("事项编码", "M-SAMR-0002"),
    ];
    item_record("credit_commitment", &pairs, date!(2026 - 11 - 28), "北京市市场监督管理局", 1)
}

/// The commitment a stored `credit_commitment` record makes, as the follower takes it on.
fn taken_on(s: &dyn Store, row: &crate::RecordRow) -> Result<xinyong_core::commitment::Commitment, String> {
    use xinyong_core::commitment::{CommitmentRecord, from_record};
    let ev = s.event(row.event_index).map_err(|e| e.to_string())?.ok_or("content event missing")?;
    let body = xinyong_core::event::EventBody::from_bytes(&ev.payload).map_err(|e| e.to_string())?;
    let fields = body.fields.unwrap_or_default();
    let r = CommitmentRecord {
        id: row.id,
        subject: &row.subject_code,
        provider: &row.provider,
        fields: &fields,
        source: &body.source,
    };
    Ok(from_record(&r, xinyong_core::calendar::WorkCalendar::official()).ok_or("no commitment from the record")?)
}

fn commitments_follow_their_steps(s: &mut dyn Store) -> Result<(), String> {
    use xinyong_core::commitment::State;
    let k = key();
    let out = s
        .append(
            &[
                Entry::Record(Box::new(commitment_record(A, "M-SAMR-0002-1")?)),
                Entry::Record(Box::new(commitment_record(B, "M-SAMR-0002-2")?)),
                Entry::Record(Box::new(commitment_record(A, "M-SAMR-0002-3")?)),
            ],
            &k,
            1,
        )
        .map_err(|e| e.to_string())?;
    let ids: Vec<i64> = out
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Accepted { record_id, .. } => Some(*record_id),
            _ => None,
        })
        .collect();
    ensure!(ids.len() == 3, "{out:?}");
    let rows = s.records_by_ids(&ids).map_err(|e| e.to_string())?;
    let mut taken = Vec::new();
    for row in &rows {
        taken.push(taken_on(s, row)?);
    }
    let (c1, c2, mut c3) = (taken[0].clone(), taken[1].clone(), taken[2].clone());
    let before = s.ledger_size().map_err(|e| e.to_string())?;
    let (stored, head) = s.put_commitments(&[c1.clone(), c2.clone()], &prov(1), &k, 2).map_err(|e| e.to_string())?;
    ensure!(head.head.size == before + 2, "one signed event each, one head: {}", head.head.size);
    ensure!(stored[0].first_event == before && stored[0].last_event == before, "{:?}", stored[0]);
    let refs = s.event_refs(before, 10).map_err(|e| e.to_string())?;
    ensure!(
        refs.iter().all(|r| r.kind == "commitment.signed") && refs[0].record_id == Some(ids[0]),
        "signed events name their record: {refs:?}"
    );
    // taken on twice (another process got there first): refused, nothing appended
    let again = s.put_commitments(std::slice::from_ref(&c1), &prov(1), &k, 3);
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "taken on twice: {again:?}");
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == before + 2, "a refused write appended");
    ensure!(s.commitment(ids[0]).map_err(|e| e.to_string())?.as_ref() == Some(&stored[0]), "read back");
    let of_a = s.commitments_of(A).map_err(|e| e.to_string())?;
    ensure!(of_a == vec![stored[0].clone()], "a subject's commitments: {of_a:?}");

    // the clock's query: pending, due before the day asked
    let overdue = |s: &dyn Store, day: &str, after: i64| -> Result<Vec<i64>, String> {
        Ok(s.commitments_overdue(day, after, 10).map_err(|e| e.to_string())?.iter().map(|c| c.record_id).collect())
    };
    ensure!(overdue(s, "2026-10-10", 0)?.is_empty(), "the due date itself is in time");
    ensure!(overdue(s, "2026-10-11", 0)? == vec![ids[0], ids[1]], "both overdue");
    ensure!(overdue(s, "2026-10-11", ids[0])? == vec![ids[1]], "paged by record");

    // a step: kept; a stale second step is refused
    let today = date!(2026 - 10 - 09);
    let kept = stored[0].fulfil(today, "已补交经营场所使用证明", "officer", today).map_err(|e| e.to_string())?;
    let (kept, _) = s.put_commitments(&[kept], &prov(1), &k, 4).map_err(|e| e.to_string())?;
    ensure!(kept[0].last_event == before + 2 && kept[0].first_event == before, "{:?}", kept[0]);
    let ev = s.event(before + 2).map_err(|e| e.to_string())?.ok_or("fulfilment event missing")?;
    ensure!(ev.kind == "commitment.fulfilled" && ev.record_id == Some(ids[0]), "{ev:?}");
    let stale = stored[0].breach(today, "材料虚假", "officer", today).map_err(|e| e.to_string())?;
    let refused = s.put_commitments(&[stale], &prov(1), &k, 5);
    ensure!(matches!(refused, Err(crate::StoreError::Conflict(_))), "a stale step: {refused:?}");
    ensure!(overdue(s, "2026-10-11", 0)? == vec![ids[1]], "a kept one is not overdue");

    // the clock breaks the other; its breach record is linked once intake wrote it
    let broken = stored[1].clock(date!(2026 - 10 - 11)).ok_or("nothing for the clock")?;
    let (broken, _) = s.put_commitments(&[broken], &prov(1), &k, 6).map_err(|e| e.to_string())?;
    ensure!(broken[0].recorded().state == State::Breached, "{:?}", broken[0]);
    let waiting = s.commitments_without_breach_record(0, 10).map_err(|e| e.to_string())?;
    ensure!(waiting.iter().map(|c| c.record_id).collect::<Vec<_>>() == vec![ids[1]], "{waiting:?}");
    // intake refused its row: not offered again while that entry is open and the
    // commitment stands as it was; offered again once the entry is resolved
    let waiting_ids = |s: &dyn Store| -> Result<Vec<i64>, String> {
        Ok(s.commitments_without_breach_record(0, 10).map_err(|e| e.to_string())?.iter().map(|c| c.record_id).collect())
    };
    let q = Entry::Quarantine(Box::new(quarantine_entry("{\"承诺书编号\":\"M-SAMR-0002-2\"}", None)));
    let out = s.append(&[q], &k, 7).map_err(|e| e.to_string())?;
    let Outcome::Quarantined { quarantine_id, .. } = out.outcomes[0] else {
        return Err(format!("{:?}", out.outcomes));
    };
    s.mark_breach_refused(&[(ids[1], quarantine_id, broken[0].last_event - 1)]).map_err(|e| e.to_string())?;
    ensure!(waiting_ids(s)? == vec![ids[1]], "refused at an earlier step: offered again");
    s.mark_breach_refused(&[(ids[1], quarantine_id, broken[0].last_event)]).map_err(|e| e.to_string())?;
    ensure!(waiting_ids(s)?.is_empty(), "refused at this step, the entry open: not offered");
    // one that is not broken refuses the whole call: the other keeps its earlier step
    let not_broken = s.mark_breach_refused(&[(ids[1], quarantine_id, 0), (ids[0], quarantine_id, kept[0].last_event)]);
    ensure!(matches!(not_broken, Err(crate::StoreError::NotFound(_))), "a kept one has no breach: {not_broken:?}");
    ensure!(waiting_ids(s)?.is_empty(), "a refused call changed a commitment");
    let mut fixed = honour(B, "京发〔2024〕10号", "守合同重信用企业")?;
    fixed.resolves = Some(quarantine_id);
    s.append(&[Entry::Record(Box::new(fixed))], &k, 8).map_err(|e| e.to_string())?;
    ensure!(waiting_ids(s)? == vec![ids[1]], "the entry resolved: offered again");
    s.link_breach_record(ids[1], 4242).map_err(|e| e.to_string())?;
    ensure!(s.commitments_without_breach_record(0, 10).map_err(|e| e.to_string())?.is_empty(), "linked");
    let linked = s.commitment(ids[1]).map_err(|e| e.to_string())?.ok_or("gone")?;
    ensure!(linked.breach_record == Some(4242) && linked.steps == broken[0].steps, "{linked:?}");
    let not_broken = s.link_breach_record(ids[0], 4243);
    ensure!(matches!(not_broken, Err(crate::StoreError::NotFound(_))), "a kept one has no breach: {not_broken:?}");
    ensure!(overdue(s, "2027-01-01", 0)?.is_empty(), "nothing left for the clock");

    // taken on already ended (a department's file said 未履约): signed, then the breach;
    // one bad commitment in a batch refuses the batch
    c3.steps = broken[0].steps.clone();
    let mut stranger = c2.clone();
    stranger.record_id = 999_999;
    let size = s.ledger_size().map_err(|e| e.to_string())?;
    let mixed = s.put_commitments(&[c3.clone(), stranger], &prov(1), &k, 7);
    ensure!(matches!(mixed, Err(crate::StoreError::NotFound(_))), "an unknown record: {mixed:?}");
    ensure!(s.commitment(ids[2]).map_err(|e| e.to_string())?.is_none(), "half a batch was written");
    let (c3, _) = s.put_commitments(&[c3], &prov(1), &k, 8).map_err(|e| e.to_string())?;
    ensure!(c3[0].first_event == size && c3[0].last_event == size + 1, "signed then breached: {:?}", c3[0]);
    ensure!(s.commitments_of(A).map_err(|e| e.to_string())?.len() == 2, "two of A's");

    // the accepting department's queue, by state, paged by record
    let queue = |s: &dyn Store, dept: &str, state: Option<&str>, after: i64| -> Result<Vec<i64>, String> {
        let page = s.commitments_of_department(dept, state, after, 10).map_err(|e| e.to_string())?;
        Ok(page.iter().map(|c| c.record_id).collect())
    };
    let dept = c1.department.as_str();
    ensure!(queue(s, dept, None, 0)? == ids, "all of the department's");
    ensure!(queue(s, dept, None, ids[0])? == ids[1..], "paged by record");
    ensure!(queue(s, dept, Some("fulfilled"), 0)? == vec![ids[0]], "the kept one");
    ensure!(queue(s, dept, Some("breached"), 0)? == ids[1..], "the broken ones");
    ensure!(queue(s, dept, Some("pending"), 0)?.is_empty(), "none open");
    ensure!(queue(s, "北京市商务局", None, 0)?.is_empty(), "another department's queue");
    Ok(())
}

/// What a grading scan saw.
#[derive(Default)]
struct Seen {
    subjects: Vec<(String, String, Option<String>, Option<String>)>,
    records: Vec<(i64, String, String, Option<String>)>,
    listings: Vec<(i64, String, Option<String>)>,
    commitments: Vec<(String, String, Option<String>)>,
}

impl crate::grading::GradingSink for Seen {
    fn subject(&mut self, code: &str, kind: &str, industry: Option<&str>, division: Option<&str>) {
        self.subjects.push((code.into(), kind.into(), industry.map(str::to_string), division.map(str::to_string)));
    }
    fn record(&mut self, r: crate::grading::GradingRecord<'_>) {
        self.records.push((r.id, r.subject.into(), r.item.into(), r.facet.map(str::to_string)));
    }
    fn listing(&mut self, l: crate::grading::GradingListing<'_>) {
        self.listings.push((l.id, l.list_type.into(), l.start_date.map(str::to_string)));
    }
    fn commitment(&mut self, subject: &str, state: &str, matter: Option<&str>) {
        self.commitments.push((subject.into(), state.into(), matter.map(str::to_string)));
    }
}

fn grading_scan_lends_what_is_in_force(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    let entries = vec![
        Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?)),
        Entry::Record(Box::new(honour(A, "京发〔2024〕2号", "纳税信用A级")?)),
        Entry::Record(Box::new(honour(B, "京发〔2024〕3号", "科技进步奖")?)),
        Entry::Record(Box::new(commitment_record(B, "M-SAMR-0002-9")?)),
    ];
    let out = s.append(&entries, &k, 1).map_err(|e| e.to_string())?;
    let ids: Vec<i64> = out
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Accepted { record_id, .. } => Some(*record_id),
            _ => None,
        })
        .collect();
    ensure!(ids.len() == 4, "{out:?}");
    s.revoke(ids[1], "决定被撤销", &prov(0), &k).map_err(|e| e.to_string())?;
    let facets: std::collections::BTreeMap<String, String> =
        [("honour".to_string(), "荣誉名称".to_string())].into_iter().collect();
    let mut seen = Seen::default();
    s.scan_for_grading(&facets, crate::grading::GradingPart::All, &mut seen).map_err(|e| e.to_string())?;
    let mut subjects: Vec<&str> = seen.subjects.iter().map(|x| x.0.as_str()).collect();
    subjects.sort_unstable();
    ensure!(subjects == [B, A] || subjects == [A, B], "{subjects:?}");
    ensure!(seen.subjects.iter().all(|x| x.1 == "enterprise"), "kinds");
    ensure!(seen.subjects.iter().any(|x| x.3.as_deref() == Some("110108")), "divisions: {:?}", seen.subjects);
    let mut records = seen.records.clone();
    records.sort_unstable();
    let want = vec![
        (ids[0], A.to_string(), "honour".to_string(), Some("守合同重信用企业".to_string())),
        (ids[2], B.to_string(), "honour".to_string(), Some("科技进步奖".to_string())),
        (ids[3], B.to_string(), "credit_commitment".to_string(), None),
    ];
    ensure!(records == want, "the revoked one is left out, facets read from the content: {records:?}");
    // no facets asked: none read
    let mut bare = Seen::default();
    s.scan_for_grading(&std::collections::BTreeMap::new(), crate::grading::GradingPart::All, &mut bare)
        .map_err(|e| e.to_string())?;
    ensure!(bare.records.len() == 3 && bare.records.iter().all(|r| r.3.is_none()), "{:?}", bare.records);
    ensure!(seen.listings.is_empty() && seen.commitments.is_empty(), "nothing listed or taken on yet");
    // the commitment taken on: its state and matter
    let row = s.record(ids[3]).map_err(|e| e.to_string())?.ok_or("record missing")?;
    let c = taken_on(s, &row)?;
    let matter = c.matter.clone();
    s.put_commitments(&[c], &prov(1), &k, 2).map_err(|e| e.to_string())?;
    let mut again = Seen::default();
    s.scan_for_grading(&facets, crate::grading::GradingPart::All, &mut again).map_err(|e| e.to_string())?;
    ensure!(again.commitments == vec![(B.to_string(), "pending".to_string(), matter)], "{:?}", again.commitments);
    // the parts: everything but the records, then the records in two id ranges
    use crate::grading::GradingPart;
    let max = s.max_record_id().map_err(|e| e.to_string())?;
    ensure!(max == ids[3], "max record id {max}");
    let mut parts = Seen::default();
    s.scan_for_grading(&facets, GradingPart::Subjects, &mut parts).map_err(|e| e.to_string())?;
    ensure!(parts.records.is_empty() && parts.subjects.len() == 2 && parts.commitments.len() == 1, "subjects part");
    s.scan_for_grading(&facets, GradingPart::Records { after: 0, upto: ids[2] }, &mut parts)
        .map_err(|e| e.to_string())?;
    s.scan_for_grading(&facets, GradingPart::Records { after: ids[2], upto: max }, &mut parts)
        .map_err(|e| e.to_string())?;
    let mut split = parts.records.clone();
    split.sort_unstable();
    ensure!(split == want, "the two ranges read every record once: {split:?}");
    Ok(())
}

fn plans_are_written_with_their_events(s: &mut dyn Store) -> Result<(), String> {
    use xinyong_core::event::{EventBody, EventKind};
    let k = key();
    let facts = |n: &str| [("population_hash".to_string(), n.to_string())].into_iter().collect();
    let planned = EventBody::inspection(EventKind::InspectionPlanned, "P-1", facts("abc"), &prov(0));
    let before = s.ledger_size().map_err(|e| e.to_string())?;
    let (idx, head) =
        s.put_plan("P-1", "海淀区市场监管局", "{\"v\":1}", None, Some(&planned), &k, 1).map_err(|e| e.to_string())?;
    ensure!(idx == Some(before) && head.head.size == before + 1, "{idx:?} {}", head.head.size);
    let ev = s.event(before).map_err(|e| e.to_string())?.ok_or("plan event missing")?;
    ensure!(ev.kind == "inspection.planned" && ev.subject_code.is_empty(), "{ev:?}");
    let again = s.put_plan("P-1", "x", "{}", None, Some(&planned), &k, 2);
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "a plan twice: {again:?}");
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == before + 1, "a refused write appended");
    let row = s.plan("P-1").map_err(|e| e.to_string())?.ok_or("plan missing")?;
    ensure!(row.doc == "{\"v\":1}" && row.first_event == before && row.last_event == before, "{row:?}");
    // the next step, read at its last event; a stale one is refused
    let drawn = EventBody::inspection(EventKind::InspectionDrawn, "P-1", facts("def"), &prov(0));
    let (idx, _) = s
        .put_plan("P-1", "海淀区市场监管局", "{\"v\":2}", Some(before), Some(&drawn), &k, 3)
        .map_err(|e| e.to_string())?;
    ensure!(idx == Some(before + 1), "{idx:?}");
    let stale = s.put_plan("P-1", "海淀区市场监管局", "{\"v\":3}", Some(before), None, &k, 4);
    ensure!(matches!(stale, Err(crate::StoreError::Conflict(_))), "a stale step: {stale:?}");
    // a document change without an event keeps the last event
    let (idx, _) =
        s.put_plan("P-1", "海淀区市场监管局", "{\"v\":4}", Some(before + 1), None, &k, 5).map_err(|e| e.to_string())?;
    ensure!(idx.is_none(), "no event");
    let row = s.plan("P-1").map_err(|e| e.to_string())?.ok_or("plan missing")?;
    ensure!(row.doc == "{\"v\":4}" && row.last_event == before + 1, "{row:?}");
    let missing = s.put_plan("P-9", "x", "{}", Some(1), None, &k, 6);
    ensure!(matches!(missing, Err(crate::StoreError::NotFound(_))), "{missing:?}");
    s.put_plan("P-2", "朝阳区市场监管局", "{}", None, None, &k, 7).map_err(|e| e.to_string())?;
    let ids: Vec<String> = s.plans().map_err(|e| e.to_string())?.into_iter().map(|p| p.id).collect();
    ensure!(ids == ["P-2", "P-1"], "newest first: {ids:?}");
    Ok(())
}

fn exchange_docs_are_written_with_their_event(s: &mut dyn Store) -> Result<(), String> {
    use xinyong_core::event::{EventBody, EventKind};
    let k = key();
    let doc = |kind: &str, id: &str, subject: &str, body: &str| crate::ExchangeDoc {
        kind: kind.into(),
        id: id.into(),
        subject: subject.into(),
        body: body.into(),
        event: 0,
    };
    let trusted = EventBody::exchange(EventKind::ExchangePeerTrusted, "", "peer:t", Default::default(), &prov(0));
    let before = s.ledger_size().map_err(|e| e.to_string())?;
    let fresh = crate::Expect { id: "peer:t".into(), at: None };
    let (idx, head) = s
        .put_exchange_docs(&[doc("peer", "peer:t", "", "{\"v\":1}")], Some(&fresh), &trusted, &k, 1)
        .map_err(|e| e.to_string())?;
    ensure!(idx == before && head.head.size == before + 1, "{idx} {}", head.head.size);
    let ev = s.event(idx).map_err(|e| e.to_string())?.ok_or("event missing")?;
    ensure!(ev.kind == "exchange.peer_trusted", "{ev:?}");
    // a second writer that read the peer before the first wrote it is refused
    let again = s.put_exchange_docs(&[doc("peer", "peer:t", "", "{}")], Some(&fresh), &trusted, &k, 2);
    ensure!(matches!(again, Err(crate::StoreError::Conflict(_))), "{again:?}");
    ensure!(s.ledger_size().map_err(|e| e.to_string())? == before + 1, "a refused write appended");
    let imported = EventBody::exchange(EventKind::ExchangeImported, "", "peer:t", Default::default(), &prov(0));
    let docs = [
        doc("peer", "peer:t", "", "{\"v\":2}"),
        doc("foreign", "foreign:t#b", "91110000000000000X", "{\"n\":2}"),
        doc("foreign", "foreign:t#a", "91110000000000000X", "{\"n\":1}"),
        doc("foreign", "foreign:t#c", "91120000000000000Y", "{}"),
    ];
    let read_at = crate::Expect { id: "peer:t".into(), at: Some(idx) };
    let (idx2, _) = s.put_exchange_docs(&docs, Some(&read_at), &imported, &k, 3).map_err(|e| e.to_string())?;
    let peer = s.exchange_doc("peer:t").map_err(|e| e.to_string())?.ok_or("peer missing")?;
    ensure!(peer.body == "{\"v\":2}" && peer.event == idx2 && peer.kind == "peer", "{peer:?}");
    let of = s.exchange_docs("foreign", Some("91110000000000000X")).map_err(|e| e.to_string())?;
    let ids: Vec<&str> = of.iter().map(|d| d.id.as_str()).collect();
    ensure!(ids == ["foreign:t#a", "foreign:t#b"], "one subject's, in id order: {ids:?}");
    ensure!(s.exchange_docs("foreign", None).map_err(|e| e.to_string())?.len() == 3, "every foreign doc");
    ensure!(s.exchange_docs("peer", Some("91110000000000000X")).map_err(|e| e.to_string())?.is_empty(), "by kind");
    ensure!(s.exchange_doc("foreign:none").map_err(|e| e.to_string())?.is_none(), "absent");
    Ok(())
}

/// 国密: a store written with an SM2 key hashes every leaf and node with SM3 — batches,
/// revocations, listing steps and documents alike — and its heads verify with SM2.
fn sm2_ledgers_hash_with_sm3(s: &mut dyn Store) -> Result<(), String> {
    use xinyong_core::event::{EventBody, EventKind};
    use xinyong_ledger::{Algorithm, TreeHash, root_of_in};
    let k = LedgerKey::try_generate_with("conformance.sm/ledger", Algorithm::Sm2).map_err(|e| e.to_string())?;
    let entries = vec![
        Entry::Record(Box::new(honour(A, "京发〔2024〕1号", "守合同重信用企业")?)),
        Entry::Record(Box::new(honour(B, "京发〔2024〕3号", "守合同重信用企业")?)),
    ];
    s.append(&entries, &k, 1).map_err(|e| e.to_string())?;
    let rec = s.records_of(A).map_err(|e| e.to_string())?.first().cloned().ok_or("record missing")?;
    s.revoke(rec.id, "复议撤销", &prov(0), &k).map_err(|e| e.to_string())?;
    let facts = Default::default();
    let event = EventBody::exchange(EventKind::ExchangePeerTrusted, "", "peer:x", facts, &prov(0));
    let (_, head) = s.put_exchange_docs(&[], None, &event, &k, 2).map_err(|e| e.to_string())?;
    let size = s.ledger_size().map_err(|e| e.to_string())?;
    for ev in s.events(0, size as u32).map_err(|e| e.to_string())? {
        ensure!(TreeHash::Sm3.leaf(&ev.payload) == ev.leaf, "event {} is not SM3-hashed", ev.index);
    }
    let leaves = s.leaf_hashes(size).map_err(|e| e.to_string())?;
    ensure!(root_of_in(TreeHash::Sm3, &leaves) == head.head.root, "the head's root is not the SM3 tree's");
    ensure!(xinyong_ledger::root_of(&leaves) != head.head.root, "an SHA-256 tree has another root");
    let verified = k.verifier().verify(&head.checkpoint).map_err(|e| e.to_string())?;
    ensure!(verified == head.head, "the SM2-signed head verifies");
    Ok(())
}

/// A breach record (`commitment_breach`) of `code`, commitment number `number`.
fn breach_record(code: &str, number: &str) -> Result<NewRecord, String> {
    let pairs = [
        ("承诺主体名称", "北京测试科技有限公司"),
        ("统一社会信用代码", code),
        ("承诺书编号", number),
        ("承诺事项", "食品经营许可申请材料容缺受理"),
        ("违诺情形", "逾期未补齐材料"),
        ("认定方式", "部门认定"),
        ("认定日期", "2026-10-20"),
        ("认定单位", "北京市市场监督管理局"),
    ];
    item_record(xinyong_core::commitment::BREACH_ITEM, &pairs, date!(2026 - 11 - 28), "北京市市场监督管理局", 1)
}

fn breach_records_are_found_by_subject(s: &mut dyn Store) -> Result<(), String> {
    let k = key();
    let breaches = |s: &dyn Store, code: &str| -> Result<Vec<String>, String> {
        Ok(s.breach_records_of(code).map_err(|e| e.to_string())?.into_iter().map(|r| r.key).collect())
    };
    s.append(&[Entry::Record(Box::new(honour(A, "京市监表〔2024〕1号", "守信企业")?))], &k, 1)
        .map_err(|e| e.to_string())?;
    ensure!(breaches(s, A)?.is_empty(), "a subject with an honour only has no breach");
    let two = [breach_record(B, "CN-2026-0001")?, breach_record(B, "CN-2026-0002")?];
    s.append(&two.map(|r| Entry::Record(Box::new(r))), &k, 2).map_err(|e| e.to_string())?;
    let found = breaches(s, B)?;
    ensure!(found.len() == 2 && found[0].contains("CN-2026-0001") && found[1].contains("CN-2026-0002"), "{found:?}");
    ensure!(breaches(s, A)?.is_empty(), "A still has none");
    ensure!(breaches(s, "91110000000000000X")?.is_empty(), "an unknown code has none");
    Ok(())
}

#[cfg(test)]
with_checks!(tests_per_check, sqlite_memory, run_sqlite_memory);
#[cfg(test)]
with_checks!(tests_per_check, sqlite_file, run_sqlite_file);
#[cfg(test)]
with_checks!(tests_per_check, postgres, run_postgres);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use crate::testing::{ScratchSchema, server_or_skip};

    fn outcome(name: &str, result: Result<(), String>) {
        if let Err(e) = result {
            panic!("conformance check {name} failed: {e}");
        }
    }

    pub(super) fn run_sqlite_memory(name: &str, check: Check) {
        let mut store = SqliteStore::open_in_memory().unwrap_or_else(|e| panic!("cannot open SQLite: {e}"));
        outcome(name, check(&mut store));
    }

    pub(super) fn run_sqlite_file(name: &str, check: Check) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut store =
            SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap_or_else(|e| panic!("cannot open SQLite: {e}"));
        outcome(name, check(&mut store));
    }

    /// Skipped with a visible line when no server answers (a failure under `CI`).
    pub(super) fn run_postgres(name: &str, check: Check) {
        let Some(base) = server_or_skip(&format!("conformance::postgres::{name}")) else { return };
        let schema = ScratchSchema::new(&base, "conf").unwrap_or_else(|e| panic!("cannot create a schema: {e}"));
        let mut store = schema.open().unwrap_or_else(|e| panic!("cannot open PostgreSQL: {e}"));
        outcome(name, check(&mut store));
    }

    #[test]
    fn run_all_runs_every_check_by_name() {
        let mut made = 0;
        let failures = run_all(&mut || {
            made += 1;
            match SqliteStore::open_in_memory() {
                Ok(s) => Box::new(s) as Box<dyn Store>,
                Err(e) => panic!("cannot open SQLite: {e}"),
            }
        });
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(made, CHECKS.len(), "one fresh store per check");
        let mut names: Vec<&str> = CHECKS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len(), "check names are unique");
    }
}
