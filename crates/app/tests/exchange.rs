//! Two platforms on one machine (Beijing and Tianjin, each its own data directory and
//! ledger name) exchange signed batches: a listing, a repair and a revocation travel,
//! each side verifies the other's ledger (anchor, digest, consistency), altered,
//! untrusted and out-of-order batches change nothing; a subscribed agency receives the
//! repair, acknowledges it, and the entity sees who applied it; the k-anonymous list
//! check finds the entry by a hash prefix.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::account;
use time::Duration;
use xinyong_app::cases::AmendRequest;
use xinyong_app::ledger::Algorithm;
use xinyong_app::listings::{DecisionRequest, ListingRequest};
use xinyong_app::subscriptions::{AcknowledgementRequest, SubscriptionRequest, code_hash, listed_in};
use xinyong_app::{App, Caller, today_shanghai};
use xinyong_core::SubjectCode;
use xinyong_core::exchange::{ForeignState, Op, Target};
use xinyong_core::record::date_string;

const ME: &str = "91110108551385082Q";
const SAMR: &str = "北京市海淀区市场监督管理局";
const TJ_SAMR: &str = "天津市和平区市场监督管理局";

fn penalty(doc: &str, authority: &str, decided: time::Date) -> BTreeMap<String, String> {
    common::penalty_row(ME, doc, authority, decided, "罚款", "普通程序")
}

fn regional(app: &App, who: &Caller) -> Vec<xinyong_core::exchange::ForeignEntry> {
    let code = SubjectCode::parse(ME).unwrap();
    let view = app.subject(who, &code, today_shanghai(), Some("test".into())).unwrap().unwrap();
    view.regional.into_iter().map(|r| r.entry).collect()
}

