//! A large SQLite store for the grading benchmark (`xinyong bench grading`), written
//! straight into the tables: 3 M subjects and 10 M records through intake would take
//! the better part of an hour (issue 16 measures that path), while grading only reads
//! the tables. The rows are shaped like the generated ones — the catalog's items in
//! realistic shares, tiers, departments, dates since 2019, the facet fields grading
//! reads (inspection results, tax levels, fines) in the content events — but the
//! ledger is not signed: `ledger verify` on this store fails, by design. Its frontier
//! is written, so intake appends after the fixture's events.

use std::path::Path;

use rusqlite::{Connection, params};
use time::Date;

use crate::{Result, SqliteStore};

/// splitmix64: a fixed seed gives the same store.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// An index into `weights` (cumulative shares out of their sum).
    fn pick(&mut self, weights: &[(&'static str, u64)]) -> &'static str {
        let total: u64 = weights.iter().map(|w| w.1).sum();
        let mut r = self.below(total);
        for (v, w) in weights {
            if r < *w {
                return v;
            }
            r -= w;
        }
        weights[0].0
    }
}

const ITEMS: &[(&str, u64)] = &[
    ("admin_licence", 30),
    ("admin_penalty", 25),
    ("admin_inspection", 15),
    ("credit_commitment", 8),
    ("tax_credit_rating", 6),
    ("honour", 4),
    ("admin_enforcement", 3),
    ("product_quality_failure", 2),
    ("commitment_breach", 1),
    ("admin_confirmation", 2),
    ("admin_reward", 2),
    ("admin_levy", 2),
];
const TIERS: &[(&str, u64)] = &[("minor", 20), ("general", 60), ("serious", 15), ("specially_serious", 5)];
const KINDS: &[(&str, u64)] = &[
    ("enterprise", 80),
    ("individual_business", 12),
    ("farmer_cooperative", 2),
    ("social_organisation", 2),
    ("private_non_enterprise", 2),
    ("public_institution", 2),
];
const RESULTS: &[(&str, u64)] = &[
    ("未发现问题", 80),
    ("发现问题已责令改正", 12),
    ("发现问题待后续处理", 3),
    ("通过登记的住所（经营场所）无法联系", 3),
    ("未发现开展本次抽查涉及的经营活动", 2),
];
const LEVELS: &[(&str, u64)] = &[("A", 30), ("B", 40), ("M", 15), ("C", 10), ("D", 5)];
const LISTS: &[(&str, u64)] = &[
    ("abnormal_operation", 60),
    ("key_attention", 10),
    ("serious_dishonesty", 10),
    ("dishonest_debtor", 15),
    ("red_list", 5),
];
const STATES: &[(&str, u64)] = &[("fulfilled", 70), ("breached", 10), ("pending", 20)];

fn departments() -> Vec<String> {
    let districts = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "通州区"];
    let mut out = Vec::new();
    for d in districts {
        for dept in ["市场监督管理局", "住房和城乡建设委员会", "城市管理综合行政执法局", "生态环境局"]
        {
            out.push(format!("北京市{d}{dept}"));
        }
    }
    out.push("国家税务总局北京市税务局".to_string());
    out
}

/// A commitment as the store keeps it, ended as `state` says.
fn commitment_doc(id: i64, subject: &str, department: &str, signed_on: Date, state: &str) -> Result<String> {
    use xinyong_core::commitment::{Channel, Commitment, CommitmentKind, EndedBy, Step};
    let on = signed_on + time::Duration::days(3);
    let steps = match state {
        "fulfilled" => vec![Step::Fulfilled {
            on,
            evidence: "基准测试".to_string(),
            by: EndedBy::Department,
            actor: "bench".to_string(),
        }],
        "breached" => {
            vec![Step::Breached {
                on,
                reason: "基准测试".to_string(),
                by: EndedBy::Department,
                actor: "bench".to_string(),
            }]
        }
        _ => Vec::new(),
    };
    let c = Commitment {
        record_id: id,
        subject: subject.to_string(),
        number: format!("K{id}"),
        department: department.to_string(),
        matter: Some("M-SAMR-0002".to_string()),
        kind: Some(CommitmentKind::MissingMaterials),
        signed_on,
        due: None,
        due_provisional: false,
        channel: Channel::Import,
        signer: None,
        steps,
        breach_record: None,
        first_event: 0,
        last_event: 0,
    };
    serde_json::to_string(&c).map_err(|e| crate::StoreError::Corrupt(e.to_string()))
}

/// Fills the SQLite store at `path` (created by `SqliteStore::open` if missing) with
/// `subjects` subjects, `records` records dated up to `today` and `listings` list
/// entries, most of them shaped like the ones intake derives from a court's or a
/// registrar's records (the record, the rule, the provider's document numbers, a
/// responsible person by resident ID).
pub fn fill_for_grading(path: &Path, subjects: u64, records: u64, listings: u64, seed: u64, today: Date) -> Result<()> {
    drop(SqliteStore::open(path)?);
    let mut conn = Connection::open(path)?;
    // a fixture, not acknowledged data: no journal, no syncs
    conn.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-262144;
         DROP INDEX IF EXISTS records_identity; DROP INDEX IF EXISTS records_subject;",
    )?;
    let mut rng = Rng(seed);
    let depts = departments();
    // valid codes (the API parses them), increasing with i (the subjects table's order)
    let codes: Vec<String> = (0..subjects)
        .map(|i| {
            xinyong_core::Uscc::complete(&format!("91110105{:08}", i % 100_000_000))
                .map_or_else(|| format!("91110105{i:010}"), |u| u.as_str().to_string())
        })
        .collect();
    let code = |i: u64| codes[i as usize].clone();
    let first_day = Date::from_calendar_date(2019, time::Month::January, 1).unwrap_or(today);
    let span = u64::try_from((today - first_day).whole_days()).unwrap_or(1).max(1);
    let industries = "ABCDEFGHIJKLMNOPQRST".as_bytes();

    let tx = conn.transaction()?;
    {
        let mut st = tx.prepare(
            "INSERT INTO subjects (code, kind, name, division, industry, created_event) VALUES (?1, ?2, ?3, '110105', ?4, 0)",
        )?;
        for i in 0..subjects {
            let section = industries[rng.below(industries.len() as u64) as usize] as char;
            let industry = format!("{section}{:04}", rng.below(10_000));
            st.execute(params![code(i), rng.pick(KINDS), format!("北京测试{i}有限公司"), industry])?;
        }
    }
    tx.commit()?;

    let mut event = 1i64;
    let mut done = 0u64;
    while done < records {
        let n = (records - done).min(1_000_000);
        let tx = conn.transaction()?;
        {
            let mut rec = tx.prepare(
                "INSERT INTO records (id, subject_code, provider, item, record_key, fingerprint, status, decision_date,
                                      tier, event_idx)
                 VALUES (?1, ?2, ?3, ?4, ?5, x'00', 'active', ?6, ?7, ?8)",
            )?;
            let mut ev = tx.prepare(
                "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf)
                 VALUES (?1, ?2, 'record.created', ?3, ?4, zeroblob(32))",
            )?;
            let mut com = tx.prepare(
                "INSERT INTO commitments (record_id, subject_code, department, state, doc, first_event, last_event)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)",
            )?;
            for _ in 0..n {
                done += 1;
                let id = done as i64;
                let subject = code(rng.below(subjects));
                let item = rng.pick(ITEMS);
                let provider = &depts[rng.below(depts.len() as u64) as usize];
                let day = first_day + time::Duration::days(rng.below(span) as i64);
                let tier = if item == "admin_penalty" { Some(rng.pick(TIERS)) } else { None };
                let field = match item {
                    "admin_inspection" => Some(("检查结果", rng.pick(RESULTS).to_string())),
                    "tax_credit_rating" => Some(("纳税信用级别", rng.pick(LEVELS).to_string())),
                    "admin_penalty" => Some(("罚款金额(万元)", format!("{}.{}", rng.below(20), rng.below(10)))),
                    _ => None,
                };
                // the content event, as intake writes it (the single grade reads it back)
                let facet = field.map(|(name, value)| {
                    let body = xinyong_core::event::EventBody {
                        at: 0,
                        batch: "bench-fixture".to_string(),
                        fields: Some([(name.to_string(), value)].into_iter().collect()),
                        item: Some(item.to_string()),
                        key: Some(format!("K{id}")),
                        kind: xinyong_core::event::EventKind::RecordCreated,
                        name: None,
                        provider: provider.clone(),
                        reason: None,
                        row: None,
                        source: "bench-fixture".to_string(),
                        subject: subject.clone(),
                        subject_kind: None,
                        v: 1,
                    };
                    body.canonical_bytes()
                });
                let at = match &facet {
                    Some(payload) => {
                        ev.execute(params![event, subject, id, payload])?;
                        event += 1;
                        event - 1
                    }
                    None => 0,
                };
                let date = format!("{day}");
                rec.execute(params![id, subject, provider, item, format!("K{id}"), date, tier, at])?;
                if item == "credit_commitment" && rng.below(2) == 0 {
                    let state = rng.pick(STATES);
                    let doc = commitment_doc(id, &subject, provider, day, state)?;
                    com.execute(params![id, subject, provider, state, doc])?;
                }
            }
        }
        tx.commit()?;
    }

    let tx = conn.transaction()?;
    {
        let mut st = tx.prepare(
            "INSERT INTO listings (id, subject_code, list_type, status, provider, basis, reason, objections,
                                   decision_date, start_date, end_date, document, persons, first_event, last_event,
                                   source_record, source_rule, source_item)
             VALUES (?1, ?2, ?3, 'listed', ?4, ?5, ?6, '[]', ?7, ?7, ?8, ?9, ?10, 0, 0, ?11, ?12, ?13)",
        )?;
        for i in 0..listings {
            let id = i as i64 + 1;
            let start = first_day + time::Duration::days(rng.below(span) as i64);
            let end = start + time::Duration::days(365 * 3);
            let list_type = rng.pick(LISTS);
            let subject = code(rng.below(subjects));
            // four in five follow from a record; one in two of those names a person
            let derived = rng.below(5) != 0;
            let provider = if derived { "北京市朝阳区人民法院" } else { "北京市市场监督管理局" };
            let basis = "《最高人民法院关于公布失信被执行人名单信息的若干规定》（法释〔2017〕7号）";
            let reason = "有履行能力而拒不履行生效法律文书确定义务";
            let mut document = serde_json::json!({ "basis": basis, "reason": reason });
            if derived {
                document["案号"] = format!("（{}）京0105执{id}号", start.year()).into();
                document["执行依据文号"] = format!("（{}）京0105民初{}号", start.year() - 1, rng.below(100_000)).into();
            }
            let person = (derived && rng.below(2) == 0)
                .then(|| {
                    let born = first_day - time::Duration::days(8_000 + rng.below(15_000) as i64);
                    let first17 = format!(
                        "110105{:04}{:02}{:02}{:03}",
                        born.year(),
                        u8::from(born.month()),
                        born.day(),
                        1 + rng.below(998)
                    );
                    xinyong_core::ResidentId::complete(&first17).map(|r| r.expose().to_string())
                })
                .flatten();
            let persons = match person {
                Some(p) => serde_json::json!([{ "role": "legal_representative", "name": "张三", "id": p }]),
                None => serde_json::json!([]),
            };
            st.execute(params![
                id,
                subject,
                list_type,
                provider,
                basis,
                reason,
                format!("{start}"),
                format!("{end}"),
                document.to_string(),
                persons.to_string(),
                derived.then_some(id),
                derived.then(|| format!("{list_type}@1")),
                derived.then_some("dishonest_debtor"),
            ])?;
        }
    }
    tx.commit()?;
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS records_identity ON records (provider, item, record_key);
         CREATE INDEX IF NOT EXISTS records_subject ON records (subject_code);
         PRAGMA journal_mode=WAL;",
    )?;
    // the ledger's frontier at the events written (zero leaves, as stored): intake goes
    // on appending after them, so imports into this store can be measured
    let size: i64 = conn.query_row("SELECT COALESCE(MAX(idx), -1) + 1 FROM events", [], |r| r.get(0))?;
    let size = u64::try_from(size).unwrap_or(0);
    let mut frontier = size.to_be_bytes().to_vec();
    frontier.resize(8 + 32 * size.count_ones() as usize, 0);
    conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('frontier', ?1)", params![frontier])?;
    Ok(())
}
