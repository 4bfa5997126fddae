//! `xinyong`: the command line of the public credit information platform.

mod bench;

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use xinyong_app::accounts::{NewAccountRequest, new_secret};
use xinyong_app::quarantine::{Outcome, QuarantineQuery};
use xinyong_app::quarantine_files::SheetFormat;
use xinyong_app::synthetic::{GenEncoding, GenFormat, GenOptions};
use xinyong_app::{App, Caller, intake, ledger};
use xinyong_core::calendar::WorkCalendar;
use xinyong_core::codes::{SubjectCode, mask_id};

// Intake allocates on the parser thread and frees on the writer thread; glibc's
// allocator trims and re-faults pages under that pattern (a third of the CPU time
// in profiles). mimalloc keeps per-thread free lists.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "xinyong", version, about = "xinyong (信用): public credit information platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DataArg {
    /// Data directory (SQLite store and ledger key).
    #[arg(long, default_value = "./xinyong-data", global = true)]
    data: PathBuf,
    /// Store in PostgreSQL instead of SQLite in the data directory (the ledger key stays
    /// there): postgres://USER@HOST:PORT/DB, a schema with ?options=-csearch_path%3DNAME.
    #[arg(long, env = "XINYONG_DATABASE", global = true)]
    database: Option<String>,
}