#[test]
fn two_platforms_exchange_a_listing_a_repair_and_a_revocation_and_an_agency_acknowledges_the_repair() {
    let (bj_dir, tj_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let bj = App::init(bj_dir.path(), None, "xinyong.beijing/ledger", Algorithm::Ed25519).unwrap();
    // Tianjin signs with SM2 and hashes with SM3 (国密): each side verifies the other's
    let tj = App::init(tj_dir.path(), None, "xinyong.tianjin/ledger", Algorithm::Sm2).unwrap();
    // the same directory under another name is refused: the name is in every head
    assert!(App::init(bj_dir.path(), None, "xinyong.hebei/ledger", Algorithm::Ed25519).is_err());
    let today = today_shanghai();
    let rows = [
        penalty("京海市监罚〔2026〕11号", SAMR, today - Duration::days(200)),
        penalty("京海市监罚〔2026〕21号", SAMR, today - Duration::days(100)),
    ];
    assert_eq!(xinyong_app::intake::ingest_rows(&bj, "admin_penalty", SAMR, "test", &rows).unwrap().accepted, 2);
    let tj_rows = [penalty("津和市监罚〔2026〕5号", TJ_SAMR, today - Duration::days(30))];
    assert_eq!(xinyong_app::intake::ingest_rows(&tj, "admin_penalty", TJ_SAMR, "test", &tj_rows).unwrap().accepted, 1);
    let officer = account(&bj, "samr", "officer", Some(SAMR), None);
    let me = account(&bj, "me", "subject", None, Some(ME));
    let bank = account(&bj, "bank", "agency", None, None);
    let tj_admin = account(&tj, "admin", "admin", None, None);

    // a serious-dishonesty listing, decided in Beijing
    let listing = ListingRequest {
        code: ME.into(),
        list_type: "serious_dishonesty".into(),
        basis: Some("《严重失信主体名单管理办法》第五条".into()),
        reason: "拒不履行".into(),
        notice_date: Some(date_string(today - Duration::days(60))),
        persons: vec![],
        decision: None,
        scope: None,
        department: None,
    };
    let lid = bj.propose_listing(&officer, listing, "test").unwrap().listing.id;
    let document = xinyong_app::listings::sample_document("serious_dishonesty", "《企业信息公示暂行条例》");
    let decision =
        DecisionRequest { decision_date: date_string(today - Duration::days(40)), start: None, end: None, document };
    bj.decide_listing(&officer, lid, decision, "test").unwrap();

    // each trusts the other's published key; only the centre may
    let op = Caller::operator();
    assert_eq!(tj.trust_peer(&tj_admin, &bj.verifier().to_text()).unwrap().size, 0);
    tj.trust_peer(&op, &bj.verifier().to_text()).unwrap(); // again: unchanged
    bj.trust_peer(&op, &tj.verifier().to_text()).unwrap();
    assert_eq!(bj.trust_peer(&officer, &tj.verifier().to_text()).unwrap_err().code(), "forbidden");
    assert_eq!(bj.trust_peer(&op, &bj.verifier().to_text()).unwrap_err().code(), "peer_key");

    // a report made in Beijing verifies in Tianjin against Beijing's pinned key, and in
    // Hebei (who trusts no one) not at all
    let report = bj.make_report(
        &me,
        ME,
        &xinyong_app::reports::ReportRequest { kind: Some("special".into()), ..Default::default() },
    );
    let bundle = report.unwrap().bundle;
    let there = tj.verify_report(bundle.as_bytes()).unwrap();
    assert!(
        there.verdict.ok && there.from_peer && there.signed_by == "xinyong.beijing/ledger",
        "{:#?}",
        there.verdict.checks
    );
    assert!(!there.consistent_with_ledger && there.changes.is_empty(), "Tianjin holds no Beijing ledger");

    // batch 1: two penalties and the listing
    let first = bj.export_batch(&op, 0, "xinyong.tianjin/ledger").unwrap();
    let done = tj.import_batch(&op, &first.text).unwrap();
    assert!(!done.already_applied && done.entries_changed == 3, "{done:?}");
    let seen = regional(&tj, &tj_admin);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|e| e.origin == "xinyong.beijing/ledger" && e.state == ForeignState::InForce));
    // the public of Tianjin sees the Beijing listing, marked with its origin, and not the persons
    let public = regional(&tj, &Caller::public());
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!((public[0].target, public[0].item.as_str()), (Target::Listing, "serious_dishonesty"));
    assert!(!public[0].fields.contains_key("persons") && public[0].fields.contains_key("basis"));
    // the same batch again changes nothing
    assert!(tj.import_batch(&op, &first.text).unwrap().already_applied);

    // in Beijing: the older fine repaired, the newer one revoked
    let records = bj.subject(&officer, &SubjectCode::parse(ME).unwrap(), today, Some("t".into())).unwrap().unwrap();
    let id_of = |doc: &str| records.records.iter().find(|r| r.key.contains(doc)).unwrap().id;
    let case = common::apply_for_repair(&bj, &me, ME, id_of("11号"));
    common::grant(&bj, &officer, case);
    let revoke =
        AmendRequest { reason: "复议撤销".into(), document: "京海复决〔2026〕2号".into(), fields: None };
    bj.amend_record(&officer, id_of("21号"), &revoke, "test").unwrap();

    // an agency with a documented relation subscribes before batch 2 is made
    let sub =
        SubscriptionRequest {
            subject: ME.into(), purpose: "贷后管理".into(), relation: "贷款申请 2026-118".into()
        };
    assert_eq!(bj.subscribe(&officer, &sub).unwrap_err().code(), "forbidden");
    let no_purpose = SubscriptionRequest { purpose: " ".into(), ..sub.clone() };
    assert_eq!(bj.subscribe(&bank, &no_purpose).unwrap_err().code(), "purpose_required");
    bj.subscribe(&bank, &sub).unwrap();

    // a batch from a cursor the receiver has not verified is refused, and changes nothing
    let cursor = tj.peers(&op).unwrap()[0].size;
    assert_eq!(cursor, first.header.until + 1);
    let gap = bj.export_batch(&op, cursor - 1, "*").unwrap();
    assert_eq!(tj.import_batch(&op, &gap.text).unwrap_err().code(), "exchange_batch");
    // batch 2 from the receiver's cursor: a repair and a revocation
    let second = bj.export_batch(&op, cursor, "xinyong.tianjin/ledger").unwrap();
    let ops: Vec<Op> = second
        .text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| serde_json::from_value(v["op"].clone()).unwrap())
        .collect();
    assert!(ops.contains(&Op::Repair) && ops.contains(&Op::Revoke), "{ops:?}");
    // altered in transit (one delta line): refused, nothing applied
    let altered = second.text.replace("复议撤销", "复议维持");
    assert_ne!(altered, second.text);
    assert_eq!(tj.import_batch(&op, &altered).unwrap_err().code(), "exchange_batch");
    assert_eq!(tj.peers(&op).unwrap()[0].size, cursor);
    // a batch from a platform not trusted: refused
    let hebei_dir = tempfile::tempdir().unwrap();
    let hebei = App::init(hebei_dir.path(), None, "xinyong.hebei/ledger", Algorithm::Ed25519).unwrap();
    let stranger = hebei.export_batch(&op, 0, "*").unwrap();
    let untrusted = hebei.verify_report(bundle.as_bytes()).unwrap();
    assert!(!untrusted.verdict.ok && !untrusted.from_peer && untrusted.signed_by == "xinyong.hebei/ledger");
    assert_eq!(tj.import_batch(&op, &stranger.text).unwrap_err().code(), "peer_not_trusted");

    let done = tj.import_batch(&op, &second.text).unwrap();
    assert!(!done.already_applied, "{done:?}");
    let seen = regional(&tj, &tj_admin);
    assert_eq!(seen.len(), 1, "only the listing is still in force: {seen:?}");
    assert_eq!(seen[0].target, Target::Listing);

    // the other way: Tianjin's penalty reaches Beijing, verified against Tianjin's key
    let tj_batch = tj.export_batch(&op, 0, "xinyong.beijing/ledger").unwrap();
    bj.import_batch(&op, &tj_batch.text).unwrap();
    let seen = regional(&bj, &officer);
    assert!(seen.iter().any(|e| e.origin == "xinyong.tianjin/ledger" && e.fields.values().any(|v| v.contains("津和"))));
    // both ledgers still verify, with every exchange event in them
    assert!(bj.verify_ledger().unwrap().ok && tj.verify_ledger().unwrap().ok);

    // the agency's feed carries the repair; it acknowledges it
    let feed = bj.feed(&bank, 0).unwrap();
    let repaired = feed.deltas.iter().find(|d| d.op == Op::Repair && d.target == Target::Record).unwrap();
    assert!(feed.deltas.iter().all(|d| d.subject == ME), "only its subjects");
    assert!(feed.checkpoint.is_some() && feed.until == bj.counts().unwrap().events);
    let added = feed.deltas.iter().find(|d| d.op == Op::Add).unwrap();
    let wrong = AcknowledgementRequest { indexes: vec![added.index] };
    assert_eq!(bj.acknowledge(&bank, &wrong).unwrap_err().code(), "indexes");
    let ack = bj.acknowledge(&bank, &AcknowledgementRequest { indexes: vec![repaired.index] }).unwrap();
    assert_eq!(ack.applied.len(), 1);
    // the entity sees which re-publisher applied its repair, and when; the public does not
    let mine = bj.subject(&me, &SubjectCode::parse(ME).unwrap(), today, None).unwrap().unwrap();
    let shown = mine.republications.unwrap();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!((shown[0].agency.as_str(), shown[0].index, shown[0].op), ("bank", repaired.index, Op::Repair));
    let public = bj.subject(&Caller::public(), &SubjectCode::parse(ME).unwrap(), today, None).unwrap().unwrap();
    assert!(public.republications.is_none());

    // the k-anonymous check: a prefix of the hash, the entry's hash back
    let prefix = &code_hash(ME)[..5];
    let answer = bj.list_range(&bank, prefix).unwrap();
    assert_eq!(listed_in(&answer, &SubjectCode::parse(ME).unwrap()), vec!["serious_dishonesty".to_string()]);
    assert!(answer.entries.iter().all(|e| e.subject_sha256.starts_with(prefix)));
    assert_eq!(bj.list_range(&bank, "ab").unwrap_err().code(), "prefix");
    assert_eq!(bj.list_range(&bank, &code_hash(ME)).unwrap_err().code(), "prefix");
}

