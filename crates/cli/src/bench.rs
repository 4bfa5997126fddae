//! `xinyong bench search`: name search latency and throughput against SQLite FTS5
//! (trigram tokenizer) on the same names, in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use rand::{Rng, SeedableRng};
use xinyong_app::subjects::{SearchIndex, SubjectDoc};

pub struct Figures {
    pub p50: Duration,
    pub p99: Duration,
    pub qps: f64,
}

fn figures(mut lat: Vec<Duration>, wall: Duration) -> Figures {
    lat.sort_unstable();
    let at = |q: f64| lat.get(((lat.len() as f64 - 1.0) * q) as usize).copied().unwrap_or_default();
    Figures { p50: at(0.5), p99: at(0.99), qps: lat.len() as f64 / wall.as_secs_f64() }
}

/// Reads (code, name, former names) from a generated registration CSV.
fn read_names(path: &Path) -> Result<Vec<SubjectDoc>> {
    let mut rdr =
        csv::ReaderBuilder::new().flexible(true).from_path(path).with_context(|| path.display().to_string())?;
    let h = rdr.headers()?.clone();
    let col = |n: &str| h.iter().position(|x| x == n).ok_or_else(|| anyhow!("no column {n}"));
    let (c, n, f) = (col("统一社会信用代码")?, col("主体名称")?, col("曾用名")?);
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r?;
        let (Some(code), Some(name)) = (r.get(c), r.get(n)) else { continue };
        let Ok(u) = xinyong_core::Uscc::parse(code) else { continue };
        if name.is_empty() {
            continue;
        }
        out.push(SubjectDoc {
            code: u.as_str().to_string(),
            display_code: u.as_str().to_string(),
            name: name.to_string(),
            former_names: r.get(f).unwrap_or("").split('；').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            kind: u.kind().as_str().to_string(),
            division: Some(u.division().to_string()),
        });
    }
    Ok(out)
}

/// Queries both engines can answer: 3–6 character pieces of names (trigram needs ≥ 3),
/// whole names, and 10-character code prefixes.
fn queries(docs: &[SubjectDoc], n: usize, seed: u64) -> Vec<String> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let d = &docs[rng.gen_range(0..docs.len())];
            let chars: Vec<char> = d.name.chars().collect();
            match i % 4 {
                0 => d.name.clone(),
                1 => d.code[..10].to_string(),
                _ => {
                    let len = rng.gen_range(3..=6.min(chars.len()).max(3));
                    let start = rng.gen_range(0..=chars.len().saturating_sub(len));
                    chars[start..(start + len).min(chars.len())].iter().collect()
                }
            }
        })
        .collect()
}

/// Query classes the trigram peer cannot answer (two characters, pinyin) and generic
/// words that match a large share of the names (有限公司, 北京市): xinyong alone.
const XINYONG_ONLY: [&str; 4] = ["two_chars", "pinyin_initials", "full_pinyin", "common_word"];
const COMMON_WORDS: [&str; 8] = ["有限公司", "北京市", "科技", "公司", "北京", "有限责任公司", "管理", "中心"];

fn xinyong_only_queries(docs: &[SubjectDoc], n: usize, seed: u64) -> Vec<(usize, String)> {
    use xinyong_app::subjects::pinyin_forms;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let d = &docs[rng.gen_range(0..docs.len())];
            let chars: Vec<char> = d.name.chars().filter(|c| !c.is_ascii_punctuation() && !c.is_whitespace()).collect();
            let start = rng.gen_range(0..chars.len().saturating_sub(1).max(1));
            let piece = |len: usize| -> String { chars.iter().skip(start).take(len).collect() };
            let class = i % XINYONG_ONLY.len();
            let q = match class {
                0 => piece(2),
                1 => {
                    let (initials, _) = pinyin_forms(&chars.iter().take(4).collect::<String>());
                    initials.chars().take(rng.gen_range(2..=4)).collect()
                }
                2 => pinyin_forms(&chars.iter().take(2).collect::<String>()).1,
                _ => COMMON_WORDS[rng.gen_range(0..COMMON_WORDS.len())].to_string(),
            };
            (class, q)
        })
        .collect()
}