impl DataArg {
    fn open(&self) -> Result<App> {
        Ok(App::open_with(&self.data, self.database.as_deref())?)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Check USCC / resident ID codes (arguments, or one per line on stdin).
    Code {
        #[command(subcommand)]
        cmd: CodeCmd,
    },
    /// Working-day calendar: the bundled official years (2019–2026), years added with
    /// `add-year`, and provisional dates past them.
    Calendar {
        #[command(subcommand)]
        cmd: CalendarCmd,
    },
    /// Import a department file (CSV UTF-8/GB18030, XLSX, JSONL) for one catalog item.
    Import {
        file: PathBuf,
        /// Catalog item code, e.g. admin_penalty.
        #[arg(long)]
        item: String,
        /// Providing department.
        #[arg(long)]
        provider: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Rows refused at intake: list and resubmit after correction.
    Quarantine {
        #[command(subcommand)]
        cmd: QuarantineCmd,
    },
    /// Due process: a provider's correction or revocation of its own record.
    Record {
        #[command(subcommand)]
        cmd: RecordCmd,
    },
    /// Webhooks of machine recipients (departments' systems, banks): notifications are
    /// POSTed to them, signed, with retries.
    Webhook {
        #[command(subcommand)]
        cmd: WebhookCmd,
    },
    /// Due-process cases (objections, repairs, rectifications, interviews).
    Cases {
        #[command(subcommand)]
        cmd: CasesCmd,
    },
    /// The Merkle ledger: verify, proofs, head.
    Ledger {
        #[command(subcommand)]
        cmd: LedgerCmd,
    },
    /// Grades (信用分级分类): one subject's, explained, or every subject's.
    Grade {
        #[command(subcommand)]
        cmd: GradeCmd,
    },
    /// Double-random inspection plans (双随机、一公开).
    Inspections {
        #[command(subcommand)]
        cmd: InspectionsCmd,
    },
    /// Credit reports (信用报告): make one as the credit centre, or verify a report file
    /// offline.
    Report {
        #[command(subcommand)]
        cmd: ReportCmd,
    },
    /// Initialise a data directory: its ledger's name (origin) and signing key. Each
    /// platform that exchanges with others needs a name of its own.
    Init {
        /// The ledger's name, e.g. xinyong.tianjin/ledger (no spaces or '+').
        #[arg(long, default_value = xinyong_app::LEDGER_ORIGIN)]
        origin: String,
        /// Signature scheme and tree hash: ed25519 (Ed25519 / SHA-256) or sm2 (国密 SM2 / SM3).
        #[arg(long, default_value = "ed25519")]
        algorithm: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Signed exchange with other platforms (京津冀, 长三角, 异地互认): trust a peer's
    /// key, export a batch of deltas for it, import one of its batches.
    Exchange {
        #[command(subcommand)]
        cmd: ExchangeCmd,
    },
    /// Witnesses (C2SP tlog-witness): run one for another platform, or have this
    /// platform's heads cosigned.
    Witness {
        #[command(subcommand)]
        cmd: WitnessCmd,
    },
    /// A subject and its records (personal IDs masked).
    Subject {
        code: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Generate deterministic synthetic data, one file per catalog item.
    Gen {
        #[arg(long)]
        subjects: u64,
        #[arg(long)]
        records: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Percentage of dirty rows (bad codes, missing fields, bad dates, duplicates, blanks).
        #[arg(long, default_value_t = 0)]
        dirty: u32,
        /// File format; `mixed` writes CSV and credit commitments as JSON Lines.
        #[arg(long, value_enum, default_value_t = FormatArg::Mixed)]
        format: FormatArg,
        #[arg(long, value_enum, default_value_t = EncodingArg::Utf8)]
        encoding: EncodingArg,
    },
    /// Serve the JSON API and the portal.
    Serve {
        #[command(flatten)]
        data: DataArg,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// On first start, load a generated demo data set and create demo accounts
        /// (written to DATA/demo-credentials.json).
        #[arg(long)]
        demo: bool,
        /// Mark session cookies Secure (behind an HTTPS proxy).
        #[arg(long)]
        secure_cookies: bool,
        /// The due-process rule set (data/due_process/rules.toml): national-2025,
        /// beijing, shanghai-2017, shenzhen-2022 …; default the file's.
        #[arg(long)]
        due_process: Option<String>,
        /// Log lines as `text` (colour only on a terminal) or `json` (one object a line,
        /// for log collectors).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
        #[arg(long, default_value_t = 30_000, hide = true)]
        demo_subjects: u64,
        #[arg(long, default_value_t = 150_000, hide = true)]
        demo_records: u64,
    },
    /// Accounts: credit-centre administrators and department officers.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Benchmarks against a peer in the same run (see BENCHMARKS.md).
    #[command(subcommand, hide = true)]
    Bench(BenchCmd),
    /// Copy a whole store into an empty one on another back end (data directory ⇄
    /// postgres:// URL): every row, payload and signed head unchanged; then verify it.
    Migrate {
        /// Source: a data directory (SQLite) or a postgres:// URL.
        #[arg(long)]
        from: String,
        /// Target: a postgres:// URL or a data directory; must be empty.
        #[arg(long)]
        to: String,
        /// With a URL as --from: the data directory holding the ledger key.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Generate a demo data set, import it and verify the ledger.
    Demo {
        #[arg(long, default_value_t = 20_000)]
        subjects: u64,
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum ExchangeCmd {
    /// Trust another platform's batches: its ledger.pub (a file or the key text).
    Trust {
        key: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// The platforms trusted, with the tree size verified of each.
    Peers {
        #[command(flatten)]
        data: DataArg,
    },
    /// Make a batch of every delta since the receiver's cursor (the tree size it verified
    /// of this platform last; 0 the first time), anchored in this ledger.
    Export {
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// The receiving platform's origin (recorded in the anchor).
        #[arg(long, default_value = "*")]
        to: String,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Verify a trusted peer's batch (its signed head, the anchor, the consistency of
    /// its ledger with the head verified before) and apply it.
    Import {
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum ReportCmd {
    /// Verify a report file (the PDF, or the signed bundle) with nothing but the file:
    /// signatures, the ledger checkpoint and every inclusion proof. Prints the verdict as
    /// JSON; exits 1 when a check fails.
    Verify {
        file: PathBuf,
        /// The platform's published key (`ledger.pub`, or the `verifier_key` of
        /// `GET /api/v1/ledger/head`), a file or the text. Without it the report's own
        /// key is used, and the verdict says it was not pinned.
        #[arg(long)]
        key: Option<String>,
    },
    /// Make a report of a subject as the credit centre and write it as PDF (`--out
    /// FILE.pdf`) or as the signed bundle (any other name).
    Make {
        code: String,
        /// `standard` (信用报告) or `special` (专项信用报告).
        #[arg(long, default_value = "standard")]
        kind: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// Domain codes, comma-separated.
        #[arg(long)]
        domains: Option<String>,
        #[arg(long, default_value = "信用中心出具 / issued by the credit centre")]
        purpose: String,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum InspectionsCmd {
    /// Recompute a plan's draw from public data and say whether it matches: PLAN is the
    /// published plan (a JSON file, as `GET /api/v1/inspections/{id}` answers) or a plan
    /// id in --data. Exits 1 when it does not match.
    Replay {
        plan: String,
        /// The platform's verification key (the `verifier_key` of `GET /api/v1/ledger/head`),
        /// a file or the text; default: the one the plan file carries.
        #[arg(long)]
        key: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// The plans, newest first (JSON).
    List {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum GradeCmd {
    /// A subject's grades with the inputs and the arithmetic, so anyone can recompute
    /// them from the models (`data/grading/`).
    Explain {
        code: String,
        /// The day graded (default today, Asia/Shanghai).
        #[arg(long)]
        as_of: Option<String>,
        /// Only this model (comprehensive, samr_risk, construction).
        #[arg(long)]
        model: Option<String>,
        /// The grades as JSON (the API's answer) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArg,
    },
    /// Grade every subject: the distribution per model and how long it took (JSON).
    All {
        #[arg(long)]
        as_of: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Jsonl,
    Mixed,
}

#[derive(Clone, Copy, ValueEnum)]
enum EncodingArg {
    Utf8,
    Gb18030,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Name search vs SQLite FTS5 (trigram) on the names of a generated registration CSV.
    Search {
        /// registration.csv from `xinyong gen --records 0`.
        #[arg(long)]
        names: PathBuf,
        #[arg(long, default_value = "bench-out/search")]
        work: PathBuf,
        #[arg(long, default_value_t = 20_000)]
        queries: usize,
    },
    /// Subject pages read through the app by 1, 4, 16 … threads at once (each its own
    /// reader connection), on the data directory's store or `--database`.
    Reads {
        /// Thread counts to measure, comma-separated.
        #[arg(long, default_value = "1,4,16", value_delimiter = ',')]
        threads: Vec<usize>,
        /// Seconds per thread count.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Subjects sampled to read (random, fixed seed).
        #[arg(long, default_value_t = 10_000)]
        sample: usize,
        #[command(flatten)]
        data: DataArg,
    },
    /// Special credit reports (made and rendered as PDF) of sampled subjects, one after
    /// the other, against the same subjects' pages read in the same run.
    Report {
        /// Subjects sampled (random, fixed seed).
        #[arg(long, default_value_t = 200)]
        sample: usize,
        #[command(flatten)]
        data: DataArg,
    },
    /// Every delta of the store exported as one batch and imported by a fresh platform,
    /// against `ledger verify` over the same events in the same run. Appends the batch's
    /// anchor event to the store.
    Exchange {
        /// Where the receiving platform is made (emptied first).
        #[arg(long)]
        work: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Every subject graded by every model against sqlite3 GROUP BY over the same
    /// records, on a store the fixture writes once into --work.
    Grading {
        #[arg(long, default_value_t = 3_000_000)]
        subjects: u64,
        #[arg(long, default_value_t = 10_000_000)]
        records: u64,
        /// List entries (default: one subject in fifty).
        #[arg(long)]
        listings: Option<u64>,
        #[arg(long, default_value = "bench-out/grading")]
        work: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Event payloads spread over the ledger, one file each (canonical bytes): the
    /// samples `scripts/train-event-dictionary.sh` trains the payload dictionary on.
    EventSamples {
        #[arg(long, default_value_t = 20_000)]
        sample: usize,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Direct listing decisions for a fraction of the subjects (check benchmark data).
    SeedListings {
        #[arg(long, default_value_t = 0.02)]
        fraction: f64,
        /// Also write a sample of codes (one a line) to this file.
        #[arg(long)]
        sample_out: Option<PathBuf>,
        #[arg(long, default_value_t = 100_000)]
        sample: usize,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account; prints its password (generated unless --password-stdin) and,
    /// with --token, an API token. Both are shown once and stored only hashed.
    Add {
        #[arg(long)]
        username: String,
        /// admin, officer, subject (an entity's own account) or agency (a credit agency or bank).
        #[arg(long, default_value = "officer")]
        role: String,
        /// The department an officer pushes data for.
        #[arg(long)]
        provider: Option<String>,
        /// The subject code a `subject` account speaks for.
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// Also create an API token for machine clients.
        #[arg(long)]
        token: bool,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum CodeCmd {
    Check { codes: Vec<String> },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// The N-th working day after DATE (past the covered years: provisional, said on stderr).
    AddWorkdays { date: String, n: u32 },
    /// Whether DATE is a working day.
    IsWorkday { date: String },
    /// Add the next year's State Council notice (a TOML file in the format of
    /// data/calendar/cn-workdays.toml covering that one year): validated, a ledger event;
    /// every open provisional deadline is recomputed.
    AddYear {
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// The statutory holidays of YEAR by 《全国年节及纪念日放假办法》: what provisional dates assume.
    Statutory { year: i32 },
}

#[derive(Subcommand)]
enum RecordCmd {
    /// Revoke a record (void from its start), as the centre for its provider.
    Revoke {
        id: i64,
        #[arg(long)]
        reason: String,
        /// The deciding document (文书编号).
        #[arg(long)]
        document: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Correct a record: FIELDS is a JSON object of the fields to change (the others keep their values).
    Correct {
        id: i64,
        #[arg(long)]
        fields: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        document: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum WebhookCmd {
    /// Register (or replace) a recipient's webhook; prints the signing secret once.
    Add {
        /// department, account (id) or subject (code).
        #[arg(long)]
        kind: String,
        #[arg(long)]
        recipient: String,
        #[arg(long)]
        url: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum CasesCmd {
    /// Cases as JSON: all, or by state (open, decided, withdrawn), or the overdue ones.
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        overdue: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum QuarantineCmd {
    List {
        #[arg(long)]
        item: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        /// open, resolved or all.
        #[arg(long, default_value = "open")]
        status: String,
        /// Entries of one intake batch.
        #[arg(long)]
        batch: Option<String>,
        /// Entries refused for one rule (e.g. code.check_char).
        #[arg(long)]
        reason: Option<String>,
        /// Entries with an error in one field (its Chinese name).
        #[arg(long)]
        field: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[command(flatten)]
        data: DataArg,
    },
    /// Write open refused rows of one item to a spreadsheet (.xlsx or .csv, by the
    /// name given to --out): 隔离编号, reasons, batch, row, then the item's fields.
    Export {
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long)]
        item: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        batch: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        field: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Read a corrected spreadsheet written by `quarantine export`: changed rows go
    /// through intake (resolved, or refused again with new reasons); unchanged rows stay.
    Upload {
        file: std::path::PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Resubmit a quarantined row with corrected fields: --set 字段=值 (repeatable).
    Resubmit {
        id: i64,
        #[arg(long = "set", value_parser = parse_assignment)]
        set: Vec<(String, String)>,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum LedgerCmd {
    /// Recompute the tree from the stored events and check every signed head.
    Verify {
        #[command(flatten)]
        data: DataArg,
    },
    /// Inclusion proof of event INDEX in the latest signed tree (JSON).
    Proof {
        index: u64,
        #[command(flatten)]
        data: DataArg,
    },
    /// Consistency proof between tree sizes FROM and TO (default: latest).
    Consistency {
        from: u64,
        to: Option<u64>,
        #[command(flatten)]
        data: DataArg,
    },
    /// The latest signed head and the verification key.
    Head {
        #[command(flatten)]
        data: DataArg,
    },
    /// Ask every witness (`witness add`) to cosign the latest head now (a server asks
    /// every half minute by itself).
    Cosign {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum WitnessCmd {
    /// Make a witness key (cosignature/v1, Ed25519); prints its public key.
    Keygen {
        /// The witness's name, e.g. witness.tianjin.example
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a witness (C2SP tlog-witness): POST /add-checkpoint cosigns a log's head
    /// once it is consistent with the last head cosigned.
    Serve {
        /// The witness's key file (`witness keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Where the witness keeps the size and root it last cosigned of each log.
        #[arg(long)]
        dir: PathBuf,
        /// A log to witness: its ledger.pub (a file or the key text); repeat for more.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
    },
    /// Have this platform's heads cosigned by a witness: its public key and address.
    Add {
        key: String,
        url: String,
        #[command(flatten)]
        data: DataArg,
    },
}

fn parse_assignment(s: &str) -> std::result::Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("expected 字段=值 (field=value), got '{s}'"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A subject's grades as text: per model the inputs (each indicator's value, weight,
/// points and the records counted), the bands, the ceilings and the arithmetic.
fn explain_text(app: &App, g: &xinyong_app::grading::SubjectGrades) -> Result<String> {
    use std::fmt::Write as _;
    let models = app.grading_models()?;
    let mut out = String::new();
    writeln!(out, "{} {}  评价日 as of {}  账本 ledger size {}", g.name, g.code, g.as_of, g.ledger_size)?;
    for v in &g.grades {
        let x = &v.graded;
        writeln!(out)?;
        writeln!(out, "{}（{} {}）", x.model_name_zh, x.model, x.model_version)?;
        for c in &x.contributions {
            let counted: Vec<String> = c.counted.iter().map(|id| format!("#{id}")).collect();
            // CJK characters take two columns
            let width: usize = c.name_zh.chars().map(|ch| if ch > '\u{2e7f}' { 2 } else { 1 }).sum();
            writeln!(
                out,
                "  {}{} {:>8} × {:>5} = {:>5}{}  {}",
                c.name_zh,
                " ".repeat(36usize.saturating_sub(width)),
                c.value_text,
                c.weight,
                c.points,
                if c.capped { "（封顶 capped）" } else { "" },
                counted.join(" ")
            )?;
        }
        if let Some(m) = models.model(&x.model) {
            let bands: Vec<String> = m
                .bands
                .iter()
                .map(|b| match b.min {
                    Some(min) => format!("{} {} ≥ {min}", b.letter, b.name_zh),
                    None => format!("{} {}", b.letter, b.name_zh),
                })
                .collect();
            writeln!(out, "  基础分 base {}；等级 bands: {}", x.base, bands.join("，"))?;
        }
        if !x.ceilings.is_empty() {
            writeln!(out, "  上限 ceilings: {}", x.ceilings.join("；"))?;
        }
        writeln!(out, "  {}", v.arithmetic)?;
        writeln!(out, "  等级 grade: {}（{}）", x.letter, x.name_zh)?;
    }
    Ok(out)
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

fn parse_date(s: &str) -> Result<time::Date> {
    xinyong_core::record::parse_date(s).ok_or_else(|| anyhow!("'{s}' is not a date (YYYY-MM-DD) / 不是有效日期"))
}

fn run(cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Code { cmd: CodeCmd::Check { codes } } => code_check(codes)?,
        Command::Calendar { cmd } => {
            let cal = WorkCalendar::official();
            match cmd {
                CalendarCmd::AddWorkdays { date, n } => {
                    let due = cal.deadline(parse_date(&date)?, n)?;
                    println!("{}", xinyong_core::record::date_string(due.date));
                    if due.provisional {
                        eprintln!(
                            "暂定：超出工作日历覆盖年份，按法定节假日推算，待国务院通知发布后可能调整 / provisional: past the calendar's years, computed from the statutory holidays; may move when the year's notice is added"
                        );
                    }
                }
                CalendarCmd::IsWorkday { date } => {
                    let d = parse_date(&date)?;
                    let (work, provisional) = cal.is_workday_or_provisional(d)?;
                    println!("{work}");
                    if provisional {
                        eprintln!("暂定 / provisional");
                    }
                }
                CalendarCmd::AddYear { file, data } => {
                    let app = data.open()?;
                    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                    print_json(&app.add_calendar_year(&Caller::operator(), &text)?)?;
                }
                CalendarCmd::Statutory { year } => {
                    let days: Vec<serde_json::Value> = xinyong_core::calendar::statutory_year(year)
                        .into_iter()
                        .map(|(d, name)| serde_json::json!({"date": xinyong_core::record::date_string(d), "holiday": name}))
                        .collect();
                    print_json(&days)?;
                }
            }
        }
        Command::Record { cmd } => {
            let (id, req, data) = match cmd {
                RecordCmd::Revoke { id, reason, document, data } => {
                    (id, xinyong_app::cases::AmendRequest { reason, document, fields: None }, data)
                }
                RecordCmd::Correct { id, fields, reason, document, data } => {
                    let fields =
                        serde_json::from_str(&fields).context("--fields is not a JSON object of text values")?;
                    (id, xinyong_app::cases::AmendRequest { reason, document, fields: Some(fields) }, data)
                }
            };
            let app = data.open()?;
            let index = app.amend_record(&Caller::operator(), id, &req, "cli")?;
            print_json(&serde_json::json!({ "record_id": id, "ledger_index": index }))?;
        }
        Command::Webhook { cmd: WebhookCmd::Add { kind, recipient, url, data } } => {
            let app = data.open()?;
            print_json(&app.register_webhook(&Caller::operator(), &kind, &recipient, &url)?)?;
        }
        Command::Cases { cmd: CasesCmd::List { state, overdue, limit, data } } => {
            let app = data.open()?;
            print_json(&app.cases(&Caller::operator(), state.as_deref(), overdue, limit)?)?;
        }
        Command::Import { file, item, provider, data } => {
            let app = data.open()?;
            let summary = import_with_progress(&app, &file, &item, &provider)?;
            print_json(&summary)?;
        }
        Command::Quarantine { cmd } => match cmd {
            QuarantineCmd::List { item, provider, status, batch, reason, field, limit, after, data } => {
                let app = data.open()?;
                let mut q =
                    QuarantineQuery { item, provider, status: Some(status), batch, reason, field, after, limit: None };
                // the app answers at most 1000 a page: page through up to `limit`
                let mut left = limit;
                let mut out = std::io::stdout().lock();
                while left > 0 {
                    q.limit = Some(left.min(1000));
                    let rows = app.quarantine(&Caller::operator(), &q)?;
                    let Some(last) = rows.last() else { break };
                    q.after = last.id;
                    left -= rows.len() as u32;
                    let full = rows.len() as u32 == q.limit.unwrap_or(0);
                    for r in rows {
                        serde_json::to_writer(&mut out, &r)?;
                        writeln!(out)?;
                    }
                    if !full {
                        break;
                    }
                }
            }
            QuarantineCmd::Export { out, item, provider, batch, reason, field, data } => {
                let app = data.open()?;
                let csv = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
                let format = if csv { SheetFormat::Csv } else { SheetFormat::Xlsx };
                let q = QuarantineQuery { item, provider, batch, reason, field, ..Default::default() };
                let d = app.quarantine_download(&Caller::operator(), &q, format)?;
                std::fs::write(&out, &d.bytes)?;
                print_json(&serde_json::json!({"file": out.display().to_string(), "rows": d.rows}))?;
            }
            QuarantineCmd::Upload { file, data } => {
                let app = data.open()?;
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let done = app.quarantine_upload(&Caller::operator(), &name, &std::fs::read(&file)?)?;
                print_json(&done)?;
            }
            QuarantineCmd::Resubmit { id, set, data } => {
                let app = data.open()?;
                let set: std::collections::BTreeMap<String, String> = set.into_iter().collect();
                let done = app.resubmit(&Caller::operator(), id, &set)?;
                print_json(&done.outcome)?;
                if matches!(done.outcome, Outcome::Quarantined { .. }) {
                    if let Some(e) = done.entry {
                        for err in e.errors {
                            eprintln!("{} / {}", err.zh, err.en);
                        }
                    }
                    return Ok(ExitCode::from(1));
                }
            }
        },
        Command::Ledger { cmd } => return ledger_cmd(cmd),
        Command::Inspections { cmd: InspectionsCmd::Replay { plan, key, data } } => {
            let file = Path::new(&plan);
            let report = if file.is_file() {
                // an outsider's replay: the published plan and the key, no store
                let text = std::fs::read_to_string(file).with_context(|| plan.clone())?;
                let published: xinyong_app::inspections::Plan =
                    serde_json::from_str(&text).context("不是公布的检查计划 / not a published plan")?;
                let key_text = match &key {
                    Some(k) if Path::new(k).is_file() => std::fs::read_to_string(k)?,
                    Some(k) => k.clone(),
                    None => published.verifier_key.clone(),
                };
                xinyong_app::inspections::replay_with_key(&published, &key_text)?
            } else {
                data.open()?.replay_plan(&plan)?
            };
            print_json(&report)?;
            if !report.matches {
                std::process::exit(1);
            }
        }
        Command::Report { cmd: ReportCmd::Verify { file, key } } => {
            let bytes = std::fs::read(&file).with_context(|| file.display().to_string())?;
            let key_text = match &key {
                Some(k) if Path::new(k).is_file() => Some(std::fs::read_to_string(k)?),
                other => other.clone(),
            };
            let verdict = xinyong_app::reports::verify_offline(&bytes, key_text.as_deref())?;
            let mut shown = verdict.clone();
            shown.report = None;
            print_json(&shown)?;
            if !verdict.ok {
                std::process::exit(1);
            }
        }
        Command::Report { cmd: ReportCmd::Make { code, kind, from, to, domains, purpose, out, data } } => {
            let app = data.open()?;
            let req =
                xinyong_app::reports::ReportRequest { kind: Some(kind), from, to, domains, purpose: Some(purpose) };
            let issued = app.make_report(&Caller::operator(), &code, &req)?;
            let bytes = if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
                app.report_pdf(&issued)?
            } else {
                issued.bundle.clone().into_bytes()
            };
            std::fs::write(&out, bytes).with_context(|| out.display().to_string())?;
            println!("{} {}", issued.report.number, out.display());
        }
        Command::Witness { cmd: WitnessCmd::Keygen { name, out } } => {
            let key = xinyong_app::witnesses::WitnessKey::generate(&name)?;
            xinyong_app::witnesses::write_key(&out, &key)?;
            println!("{}", key.verifier().to_text());
        }
        Command::Witness { cmd: WitnessCmd::Serve { key, dir, logs, listen } } => {
            init_logs("text");
            let key = xinyong_app::witnesses::WitnessKey::from_file_bytes(&std::fs::read(&key)?)?;
            let logs = logs
                .iter()
                .map(|l| {
                    let text = if Path::new(l).is_file() { std::fs::read_to_string(l)? } else { l.clone() };
                    Ok(xinyong_app::ledger::LedgerVerifier::from_text(&text)?)
                })
                .collect::<Result<Vec<_>>>()?;
            let service = std::sync::Arc::new(xinyong_app::witnesses::WitnessService::open(&dir, key, &logs)?);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                tracing::info!(%listen, witness = service.name(), "witness serving POST /add-checkpoint");
                xinyong_web::witness::serve_witness(listener, service, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
            })?;
        }
        Command::Witness { cmd: WitnessCmd::Add { key, url, data } } => {
            let text = if Path::new(&key).is_file() { std::fs::read_to_string(&key)? } else { key };
            print_json(&data.open()?.add_witness(&Caller::operator(), &text, &url)?)?;
        }
        Command::Init { origin, algorithm, data } => {
            let alg = xinyong_app::ledger::Algorithm::parse(&algorithm)
                .ok_or_else(|| anyhow!("算法应为 ed25519 或 sm2 / the algorithm is ed25519 or sm2, not {algorithm}"))?;
            let app = App::init(&data.data, data.database.as_deref(), &origin, alg)?;
            println!("{}", app.verifier().to_text());
        }
        Command::Exchange { cmd: ExchangeCmd::Trust { key, data } } => {
            let text = if Path::new(&key).is_file() { std::fs::read_to_string(&key)? } else { key };
            print_json(&data.open()?.trust_peer(&Caller::operator(), &text)?)?;
        }
        Command::Exchange { cmd: ExchangeCmd::Peers { data } } => {
            print_json(&data.open()?.peers(&Caller::operator())?)?;
        }
        Command::Exchange { cmd: ExchangeCmd::Export { since, to, out, data } } => {
            let mut file =
                std::io::BufWriter::new(std::fs::File::create(&out).with_context(|| out.display().to_string())?);
            let h = data.open()?.export_batch_to(&Caller::operator(), since, &to, &mut file)?;
            file.into_inner().map_err(|e| anyhow!("{}: {e}", out.display()))?.sync_all()?;
            let h = &h;
            println!("{} deltas {}..{} anchored at {} → {}", h.deltas, h.since, h.until, h.anchor.index, out.display());
        }
        Command::Exchange { cmd: ExchangeCmd::Import { file, data } } => {
            let reader =
                std::io::BufReader::new(std::fs::File::open(&file).with_context(|| file.display().to_string())?);
            print_json(&data.open()?.import_batch_from(&Caller::operator(), reader)?)?;
        }
        Command::Inspections { cmd: InspectionsCmd::List { data } } => {
            print_json(&data.open()?.plans()?)?;
        }
        Command::Grade { cmd: GradeCmd::Explain { code, as_of, model, json, data } } => {
            let app = data.open()?;
            let code = SubjectCode::parse(&code).map_err(|e| anyhow!("{}", e[0]))?;
            let day = as_of.as_deref().map(parse_date).transpose()?.unwrap_or_else(xinyong_app::today_shanghai);
            let mut grades = app.grades_of(&Caller::operator(), &code, day)?;
            if let Some(m) = &model {
                grades.grades.retain(|g| &g.graded.model == m);
                if grades.grades.is_empty() {
                    bail!(
                        "模型 {m} 不评价该主体，或没有该模型 / model {m} does not grade this subject, or does not exist"
                    );
                }
            }
            if json {
                print_json(&grades)?;
            } else {
                print!("{}", explain_text(&app, &grades)?);
            }
        }
        Command::Grade { cmd: GradeCmd::All { as_of, data } } => {
            let app = data.open()?;
            let day = as_of.as_deref().map(parse_date).transpose()?.unwrap_or_else(xinyong_app::today_shanghai);
            let book = app.grade_all(day)?;
            print_json(&book.figures(app.grading_models()?))?;
        }
        Command::Subject { code, data } => {
            let app = data.open()?;
            let code = SubjectCode::parse(&code).map_err(|e| anyhow!("{}", e[0]))?;
            let (subject, records) = app
                .stored_subject(&Caller::operator(), code.key())?
                .ok_or_else(|| anyhow!("主体不存在 / no such subject"))?;
            let mut v = serde_json::to_value(&subject)?;
            v["code"] = code.display().into();
            v["legal_rep_id"] = subject.legal_rep_id.as_deref().map(mask_id).into();
            v["records"] = serde_json::to_value(&records)?;
            if code.is_person() {
                for r in v["records"].as_array_mut().into_iter().flatten() {
                    r["subject_code"] = code.display().into();
                }
            }
            print_json(&v)?;
        }
        Command::Gen { subjects, records, out, seed, dirty, format, encoding } => {
            let opts = GenOptions {
                subjects,
                records,
                seed,
                dirty_percent: dirty.min(100),
                format: match format {
                    FormatArg::Csv => GenFormat::Csv,
                    FormatArg::Jsonl => GenFormat::Jsonl,
                    FormatArg::Mixed => GenFormat::Mixed,
                },
                encoding: match encoding {
                    EncodingArg::Utf8 => GenEncoding::Utf8,
                    EncodingArg::Gb18030 => GenEncoding::Gb18030,
                },
                latest_date: xinyong_app::today_shanghai(),
            };
            let manifest = xinyong_app::synthetic::generate(&opts, &out)?;
            print_json(&manifest)?;
        }
        Command::Migrate { from, to, data } => {
            use xinyong_app::migrate::{Location, migrate};
            let mut progress = |table: &str, n: u64| {
                if n % 100_000 < 5_000 && std::io::stderr().is_terminal() {
                    eprint!("\r{table}: {n}    ");
                }
            };
            let report = migrate(&Location::parse(&from), &Location::parse(&to), data.as_deref(), &mut progress)?;
            print_json(&report)?;
            if !report.verify.ok {
                eprintln!("迁移后账本校验失败 / ledger verification of the target FAILED");
                return Ok(ExitCode::from(1));
            }
        }
        Command::Demo { subjects, records, data } => return demo(subjects, records, &data),
        Command::Bench(BenchCmd::Grading { subjects, records, listings, work, runs }) => {
            let listings = listings.unwrap_or(subjects / 50);
            print_json(&bench::grading(&work, subjects, records, listings, runs)?)?;
        }
        Command::Bench(BenchCmd::Search { names, work, queries }) => {
            print_json(&bench::search(&names, &work, queries)?)?
        }
        Command::Bench(BenchCmd::Reads { threads, seconds, sample, data }) => {
            print_json(&bench::reads(&data.open()?, &threads, seconds, sample)?)?
        }
        Command::Bench(BenchCmd::Report { sample, data }) => print_json(&bench::report(&data.open()?, sample)?)?,
        Command::Bench(BenchCmd::Exchange { work, data }) => print_json(&bench::exchange(&data.open()?, &work)?)?,
        Command::Bench(BenchCmd::EventSamples { sample, out, data }) => {
            std::fs::create_dir_all(&out)?;
            let samples = data.open()?.sample_payloads(sample)?;
            for (i, payload) in samples.iter().enumerate() {
                std::fs::write(out.join(format!("{i:06}")), payload)?;
            }
            print_json(&serde_json::json!({ "samples": samples.len() }))?;
        }
        Command::Bench(BenchCmd::SeedListings { fraction, sample_out, sample, data }) => {
            print_json(&bench::seed_listings(&data.data, fraction, sample_out.as_deref(), sample)?)?
        }
        Command::Serve { data, listen, demo, secure_cookies, due_process, log_format, demo_subjects, demo_records } => {
            init_logs(&log_format);
            serve(&data, listen, demo.then_some((demo_subjects, demo_records)), secure_cookies, due_process.as_deref())?
        }
        Command::User {
            cmd: UserCmd::Add { username, role, provider, subject, display_name, password_stdin, token, data },
        } => {
            let app = data.open()?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\n', '\r']).to_string()
            } else {
                new_secret("")[..16].to_string()
            };
            let role = Role { role: &role, provider, subject };
            let created = create_account(&app, &username, role, display_name, &password, token)?;
            let mut v = serde_json::to_value(&created)?;
            if !password_stdin {
                v["password"] = password.into();
            }
            print_json(&v)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn code_check(codes: Vec<String>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let mut check = |input: &str| -> Result<()> {
        let v = match SubjectCode::parse(input) {
            Ok(c) => serde_json::json!({
                "input": input,
                "valid": true,
                "normalized": c.key(),
                "kind": c.scheme(),
                "subject_kind": c.kind().as_str(),
                "errors": [],
            }),
            Err(errors) => serde_json::json!({
                "input": input,
                "valid": false,
                "normalized": null,
                "kind": null,
                "errors": errors.iter().map(|e| {
                    let text = e.to_string();
                    let (zh, en) = text.split_once(" / ").unwrap_or((&text, &text));
                    serde_json::json!({"rule": e.rule(), "zh": zh, "en": en})
                }).collect::<Vec<_>>(),
            }),
        };
        serde_json::to_writer(&mut out, &v)?;
        writeln!(out)?;
        Ok(())
    };
    if codes.is_empty() {
        // one answer per input line, so answers line up with the input: a blank line is
        // answered too (invalid: `empty`)
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            check(line.trim_end_matches('\r'))?;
        }
    } else {
        for c in &codes {
            check(c)?;
        }
    }
    Ok(())
}

fn import_with_progress(app: &App, file: &Path, item: &str, provider: &str) -> Result<intake::ImportSummary> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let len = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:40}] {bytes}/{total_bytes} {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("导入 {item}"));
        bar
    });
    let mut progress = |p: intake::Progress| {
        if let Some(b) = &bar {
            b.set_position(p.bytes);
        }
    };
    let summary = intake::import_file(app, file, item, provider, &mut progress)
        .with_context(|| format!("导入失败 / import of {} failed", file.display()))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for w in &summary.warnings {
        eprintln!("注意 / note: {w}");
    }
    Ok(summary)
}

fn ledger_cmd(cmd: LedgerCmd) -> Result<ExitCode> {
    match cmd {
        LedgerCmd::Verify { data } => {
            let app = data.open()?;
            let report = ledger::verify(&app)?;
            print_json(&report)?;
            if !report.ok {
                eprintln!(
                    "账本校验失败，首个异常索引 {} / ledger verification FAILED at index {}: {}",
                    report.first_bad_index.unwrap_or(0),
                    report.first_bad_index.unwrap_or(0),
                    report.problem.as_deref().unwrap_or("")
                );
                return Ok(ExitCode::from(1));
            }
        }
        LedgerCmd::Proof { index, data } => print_json(&ledger::proof(&data.open()?, index)?)?,
        LedgerCmd::Consistency { from, to, data } => print_json(&ledger::consistency(&data.open()?, from, to)?)?,
        LedgerCmd::Head { data } => {
            print_json(&data.open()?.ledger_head()?)?;
        }
        LedgerCmd::Cosign { data } => {
            let app = data.open()?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let outcomes = rt.block_on(xinyong_web::witness::cosign_now(&app)).map_err(|e| anyhow!(e))?;
            print_json(&outcomes)?;
            if outcomes.iter().any(|o| !o.cosigned) {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct CreatedAccount {
    username: String,
    role: String,
    provider: Option<String>,
    token: Option<String>,
}

/// A role and what binds it: an officer's department, a subject account's code.
struct Role<'a> {
    role: &'a str,
    provider: Option<String>,
    subject: Option<String>,
}

fn create_account(
    app: &App,
    username: &str,
    Role { role, provider, subject }: Role<'_>,
    display_name: Option<String>,
    password: &str,
    with_token: bool,
) -> Result<CreatedAccount> {
    // the same use case as the API's, run as the operator of the data directory
    let req = NewAccountRequest {
        username: username.to_string(),
        display_name,
        role: role.to_string(),
        provider: provider.clone(),
        subject_code: subject,
        password: Some(password.to_string()),
        token: with_token,
    };
    let created = app.create_account(&Caller::operator(), &req)?;
    Ok(CreatedAccount { username: username.to_string(), role: role.to_string(), provider, token: created.token })
}

/// The server's log on stderr: plain text (colour codes only when stderr is a terminal,
/// never in a file or the journal), or JSON lines for collectors.
fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        logs.json().with_ansi(false).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

fn serve(
    data_arg: &DataArg,
    listen: SocketAddr,
    demo: Option<(u64, u64)>,
    secure_cookies: bool,
    due_process: Option<&str>,
) -> Result<()> {
    let data = data_arg.data.as_path();
    if let Some((subjects, records)) = demo {
        let loading = data.join(DEMO_LOADING);
        if loading.exists() {
            // a demo load was cut short (killed, power lost): what it left is a partial
            // data set, never served as if whole; it is dropped and loaded again
            discard_partial_demo(data_arg)?;
        }
        let app = data_arg.open()?;
        if app.counts()?.subjects == 0 {
            tracing::info!(subjects, records, "first start with --demo: loading a generated data set");
            std::fs::write(&loading, b"a demo load is in progress; if it is cut short, the next start redoes it\n")?;
            load_demo(&app, subjects, records)?;
        }
        let creds = data.join("demo-credentials.json");
        if !creds.exists() {
            write_demo_credentials(&app, &creds, listen)?;
        }
        if loading.exists() {
            std::fs::remove_file(&loading)?;
        }
    }
    let mut state = xinyong_web::AppState::open_with(data, data_arg.database.as_deref())?;
    state.secure_cookies = secure_cookies;
    if let Some(id) = due_process {
        state.app.use_rule_set(id)?;
    }
    let state = std::sync::Arc::new(state);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(xinyong_web::serve(state, listen))?;
    Ok(())
}

fn write_demo_credentials(app: &App, path: &Path, listen: SocketAddr) -> Result<()> {
    let admin_password = new_secret("")[..16].to_string();
    let officer_password = new_secret("")[..16].to_string();
    let admin = Role { role: "admin", provider: None, subject: None };
    create_account(app, "admin", admin, Some("信用中心管理员".into()), &admin_password, false)?;
    let officer = Role { role: "officer", provider: Some(DEMO_PROVIDER.into()), subject: None };
    let officer =
        create_account(app, "chaoyang-samr", officer, Some("朝阳区市场监管局".into()), &officer_password, true)?;
    // the entity of the first demo listing, to see who checked it
    let entity_code = demo_entities(app)?.into_iter().next();
    let entity_password = new_secret("")[..16].to_string();
    if let Some(code) = &entity_code {
        let role = Role { role: "subject", provider: None, subject: Some(code.clone()) };
        create_account(app, "demo-entity", role, Some("演示企业".into()), &entity_password, false)?;
    }
    let v = serde_json::json!({
        "portal": format!("http://{listen}/"),
        "admin": {"username": "admin", "password": admin_password},
        "officer": {"username": "chaoyang-samr", "password": officer_password, "provider": DEMO_PROVIDER},
        "department_token": officer.token,
        "subject": {"username": "demo-entity", "password": entity_password, "code": entity_code},
        "note": "演示账号，仅用于本机演示 / demo accounts for local use only",
    });
    std::fs::write(path, serde_json::to_string_pretty(&v)?)?;
    eprintln!("演示账号已写入 / demo accounts written to {}", path.display());
    Ok(())
}

/// The providing department of the demo data set (and of the demo officer).
const DEMO_PROVIDER: &str = "演示数据中心";

/// Generates the demo data set into DATA/demo-input and imports every file.
/// Written before the demo is loaded and removed once it is whole.
const DEMO_LOADING: &str = "demo-loading";

/// Removes what an interrupted demo load left in the data directory (its SQLite store,
/// search index, generated input and credentials), keeping the ledger key. A demo on
/// PostgreSQL is not dropped here: the operator drops the schema.
fn discard_partial_demo(data_arg: &DataArg) -> Result<()> {
    let data = data_arg.data.as_path();
    if data_arg.database.is_some() {
        anyhow::bail!(
            "上次演示数据加载未完成，请删除该 PostgreSQL 模式后重试 / the last demo load into PostgreSQL did not finish: drop the schema and start again"
        );
    }
    tracing::warn!(dir = %data.display(), "the last demo load did not finish: loading it again");
    eprintln!("上次演示数据加载未完成，重新加载 / the last demo load did not finish: loading it again");
    for f in ["xinyong.sqlite3", "xinyong.sqlite3-wal", "xinyong.sqlite3-shm", "demo-credentials.json"] {
        let p = data.join(f);
        if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    for d in ["search", "demo-input"] {
        let p = data.join(d);
        if p.exists() {
            std::fs::remove_dir_all(&p)?;
        }
    }
    Ok(())
}

fn load_demo(app: &App, subjects: u64, records: u64) -> Result<Vec<intake::ImportSummary>> {
    let gen_dir = app.dir().join("demo-input");
    let opts = GenOptions {
        subjects,
        records,
        seed: 2026,
        dirty_percent: 2,
        format: GenFormat::Mixed,
        encoding: GenEncoding::Utf8,
        latest_date: xinyong_app::today_shanghai(),
    };
    eprintln!("生成演示数据 / generating demo data in {} …", gen_dir.display());
    let manifest = xinyong_app::synthetic::generate(&opts, &gen_dir)?;
    let mut summaries = Vec::new();
    for f in &manifest.files {
        let s = import_with_progress(app, &gen_dir.join(&f.file), &f.item, DEMO_PROVIDER)?;
        eprintln!(
            "{:<20} 接收 accepted {:>7}  隔离 quarantined {:>5}  重复 duplicates {:>5}  {:>7} rows/s",
            f.item, s.accepted, s.quarantined, s.duplicates, s.records_per_second
        );
        summaries.push(s);
    }
    let entities = demo_entities(app)?;
    let n = xinyong_app::listings::seed_demo(app, &entities, DEMO_PROVIDER, xinyong_app::today_shanghai())?;
    eprintln!("演示名单 / demo listings: {n}");
    let n = xinyong_app::cases::seed_demo(app, entities.first().map(String::as_str), xinyong_app::today_shanghai())?;
    eprintln!("演示异议与修复案件 / demo due-process cases: {n}");
    Ok(summaries)
}

/// The enterprises the demo listings are about (the first ones in code order).
fn demo_entities(app: &App) -> Result<Vec<String>> {
    // codes cluster by registering authority: the first pages may hold no enterprise
    let mut found = Vec::new();
    let mut after = String::new();
    while found.len() < 9 {
        let page = app.subjects_after(&Caller::operator(), &after, 2_000)?;
        let Some(last) = page.last() else { break };
        after = last.code.clone();
        found.extend(page.into_iter().filter(|s| s.kind == "enterprise").map(|s| s.code));
    }
    found.truncate(9);
    Ok(found)
}

/// Generate, import everything, verify: the whole core in one command.
fn demo(subjects: u64, records: u64, data_arg: &DataArg) -> Result<ExitCode> {
    let data = data_arg.data.as_path();
    let app = data_arg.open()?;
    let summaries = load_demo(&app, subjects, records)?;
    let report = ledger::verify(&app)?;
    let counts = app.counts()?;
    print_json(&serde_json::json!({ "imports": summaries, "counts": counts, "ledger": report }))?;
    eprintln!(
        "账本校验 / ledger verify: {} ({} events). 试试 / try: xinyong quarantine list --data {}",
        if report.ok { "通过 ok" } else { "失败 FAILED" },
        report.size,
        data.display()
    );
    Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