/// A batch applied a few deltas a transaction gives what one transaction gives, and the
/// spool file of the export is gone afterwards.
#[test]
fn a_batch_applied_in_chunks_gives_the_same_entries() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let sender = App::init(dirs[0].path(), None, "xinyong.beijing/ledger", Algorithm::Ed25519).unwrap();
    let today = today_shanghai();
    let rows: Vec<_> =
        (1..=23).map(|i| penalty(&format!("京海市监罚〔2026〕{i}号"), SAMR, today - Duration::days(10 + i))).collect();
    assert_eq!(xinyong_app::intake::ingest_rows(&sender, "admin_penalty", SAMR, "test", &rows).unwrap().accepted, 23);
    let op = Caller::operator();
    let batch = sender.export_batch(&op, 0, "*").unwrap();
    let spools = std::fs::read_dir(dirs[0].path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".spool"));
    assert_eq!(spools.count(), 0, "the spool file is removed");
    let mut seen = Vec::new();
    for (dir, chunk) in [(&dirs[1], 10_000), (&dirs[2], 4)] {
        let receiver = App::init(dir.path(), None, "xinyong.tianjin/ledger", Algorithm::Ed25519).unwrap();
        // the receiver knows the subject: an entity active in both regions
        let own = [penalty("津和市监罚〔2026〕5号", TJ_SAMR, today - Duration::days(3))];
        xinyong_app::intake::ingest_rows(&receiver, "admin_penalty", TJ_SAMR, "test", &own).unwrap();
        receiver.trust_peer(&op, &sender.verifier().to_text()).unwrap();
        let done = receiver.import_batch_chunked(&op, std::io::Cursor::new(batch.text.as_bytes()), chunk).unwrap();
        assert_eq!((done.deltas, done.entries_changed), (23, 23), "{done:?}");
        assert_eq!(receiver.peers(&op).unwrap()[0].size, batch.header.until + 1);
        assert!(receiver.import_batch(&op, &batch.text).unwrap().already_applied);
        assert!(receiver.verify_ledger().unwrap().ok);
        let mut entries = regional(&receiver, &op);
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        seen.push(entries);
    }
    assert_eq!(seen[0].len(), 23);
    assert_eq!(seen[0], seen[1], "chunked or not, the same entries");
}