pub fn search(names: &Path, work: &Path, n_queries: usize) -> Result<serde_json::Value> {
    std::fs::create_dir_all(work)?;
    let t = Instant::now();
    let docs = read_names(names)?;
    eprintln!("read {} names in {:.1?}", docs.len(), t.elapsed());

    // xinyong: tantivy index on disk
    // indexes from an earlier run over the same names are reused (build times then 0)
    let dir = work.join("tantivy");
    let mut index = SearchIndex::open_or_create(&dir).ok();
    if index.as_ref().is_none_or(|i| i.num_docs() != docs.len() as u64) {
        drop(index.take());
        let _ = std::fs::remove_dir_all(&dir);
        index = Some(SearchIndex::open_or_create(&dir)?);
    }
    let index = index.ok_or_else(|| anyhow!("no index"))?;
    let t = Instant::now();
    if index.num_docs() != docs.len() as u64 {
        for chunk in docs.chunks(50_000) {
            index.upsert(chunk)?;
        }
        index.commit()?;
    }
    let build_x = t.elapsed();
    eprintln!("tantivy index ready in {build_x:.1?}");

    // peer: SQLite FTS5 with the trigram tokenizer, same names and codes
    let db_path = work.join("fts5.sqlite3");
    let mut db = rusqlite::Connection::open(&db_path)?;
    let existing: i64 = db.query_row("SELECT count(*) FROM names", [], |r| r.get(0)).unwrap_or(-1);
    if existing != docs.len() as i64 {
        drop(db);
        let _ = std::fs::remove_file(&db_path);
        db = rusqlite::Connection::open(&db_path)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE VIRTUAL TABLE names USING fts5(code, name, former, tokenize='trigram');",
        )?;
    }
    let t = Instant::now();
    if existing != docs.len() as i64 {
        let tx = db.transaction()?;
        {
            let mut st = tx.prepare("INSERT INTO names (code, name, former) VALUES (?1, ?2, ?3)")?;
            for d in &docs {
                st.execute(rusqlite::params![d.code, d.name, d.former_names.join("；")])?;
            }
        }
        tx.commit()?;
    }
    let build_f = t.elapsed();
    eprintln!("FTS5 trigram index ready in {build_f:.1?}");

    let qs = queries(&docs, n_queries, 42);
    const CLASSES: [&str; 3] = ["whole_name", "code_prefix", "name_fragment"];
    let class = |i: usize| match i % 4 {
        0 => 0,
        1 => 1,
        _ => 2,
    };
    // warm both once
    for q in qs.iter().take(200) {
        let _ = index.search(q, 0, 20)?;
    }
    let mut lat = Vec::with_capacity(qs.len());
    let mut by_class_x: [Vec<Duration>; 3] = Default::default();
    let mut found_x = 0usize;
    let t = Instant::now();
    for (i, q) in qs.iter().enumerate() {
        let s = Instant::now();
        let page = index.search(q, 0, 20)?;
        let d = s.elapsed();
        lat.push(d);
        by_class_x[class(i)].push(d);
        found_x += usize::from(!page.hits.is_empty());
    }
    let fx = figures(lat, t.elapsed());
    eprintln!("xinyong queries done: p50 {:?} p99 {:?}", fx.p50, fx.p99);
    let mut by_class_only: [Vec<Duration>; XINYONG_ONLY.len()] = Default::default();
    let mut lower_bound = [0usize; XINYONG_ONLY.len()];
    for (class, q) in xinyong_only_queries(&docs, n_queries, 43) {
        let s = Instant::now();
        let page = index.search(&q, 0, 20)?;
        by_class_only[class].push(s.elapsed());
        lower_bound[class] += usize::from(page.total_is_lower_bound);
    }
    let only: Vec<serde_json::Value> = XINYONG_ONLY
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let n = by_class_only[i].len();
            let x = figures(std::mem::take(&mut by_class_only[i]), Duration::from_secs(1));
            serde_json::json!({"class": name, "queries": n, "xinyong_p50_ms": ms(x.p50), "xinyong_p99_ms": ms(x.p99),
                "total_is_lower_bound": lower_bound[i]})
        })
        .collect();

    let mut st = db.prepare("SELECT code, name FROM names WHERE names MATCH ?1 ORDER BY rank LIMIT 20")?;
    let mut run_f = |q: &str| -> Result<usize> {
        // a phrase: the trigram tokenizer then matches it as a substring
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        let rows = st.query_map([phrase], |r| r.get::<_, String>(0))?.count();
        Ok(rows)
    };
    for q in qs.iter().take(200) {
        run_f(q)?;
    }
    let mut lat = Vec::with_capacity(qs.len());
    let mut by_class_f: [Vec<Duration>; 3] = Default::default();
    let mut found_f = 0usize;
    let t = Instant::now();
    for (i, q) in qs.iter().enumerate() {
        let s = Instant::now();
        let n = run_f(q)?;
        let d = s.elapsed();
        lat.push(d);
        by_class_f[class(i)].push(d);
        found_f += usize::from(n > 0);
    }
    let ff = figures(lat, t.elapsed());
    let classes: Vec<serde_json::Value> = CLASSES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let x = figures(std::mem::take(&mut by_class_x[i]), Duration::from_secs(1));
            let f = figures(std::mem::take(&mut by_class_f[i]), Duration::from_secs(1));
            serde_json::json!({"class": name, "xinyong_p50_ms": ms(x.p50), "xinyong_p99_ms": ms(x.p99), "fts5_p50_ms": ms(f.p50), "fts5_p99_ms": ms(f.p99)})
        })
        .collect();
    let size = |p: &Path| -> u64 { walk(p).unwrap_or(0) };
    Ok(serde_json::json!({
        "names": docs.len(),
        "queries": qs.len(),
        "xinyong": {"p50_ms": ms(fx.p50), "p99_ms": ms(fx.p99), "qps": fx.qps.round(), "found": found_x, "build_s": build_x.as_secs_f64(), "index_mib": size(&dir) / 1_048_576},
        "fts5_trigram": {"p50_ms": ms(ff.p50), "p99_ms": ms(ff.p99), "qps": ff.qps.round(), "found": found_f, "build_s": build_f.as_secs_f64(), "index_mib": size(&db_path) / 1_048_576},
        "by_class": classes,
        "xinyong_only_by_class": only,
        "p99_ratio_fts5_over_xinyong": ms(ff.p99) / ms(fx.p99).max(1e-9),
        "qps_ratio_xinyong_over_fts5": fx.qps / ff.qps.max(1e-9),
    }))
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn walk(p: &Path) -> std::io::Result<u64> {
    let meta = std::fs::metadata(p)?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for e in std::fs::read_dir(p)? {
        total += walk(&e?.path())?;
    }
    Ok(total)
}

/// What `seed_listings` did.
#[derive(serde::Serialize)]
pub struct SeedSummary {
    pub subjects: u64,
    pub enterprises: u64,
    pub listings: u64,
    pub seconds: f64,
    pub listings_per_second: f64,
    pub sample: usize,
    pub sample_listed: usize,
}

/// `xinyong bench seed-listings`: direct listing decisions (one ledger event and signed
/// head each) for `fraction` of the subjects, spread evenly over the enterprises and
/// rotating over the list types that need no prior notice. Optionally writes a sample of codes (the listed
/// share as in the data) for the check benchmark's load generator.
pub fn seed_listings(data: &Path, fraction: f64, sample_out: Option<&Path>, sample_size: usize) -> Result<SeedSummary> {
    use xinyong_app::listings::{Actor, decide, sample_document};
    use xinyong_core::listing::{Decision, Notice};
    // 0 only samples codes: a store whose records derived list entries needs no more
    if !(0.0..=1.0).contains(&fraction) {
        return Err(anyhow!("--fraction must be in [0, 1]"));
    }
    let app = xinyong_app::App::open(data)?;
    let operator = xinyong_app::Caller::operator();
    let total = app.counts()?.subjects;
    // only enterprises are listed (the list types chosen apply to them), and subjects come
    // in code order, where kinds cluster by their code prefix: count the enterprises first,
    // then spread round(total × fraction) listings evenly over them
    let mut enterprises_total = 0u64;
    let mut after = String::new();
    loop {
        let page = app.subjects_after(&operator, &after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.code.clone();
        enterprises_total += page.iter().filter(|s| s.kind == "enterprise").count() as u64;
    }
    let target = ((total as f64 * fraction).round() as u64).min(enterprises_total);
    let due = |i: u64| (i + 1) * target / enterprises_total.max(1) > i * target / enterprises_total.max(1);
    // the sample: every subject with probability sample_size / total, independent of the listings
    let p_sample = if total == 0 { 0.0 } else { (sample_size as f64 / total as f64).min(1.0) };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let today = xinyong_app::today_shanghai();
    // (list type, department, basis, reason)
    const TYPES: [(&str, &str, &str, &str); 3] = [
        ("key_attention", "北京市发展和改革委员会", "《北京市社会信用条例》第三十条", "一年内两次被列入经营异常名录"),
        ("red_list", "国家税务总局北京市税务局", "《纳税信用管理办法》", "连续三年纳税信用A级"),
        (
            "key_attention",
            "北京市市场监督管理局",
            "《北京市社会信用条例》第三十条",
            "未按规定期限公示年度报告且逾期未改正",
        ),
    ];
    let mut sample: Vec<String> = Vec::new();
    let mut sample_listed = 0usize;
    let (mut seen, mut enterprises, mut listed) = (0u64, 0u64, 0u64);
    let mut after = String::new();
    let started = Instant::now();
    loop {
        let page = app.subjects_after(&operator, &after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.code.clone();
        for s in &page {
            seen += 1;
            let mut is_listed = false;
            if s.kind == "enterprise" {
                enterprises += 1;
                if due(enterprises - 1) {
                    let (lt, dept, basis, reason) = TYPES[(listed % 3) as usize];
                    let on = today - time::Duration::days(1 + (listed % 90) as i64);
                    let notice = Notice {
                        subject: s.code.clone(),
                        list_type: lt.into(),
                        provider: dept.into(),
                        basis: Some(basis.into()),
                        reason: reason.into(),
                        notice_date: on,
                        persons: Vec::new(),
                        scope: None,
                    };
                    let decision =
                        Decision { decision_date: on, start: None, end: None, document: sample_document(lt, basis) };
                    let actor = Actor { department: dept.into(), channel: "bench".into() };
                    decide(&app, Err(notice), decision, &actor, today)
                        .with_context(|| format!("listing {}", s.code))?;
                    listed += 1;
                    is_listed = true;
                    if listed % 5_000 == 0 {
                        let secs = started.elapsed().as_secs_f64();
                        eprintln!("{listed} listings, {seen} subjects, {:.0} listings/s", listed as f64 / secs);
                    }
                }
            }
            if rng.r#gen::<f64>() < p_sample {
                sample.push(s.code.clone());
                sample_listed += usize::from(is_listed);
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(out) = sample_out {
        let mut text = String::with_capacity(sample.len() * 19);
        for c in &sample {
            text.push_str(c);
            text.push('\n');
        }
        std::fs::write(out, text).with_context(|| out.display().to_string())?;
    }
    Ok(SeedSummary {
        subjects: seen,
        enterprises,
        listings: listed,
        seconds,
        listings_per_second: listed as f64 / seconds.max(1e-9),
        sample: sample.len(),
        sample_listed,
    })
}

/// One thread count's figures of `xinyong bench reads`.
#[derive(serde::Serialize)]
pub struct ReadFigures {
    pub threads: usize,
    pub reads: u64,
    pub seconds: f64,
    pub reads_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The process's resident memory after this thread count, and its peak so far: the
    /// readers' page caches are part of it.
    pub rss_mib: Option<u64>,
    pub peak_rss_mib: Option<u64>,
}

/// `xinyong bench reads`: public subject pages (store reads of the subject, its records
/// and their events, publication rules applied) by `threads` threads at once, each
/// through the app's reader pool, for `seconds` each.
pub fn reads(app: &xinyong_app::App, threads: &[usize], seconds: f64, sample: usize) -> Result<Vec<ReadFigures>> {
    let sample = sample_codes(app, sample)?;
    let today = xinyong_app::today_shanghai();
    let public = xinyong_app::Caller::public();
    let mut out = Vec::new();
    for &n in threads {
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let lats: Vec<Vec<Duration>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n.max(1))
                .map(|t| {
                    let (sample, public) = (&sample, &public);
                    scope.spawn(move || -> Result<Vec<Duration>> {
                        let mut lat = Vec::new();
                        let mut i = t * 7919;
                        while Instant::now() < deadline {
                            let code = &sample[i % sample.len()];
                            i += 1;
                            let t0 = Instant::now();
                            app.subject(public, code, today, None)?;
                            lat.push(t0.elapsed());
                        }
                        Ok(lat)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().map_err(|_| anyhow!("reader panicked"))?).collect::<Result<_>>()
        })?;
        let wall = started.elapsed();
        let all: Vec<Duration> = lats.into_iter().flatten().collect();
        let reads = all.len() as u64;
        let f = figures(all, wall);
        eprintln!("{n:>3} threads: {:>8.0} reads/s  p50 {:?}  p99 {:?}", f.qps, f.p50, f.p99);
        out.push(ReadFigures {
            threads: n,
            reads,
            seconds: wall.as_secs_f64(),
            reads_per_second: f.qps,
            p50_ms: f.p50.as_secs_f64() * 1000.0,
            p99_ms: f.p99.as_secs_f64() * 1000.0,
            rss_mib: status_mib("VmRSS:"),
            peak_rss_mib: peak_rss_mib(),
        });
    }
    Ok(out)
}

/// `n` subject codes drawn at random (fixed seed) from every subject in the store.
fn sample_codes(app: &xinyong_app::App, n: usize) -> Result<Vec<xinyong_core::SubjectCode>> {
    let operator = xinyong_app::Caller::operator();
    let mut codes = Vec::new();
    let mut after = String::new();
    loop {
        let page = app.subjects_after(&operator, &after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.code.clone();
        codes.extend(page.into_iter().map(|s| s.code));
    }
    if codes.is_empty() {
        return Err(anyhow!("no subjects in the store"));
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    Ok((0..n.max(1))
        .filter_map(|_| xinyong_core::SubjectCode::parse(&codes[rng.gen_range(0..codes.len())]).ok())
        .collect())
}

/// `xinyong bench report`: special credit reports of sampled subjects, made
/// (`App::make_report`: the view, sections, one inclusion proof per cited event,
/// signature, access-log entry) and rendered as PDF, one after the other; the peer is
/// the same subject's page read by the centre (`App::subject`), which every report
/// starts with, measured in the same run.
pub fn report(app: &xinyong_app::App, sample: usize) -> Result<serde_json::Value> {
    let codes = sample_codes(app, sample)?;
    let operator = xinyong_app::Caller::operator();
    let today = xinyong_app::today_shanghai();
    let req = xinyong_app::reports::ReportRequest {
        kind: Some("special".into()),
        purpose: Some("基准测试 / benchmark".into()),
        ..Default::default()
    };
    // the font is loaded once per process, as in a server: not part of a report
    let first = app.make_report(&operator, codes[0].key(), &req)?;
    app.report_pdf(&first)?;
    let (mut page, mut made, mut pdf, mut whole) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // a report that cites records reads every leaf under the head for its proofs; an
    // empty one (a clean entity's special report) reads the head only
    let (mut citing, mut empty) = (Vec::new(), Vec::new());
    let (mut bytes, mut cited) = (0usize, 0usize);
    let wall = Instant::now();
    for code in &codes {
        let t0 = Instant::now();
        app.subject(&operator, code, today, Some("基准测试 / benchmark".into()))?;
        page.push(t0.elapsed());
        let t1 = Instant::now();
        let issued = app.make_report(&operator, code.key(), &req)?;
        let t2 = Instant::now();
        let file = app.report_pdf(&issued)?;
        made.push(t2 - t1);
        pdf.push(t2.elapsed());
        whole.push(t1.elapsed());
        if issued.report.evidence.is_empty() { &mut empty } else { &mut citing }.push(t1.elapsed());
        bytes += file.len();
        cited += issued.report.evidence.len();
    }
    let wall = wall.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (n_citing, n_empty) = (citing.len(), empty.len());
    let (page, made, pdf, whole) = (figures(page, wall), figures(made, wall), figures(pdf, wall), figures(whole, wall));
    let (citing, empty) = (figures(citing, wall), figures(empty, wall));
    eprintln!("report p50 {:?} p99 {:?}  (subject page p50 {:?})", whole.p50, whole.p99, page.p50);
    Ok(serde_json::json!({
        "reports": codes.len(),
        "ledger_size": app.counts()?.events,
        "cited_events_per_report": cited as f64 / codes.len() as f64,
        "pdf_kib_per_report": bytes as f64 / 1024.0 / codes.len() as f64,
        "report_p50_ms": ms(whole.p50), "report_p99_ms": ms(whole.p99),
        "citing_reports": n_citing, "citing_p50_ms": ms(citing.p50), "citing_p99_ms": ms(citing.p99),
        "empty_reports": n_empty, "empty_p50_ms": ms(empty.p50), "empty_p99_ms": ms(empty.p99),
        "make_p50_ms": ms(made.p50), "pdf_p50_ms": ms(pdf.p50), "pdf_p99_ms": ms(pdf.p99),
        "peer_subject_page_p50_ms": ms(page.p50), "peer_subject_page_p99_ms": ms(page.p99),
        "report_over_page_p50": whole.p50.as_secs_f64() / page.p50.as_secs_f64().max(1e-9),
    }))
}

/// The process's peak resident memory (VmHWM), in MiB.
/// The whole store as one exchange batch, exported and imported by a fresh platform in
/// `work`, against `ledger verify` reading and hashing the same events in the same run.
pub fn exchange(app: &xinyong_app::App, work: &Path) -> Result<serde_json::Value> {
    let op = xinyong_app::Caller::operator();
    if work.exists() {
        std::fs::remove_dir_all(work)?;
    }
    let t = Instant::now();
    let verified = app.verify_ledger()?;
    let verify = t.elapsed();
    // the batch goes through a file, as between two machines
    std::fs::create_dir_all(work)?;
    let file = work.with_extension("jsonl");
    let t = Instant::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    let header = app.export_batch_to(&op, 0, "xinyong.bench/receiver", &mut out)?;
    out.into_inner().map_err(|e| anyhow!("{e}"))?.sync_all()?;
    let export = t.elapsed();
    let batch_bytes = std::fs::metadata(&file)?.len();
    let receiver = xinyong_app::App::init(work, None, "xinyong.bench/receiver", Default::default())?;
    receiver.trust_peer(&op, &app.verifier().to_text())?;
    let t = Instant::now();
    let done = receiver.import_batch_from(&op, std::io::BufReader::new(std::fs::File::open(&file)?))?;
    let import = t.elapsed();
    std::fs::remove_file(&file)?;
    let events = verified.size as f64;
    let deltas = header.deltas as f64;
    let per_s = |n: f64, d: Duration| (n / d.as_secs_f64()).round();
    Ok(serde_json::json!({
        "events": verified.size,
        "deltas": header.deltas,
        "batch_mib": (batch_bytes as f64 / 1048576.0 * 10.0).round() / 10.0,
        "entries_received": done.entries_changed,
        "peer_ledger_verify_s": ms(verify) / 1000.0,
        "peer_events_per_s": per_s(events, verify),
        "export_s": ms(export) / 1000.0,
        "export_events_per_s": per_s(events, export),
        "export_vs_verify": ((verify.as_secs_f64() / export.as_secs_f64()) * 100.0).round() / 100.0,
        "import_s": ms(import) / 1000.0,
        "import_deltas_per_s": per_s(deltas, import),
        "import_vs_verify_per_event": ((verify.as_secs_f64() / events) / (import.as_secs_f64() / deltas) * 100.0).round() / 100.0,
        "peak_rss_mib": peak_rss_mib(),
    }))
}

fn peak_rss_mib() -> Option<u64> {
    status_mib("VmHWM:")
}

/// A figure of this process's `/proc/self/status` in MiB (`key` with its colon).
fn status_mib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// `xinyong bench grading`: every subject graded by every model (`App::grade_all`) on a
/// store of `subjects`, `records` and `listings` (written once into `work` by the fixture), against
/// the peer — `sqlite3` counting the same records per subject and item with GROUP BY —
/// in the same run; then single subjects regraded as the projector does.
pub fn grading(work: &Path, subjects: u64, records: u64, listings: u64, runs: usize) -> Result<serde_json::Value> {
    let db = work.join("xinyong.sqlite3");
    let today = xinyong_app::today_shanghai();
    let mut filled_ms = None;
    if !db.exists() {
        drop(xinyong_app::App::open(work)?);
        let started = Instant::now();
        xinyong_app::testing::fill_for_grading(&db, subjects, records, listings, 16, today)?;
        filled_ms = Some(started.elapsed().as_millis() as u64);
    }
    let app = xinyong_app::App::open(work)?;
    let counts = app.counts()?;
    let mut ours = Vec::new();
    let mut book = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        book = Some(app.grade_all(today)?);
        ours.push(started.elapsed());
    }
    let book = book.ok_or_else(|| anyhow!("no run"))?;
    let peer_sql = "SELECT count(*) FROM (SELECT subject_code, item, count(*) FROM records \
                    WHERE status <> 'revoked' AND repaired_event IS NULL GROUP BY subject_code, item);";
    let mut peer = Vec::new();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let out = std::process::Command::new("sqlite3")
            .arg(&db)
            .arg(peer_sql)
            .output()
            .context("run sqlite3 (apt-get install sqlite3)")?;
        if !out.status.success() {
            return Err(anyhow!("sqlite3: {}", String::from_utf8_lossy(&out.stderr)));
        }
        peer.push(started.elapsed());
    }
    // single subjects, fresh from the store as the API answers them
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let mut single = Vec::new();
    let operator = xinyong_app::Caller::operator();
    let mut after = String::new();
    let mut sample = Vec::new();
    while sample.len() < 1000 {
        let page = app.subjects_after(&operator, &after, 5000)?;
        let Some(last) = page.last() else { break };
        after = last.code.clone();
        for s in page {
            if rng.gen_range(0..100u32) < 1 || counts.subjects < 100_000 {
                sample.push(s.code);
            }
        }
    }
    sample.truncate(1000);
    for code in &sample {
        let code = xinyong_core::SubjectCode::parse(code).map_err(|e| anyhow!("{}", e[0]))?;
        let started = Instant::now();
        app.grades_of(&operator, &code, today)?;
        single.push(started.elapsed());
    }
    let min = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let median = |v: &[Duration]| {
        let mut s = v.to_vec();
        s.sort_unstable();
        s.get(s.len() / 2).copied().unwrap_or_default()
    };
    let single_figures = figures(single, Duration::from_secs(1));
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let figures = book.figures(app.grading_models()?);
    Ok(serde_json::json!({
        "subjects": counts.subjects,
        "records": counts.records,
        "db_gib": (db_bytes as f64 / (1u64 << 30) as f64 * 100.0).round() / 100.0,
        "fixture_written_ms": filled_ms,
        "runs": runs,
        "grade_all_ms": {"min": ms(min(&ours)), "median": ms(median(&ours)),
                         "last_run_parts": {"scan": book.scan_millis, "sort": book.sort_millis, "grade": book.grade_millis}},
        "peer_sqlite3_group_by_ms": {"min": ms(min(&peer)), "median": ms(median(&peer))},
        "ratio_ours_to_peer_min": (ms(min(&ours)) / ms(min(&peer)) * 100.0).round() / 100.0,
        "single_subject_ms": {"p50": ms(single_figures.p50), "p99": ms(single_figures.p99), "n": sample.len()},
        "peak_rss_mib": peak_rss_mib(),
        "distribution": figures.models,
    }))
}
