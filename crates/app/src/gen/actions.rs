//! Rows of the administrative actions besides licences and penalties (行政强制、确认、
//! 征收、给付、裁决、补偿、奖励、检查), tax credit ratings and product quality spot-check
//! failures (issue 11). Same machinery as the other items: [`run`] interleaves the
//! dirty rows, so these files carry the same defects in the same shares.

use std::collections::HashSet;

use rand::Rng;
use rand_chacha::ChaCha20Rng;
use time::Date;
use xinyong_core::catalog::Item;

use super::{
    BUILD, CITY, CIVIL, COMMERCE, DATA, DEVREFORM, DISTRICTS, ECO, FIRE, GOVT, GenError, HEALTH, HR, MARKET, Meta, Out,
    Row, SAFETY, Subject, TAX, WATER, World, add_days, add_months, amount, chance, cols, pick, put, put_date, put_wan,
    run, weighted, ymd,
};

/// `(item, share of the records in %, ChaCha20 stream)`: the streams stay clear of
/// the older items' (1–7) so adding an item never changes another item's file.
pub(super) const SHARES: [(&str, u64, u64); 10] = [
    ("admin_enforcement", 2, 20),
    ("admin_confirmation", 2, 21),
    ("admin_levy", 1, 22),
    ("admin_benefit", 1, 23),
    ("admin_adjudication", 1, 24),
    ("admin_compensation", 1, 25),
    ("admin_reward", 1, 26),
    ("admin_inspection", 4, 27),
    ("tax_credit_rating", 3, 28),
    ("product_quality_failure", 1, 29),
];

pub(super) fn handles(code: &str) -> bool {
    SHARES.iter().any(|s| s.0 == code)
}

/// Writes `n` good rows of `item` (one of [`SHARES`]) with dirty rows interleaved.
#[allow(clippy::too_many_arguments)]
pub(super) fn write(
    world: &World<'_>,
    item: &Item,
    out: &mut Out,
    rng: &mut ChaCha20Rng,
    meta: &Meta,
    n: u64,
    pct: u32,
) -> Result<(), GenError> {
    let mut seq = 0u64;
    match item.code.as_str() {
        "tax_credit_rating" => {
            let c = TaxCols::new(item)?;
            let mut taken = HashSet::new();
            let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                world.tax_rating_row(rng, row, &c, &mut taken);
                Ok(())
            };
            run(out, rng, meta, n, pct, &mut make)
        }
        "product_quality_failure" => {
            let c = QualityCols::new(item)?;
            let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                seq += 1;
                world.quality_row(rng, row, &c, seq);
                Ok(())
            };
            run(out, rng, meta, n, pct, &mut make)
        }
        code => {
            let spec = Spec::of(code).ok_or_else(|| GenError::Catalog(format!("no generator for item '{code}'")))?;
            let c = ActionCols::new(item, spec)?;
            let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                seq += 1;
                world.action_row(rng, row, &c, spec, seq);
                Ok(())
            };
            run(out, rng, meta, n, pct, &mut make)
        }
    }
}

// ---------------------------------------------------------------------------------
// The eight administrative actions: one shape, a table of kinds each
// ---------------------------------------------------------------------------------

/// One kind of decision of an action item.
struct Kind {
    dept: usize,
    /// Value of the item's category field (行政强制类别, 确认类别 …).
    class: &'static str,
    /// Value of the second enum (行政强制方式) or the matter named (征收项目, 奖励名称 …).
    what: &'static str,
    /// Grounds or content (事由, 确认内容, 纠纷事项 …).
    text: &'static str,
    basis: &'static str,
    /// Outcome text (行政强制内容, 裁决结果); empty when the item has none.
    outcome: &'static str,
    /// Amount range in yuan; (0, 0) = no amount.
    amount: (u64, u64),
    /// Months of validity (有效期至, 行政强制期限至); 0 = none.
    months: i32,
    weight: u32,
}

#[allow(clippy::too_many_arguments)]
const fn k(
    dept: usize,
    class: &'static str,
    what: &'static str,
    text: &'static str,
    basis: &'static str,
    outcome: &'static str,
    amount: (u64, u64),
    months: i32,
    weight: u32,
) -> Kind {
    Kind { dept, class, what, text, basis, outcome, amount, months, weight }
}

/// Where an item's columns are and how its document numbers look.
struct Spec {
    /// Document number column, decision date column, authority column.
    doc: &'static str,
    date: &'static str,
    authority: &'static str,
    /// Columns filled from a [`Kind`] (`None`: the item has no such column).
    class: &'static str,
    what: &'static str,
    text: Option<&'static str>,
    basis: Option<&'static str>,
    outcome: Option<&'static str>,
    amount: Option<&'static str>,
    until: Option<&'static str>,
    /// Character in document numbers: 京朝市监强〔2024〕12号.
    doc_char: &'static str,
    kinds: &'static [Kind],
}

impl Spec {
    fn of(code: &str) -> Option<&'static Spec> {
        Some(match code {
            "admin_enforcement" => &ENFORCEMENT,
            "admin_confirmation" => &CONFIRMATION,
            "admin_levy" => &LEVY,
            "admin_benefit" => &BENEFIT,
            "admin_adjudication" => &ADJUDICATION,
            "admin_compensation" => &COMPENSATION,
            "admin_reward" => &REWARD,
            "admin_inspection" => &INSPECTION,
            _ => return None,
        })
    }
}

struct ActionCols {
    head: [usize; 10],
    class: usize,
    what: usize,
    text: Option<usize>,
    basis: Option<usize>,
    outcome: Option<usize>,
    amount: Option<usize>,
    until: Option<usize>,
    /// 行政强制: 解除日期; 行政检查: 检查任务名称 and 检查结果 (filled by their own rules).
    extra: Vec<usize>,
}

impl ActionCols {
    fn new(item: &Item, s: &Spec) -> Result<ActionCols, GenError> {
        let auth_code = format!("{}统一社会信用代码", s.authority);
        let head = cols(
            item,
            [
                "行政相对人名称",
                "行政相对人类别",
                "统一社会信用代码",
                "法定代表人",
                s.doc,
                s.date,
                s.authority,
                auth_code.as_str(),
                "数据来源单位",
                "数据来源单位统一社会信用代码",
            ],
        )?;
        let one = |name: Option<&str>| -> Result<Option<usize>, GenError> {
            name.map(|n| cols(item, [n]).map(|[i]| i)).transpose()
        };
        let extra: &[&str] = match item.code.as_str() {
            "admin_enforcement" => &["解除日期"],
            "admin_inspection" => &["检查方式", "检查结果"],
            _ => &[],
        };
        Ok(ActionCols {
            head,
            class: one(Some(s.class))?.unwrap_or(0),
            what: one(Some(s.what))?.unwrap_or(0),
            text: one(s.text)?,
            basis: one(s.basis)?,
            outcome: one(s.outcome)?,
            amount: one(s.amount)?,
            until: one(s.until)?,
            extra: extra.iter().map(|n| one(Some(n)).map(|i| i.unwrap_or(0))).collect::<Result<_, _>>()?,
        })
    }
}

impl World<'_> {
    fn action_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &ActionCols, spec: &Spec, seq: u64) {
        let [name_i, party_i, code_i, rep_i, doc_i, date_i, auth_i, auth_code_i, src_i, src_code_i] = c.head;
        let kind = &spec.kinds[weighted(rng, &spec.kinds.iter().map(|k| k.weight).collect::<Vec<_>>())];
        // market spot checks and most enforcement concern market-registered entities
        let s: &Subject = if kind.dept == MARKET { self.market_subject(rng) } else { self.subject(rng) };
        let date = self.decision(rng, s);
        let district = usize::from(s.district);
        let a = self.auth.get(district, kind.dept);
        row.v[name_i].push_str(&s.name);
        row.v[party_i].push_str(s.kind.party());
        row.v[code_i].push_str(&s.code);
        row.v[rep_i].push_str(&s.rep);
        if spec.doc_char == "检" {
            // a task number per row here; a real task covers many parties (the key is both)
            put(&mut row.v[doc_i], format_args!("{}检-{}-{:06}", a.prefix, date.year(), seq));
        } else {
            put(&mut row.v[doc_i], format_args!("{}{}〔{}〕{}号", a.prefix, spec.doc_char, date.year(), seq));
        }
        put_date(&mut row.v[date_i], date);
        row.v[c.class].push_str(kind.class);
        if spec.doc_char == "检" {
            put(&mut row.v[c.what], format_args!("{}年{}", date.year(), kind.what));
        } else {
            row.v[c.what].push_str(kind.what);
        }
        if let Some(i) = c.text {
            row.v[i].push_str(kind.text);
        }
        if let Some(i) = c.basis {
            row.v[i].push_str(kind.basis);
        }
        if let Some(i) = c.outcome {
            row.v[i].push_str(kind.outcome);
        }
        if let (Some(i), (lo, hi)) = (c.amount, kind.amount)
            && hi > 0
            && chance(rng, 90)
        {
            put_wan(&mut row.v[i], amount(rng, lo, hi));
        }
        if let (Some(i), true) = (c.until, kind.months > 0) {
            put_date(&mut row.v[i], add_days(add_months(date, kind.months), -1));
        }
        match spec.doc_char {
            "强" if kind.class == "行政强制措施" && kind.months > 0 => {
                // measures are lifted once the case is decided, usually within the term
                let lifted = add_days(date, rng.gen_range(7..60i64));
                if chance(rng, 60) && lifted <= self.latest {
                    put_date(&mut row.v[c.extra[0]], lifted);
                }
            }
            "检" => {
                let [method_i, result_i] = [c.extra[0], c.extra[1]];
                row.v[method_i].push_str(if kind.dept == HR { "书面检查" } else { "现场检查" });
                let results: &[(&str, u32)] = if kind.basis.contains("企业信息公示") {
                    &[
                        ("未发现问题", 70),
                        ("未按规定公示应当公示的信息", 10),
                        ("通过登记的住所（经营场所）无法联系", 10),
                        ("公示信息隐瞒真实情况、弄虚作假", 2),
                        ("未发现开展本次抽查涉及的经营活动", 5),
                        ("不配合检查情节严重", 3),
                    ]
                } else {
                    &[("未发现问题", 75), ("发现问题已责令改正", 17), ("发现问题待后续处理", 8)]
                };
                let r = weighted(rng, &results.iter().map(|r| r.1).collect::<Vec<_>>());
                row.v[result_i].push_str(results[r].0);
            }
            _ => {}
        }
        let src = if chance(rng, 25) { self.auth.get(district, DATA) } else { a };
        row.v[auth_i].push_str(&a.name);
        row.v[auth_code_i].push_str(&a.uscc);
        row.v[src_i].push_str(&src.name);
        row.v[src_code_i].push_str(&src.uscc);
    }

    /// A rating for a (subject, year) not rated before: the key is the code and the year.
    fn tax_rating_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &TaxCols, taken: &mut HashSet<(String, i32)>) {
        let [name_i, code_i, rep_i, year_i, level_i, date_i, auth_i, auth_code_i, src_i, src_code_i] = c.c;
        let mut s = self.subject(rng);
        let mut date = self.decision(rng, s);
        for _ in 0..20 {
            if !taken.contains(&(s.code.clone(), rated_year(date))) {
                break;
            }
            s = self.subject(rng);
            date = self.decision(rng, s);
        }
        // ratings of year Y are settled in April of Y + 1
        let mut year = rated_year(date);
        while taken.contains(&(s.code.clone(), year)) {
            year -= 1;
        }
        let april = ymd(year + 1, 4, rng.gen_range(10..=28u8));
        if april >= self.rec_lo && april <= self.latest && april >= s.established {
            date = april;
        }
        taken.insert((s.code.clone(), year));
        let district = usize::from(s.district);
        let a = self.auth.get(district, TAX);
        row.v[name_i].push_str(&s.name);
        row.v[code_i].push_str(&s.code);
        row.v[rep_i].push_str(&s.rep);
        put(&mut row.v[year_i], format_args!("{year}"));
        row.v[level_i].push_str(["A", "B", "M", "C", "D"][weighted(rng, &[22, 55, 13, 6, 4])]);
        put_date(&mut row.v[date_i], date);
        row.v[auth_i].push_str(&a.name);
        row.v[auth_code_i].push_str(&a.uscc);
        let src = if chance(rng, 25) { self.auth.get(district, DATA) } else { a };
        row.v[src_i].push_str(&src.name);
        row.v[src_code_i].push_str(&src.uscc);
    }

    fn quality_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &QualityCols, seq: u64) {
        let [
            name_i,
            code_i,
            rep_i,
            product_i,
            model_i,
            batch_i,
            failed_i,
            report_i,
            lab_i,
            level_i,
            notice_i,
            date_i,
            auth_i,
            auth_code_i,
            follow_i,
            src_i,
            src_code_i,
        ] = c.c;
        let s = self.market_subject(rng);
        let date = self.decision(rng, s);
        let district = usize::from(s.district);
        let a = self.auth.get(district, MARKET);
        let (product, model, failed) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        row.v[name_i].push_str(&s.name);
        row.v[code_i].push_str(&s.code);
        row.v[rep_i].push_str(&s.rep);
        row.v[product_i].push_str(product);
        if chance(rng, 85) {
            row.v[model_i].push_str(model);
        }
        let made = add_days(date, -rng.gen_range(30..200i64));
        if chance(rng, 50) {
            put_date(&mut row.v[batch_i], made);
        } else {
            put(&mut row.v[batch_i], format_args!("{:04}{:02}{:02}", made.year(), u8::from(made.month()), made.day()));
        }
        row.v[failed_i].push_str(failed);
        put(&mut row.v[report_i], format_args!("BJZJ{}{}{:07}", date.year(), &DISTRICTS[district].code[4..], seq));
        row.v[lab_i].push_str(pick(
            rng,
            &["北京市产品质量监督检验研究院", "北京市计量检测科学研究院", "北京市建设工程质量第一检测所有限责任公司"],
        ));
        row.v[level_i].push_str("区县级监督抽查");
        if chance(rng, 80) {
            put(&mut row.v[notice_i], format_args!("{}质抽〔{}〕{}号", a.prefix, date.year(), seq / 20 + 1));
        }
        put_date(&mut row.v[date_i], date);
        row.v[auth_i].push_str(&a.name);
        row.v[auth_code_i].push_str(&a.uscc);
        if chance(rng, 70) {
            row.v[follow_i].push_str(pick(
                rng,
                &["已责令企业整改，复查合格", "已责令企业停止生产销售不合格产品并整改", "已立案调查"],
            ));
        }
        let src = if chance(rng, 25) { self.auth.get(district, DATA) } else { a };
        row.v[src_i].push_str(&src.name);
        row.v[src_code_i].push_str(&src.uscc);
    }
}

/// The year a rating settled on `d` is for (settled each April for the year before).
fn rated_year(d: Date) -> i32 {
    if u8::from(d.month()) >= 5 { d.year() - 1 } else { d.year() - 2 }
}

struct TaxCols {
    c: [usize; 10],
}

impl TaxCols {
    fn new(item: &Item) -> Result<TaxCols, GenError> {
        Ok(TaxCols {
            c: cols(
                item,
                [
                    "纳税人名称",
                    "统一社会信用代码",
                    "法定代表人",
                    "评价年度",
                    "纳税信用级别",
                    "评价日期",
                    "评价机关",
                    "评价机关统一社会信用代码",
                    "数据来源单位",
                    "数据来源单位统一社会信用代码",
                ],
            )?,
        })
    }
}

struct QualityCols {
    c: [usize; 17],
}

impl QualityCols {
    fn new(item: &Item) -> Result<QualityCols, GenError> {
        Ok(QualityCols {
            c: cols(
                item,
                [
                    "标称生产企业名称",
                    "统一社会信用代码",
                    "法定代表人",
                    "产品名称",
                    "规格型号",
                    "生产日期/批号",
                    "不合格项目",
                    "检验报告编号",
                    "承检机构",
                    "抽查类别",
                    "抽查结果公告文号",
                    "公告日期",
                    "组织抽查机关",
                    "组织抽查机关统一社会信用代码",
                    "处理情况",
                    "数据来源单位",
                    "数据来源单位统一社会信用代码",
                ],
            )?,
        })
    }
}

/// (product, model, failed test items)
const PRODUCTS: [(&str, &str, &str); 10] = [
    ("电动自行车", "TDT-1286Z", "整车质量；防篡改性能"),
    ("儿童服装", "110/56", "纤维含量；pH值；绳带要求"),
    ("电线电缆", "BV 450/750V 2.5mm²", "导体电阻；绝缘厚度"),
    ("家用燃气灶具", "JZT-2-B36", "熄火保护装置；燃烧工况"),
    ("学生文具", "A5 练习本", "可迁移元素；亮度"),
    ("转换器", "10A 250V", "防触电保护；结构"),
    ("建筑防水卷材", "SBS I PY PE PE 3", "拉力；低温柔性"),
    ("LED筒灯", "9W 6500K", "谐波电流；标记"),
    ("冷热水用聚丙烯管材", "PP-R dn20×2.8", "静液压强度；纵向回缩率"),
    ("电热水壶", "1.7L 1800W", "发热；泄漏电流和电气强度"),
];

const NO_AMOUNT: (u64, u64) = (0, 0);

static ENFORCEMENT: Spec = Spec {
    doc: "行政强制决定书文号",
    date: "行政强制决定日期",
    authority: "实施机关",
    class: "行政强制类别",
    what: "行政强制方式",
    text: Some("行政强制事由"),
    basis: Some("行政强制依据"),
    outcome: Some("行政强制内容"),
    amount: Some("涉案金额(万元)"),
    until: Some("行政强制期限至"),
    doc_char: "强",
    kinds: &[
        k(
            MARKET,
            "行政强制措施",
            "查封场所、设施或者财物",
            "涉嫌经营超过保质期的食品，为防止证据灭失",
            "《中华人民共和国食品安全法》第一百一十条",
            "查封涉嫌违法经营的场所及相关食品、工具、设备",
            (2_000, 200_000),
            1,
            25,
        ),
        k(
            MARKET,
            "行政强制措施",
            "扣押财物",
            "涉嫌生产、销售不符合保障人体健康和人身、财产安全的国家标准的产品",
            "《中华人民共和国产品质量法》第十八条",
            "扣押涉案产品及原辅材料",
            (5_000, 500_000),
            1,
            20,
        ),
        k(
            ECO,
            "行政强制措施",
            "查封场所、设施或者财物",
            "违法排放污染物，造成或者可能造成严重污染",
            "《中华人民共和国环境保护法》第二十五条",
            "查封造成污染物排放的设施、设备",
            NO_AMOUNT,
            1,
            12,
        ),
        k(
            SAFETY,
            "行政强制措施",
            "查封场所、设施或者财物",
            "存在重大事故隐患，经责令停产停业整顿仍未消除",
            "《中华人民共和国安全生产法》第七十条",
            "查封违法生产、储存危险物品的作业场所",
            NO_AMOUNT,
            1,
            8,
        ),
        k(
            FIRE,
            "行政强制措施",
            "其他行政强制措施",
            "疏散通道堵塞，不及时消除可能严重威胁公共安全",
            "《中华人民共和国消防法》第五十四条",
            "对危险部位实施临时查封",
            NO_AMOUNT,
            0,
            8,
        ),
        k(
            MARKET,
            "行政强制执行",
            "加处罚款或者滞纳金",
            "逾期不缴纳罚款",
            "《中华人民共和国行政处罚法》第七十二条第一款第一项",
            "每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出罚款的数额",
            (1_000, 100_000),
            0,
            12,
        ),
        k(
            CITY,
            "行政强制执行",
            "代履行",
            "逾期未拆除违法建设，经催告仍不履行",
            "《中华人民共和国行政强制法》第五十条",
            "委托第三人代为拆除违法建设，代履行费用由当事人承担",
            (5_000, 300_000),
            0,
            8,
        ),
        k(
            CITY,
            "行政强制执行",
            "排除妨碍、恢复原状",
            "占用城市道路堆放物料，经催告仍不清除",
            "《中华人民共和国行政强制法》第五十二条",
            "立即清除占道堆放的物料，恢复道路原状",
            NO_AMOUNT,
            0,
            4,
        ),
        k(
            TAX,
            "行政强制执行",
            "划拨存款、汇款",
            "未按照规定的期限缴纳税款，经责令限期缴纳逾期仍未缴纳",
            "《中华人民共和国税收征收管理法》第四十条",
            "书面通知开户银行从其存款中扣缴税款及滞纳金",
            (10_000, 2_000_000),
            0,
            3,
        ),
    ],
};

static CONFIRMATION: Spec = Spec {
    doc: "行政确认决定文书号",
    date: "确认决定日期",
    authority: "确认机关",
    class: "确认类别",
    what: "确认事项名称",
    text: Some("确认内容"),
    basis: None,
    outcome: None,
    amount: None,
    until: Some("有效期至"),
    doc_char: "确",
    kinds: &[
        k(
            TAX,
            "登记",
            "增值税一般纳税人登记",
            "登记为增值税一般纳税人，自登记当月一日起按一般计税方法计算应纳税额",
            "",
            "",
            NO_AMOUNT,
            0,
            30,
        ),
        k(TAX, "认定", "非营利组织免税资格认定", "确认具备非营利组织免税资格", "", "", NO_AMOUNT, 60, 6),
        k(COMMERCE, "登记", "对外贸易经营者备案登记", "准予对外贸易经营者备案登记", "", "", NO_AMOUNT, 0, 20),
        k(DEVREFORM, "其他", "企业投资项目备案", "项目备案信息已确认，准予备案", "", "", NO_AMOUNT, 24, 18),
        k(CIVIL, "认定", "社会组织等级评估", "评估等级为3A级", "", "", NO_AMOUNT, 60, 6),
        k(BUILD, "认可", "建设工程竣工验收备案", "工程竣工验收备案材料齐全，予以备案", "", "", NO_AMOUNT, 0, 12),
        k(
            HR,
            "认定",
            "企业实行综合计算工时工作制确认",
            "同意企业对相关岗位实行综合计算工时工作制",
            "",
            "",
            NO_AMOUNT,
            36,
            8,
        ),
    ],
};

static LEVY: Spec = Spec {
    doc: "行政征收决定文书号",
    date: "征收决定日期",
    authority: "征收机关",
    class: "征收类别",
    what: "征收项目",
    text: None,
    basis: Some("征收依据"),
    outcome: None,
    amount: Some("征收金额(万元)"),
    until: None,
    doc_char: "征",
    kinds: &[
        k(
            TAX,
            "政府性基金",
            "残疾人就业保障金",
            "",
            "《残疾人就业保障金征收使用管理办法》第四条",
            "",
            (2_000, 300_000),
            0,
            30,
        ),
        k(TAX, "税费征收", "水资源税", "", "《中华人民共和国资源税法》第十四条", "", (1_000, 200_000), 0, 15),
        k(
            CITY,
            "行政事业性收费",
            "城市道路占用挖掘修复费",
            "",
            "《城市道路管理条例》第三十七条",
            "",
            (5_000, 500_000),
            0,
            20,
        ),
        k(
            WATER,
            "行政事业性收费",
            "超计划用水累进加价费",
            "",
            "《北京市节水条例》第二十二条",
            "",
            (500, 80_000),
            0,
            20,
        ),
        k(
            GOVT,
            "土地房屋征收",
            "国有土地上房屋征收",
            "",
            "《国有土地上房屋征收与补偿条例》第八条",
            "",
            NO_AMOUNT,
            0,
            15,
        ),
    ],
};

static BENEFIT: Spec = Spec {
    doc: "行政给付决定文书号",
    date: "给付决定日期",
    authority: "给付机关",
    class: "给付类别",
    what: "给付项目",
    text: None,
    basis: Some("给付依据"),
    outcome: None,
    amount: Some("给付金额(万元)"),
    until: None,
    doc_char: "给",
    kinds: &[
        k(
            HR,
            "稳岗返还",
            "失业保险稳岗返还",
            "",
            "《失业保险条例》第十七条；《关于失业保险支持企业稳定岗位有关问题的通知》",
            "",
            (2_000, 500_000),
            0,
            40,
        ),
        k(HR, "就业补贴", "一次性吸纳就业补贴", "", "《就业补助资金管理办法》第五条", "", (1_500, 60_000), 0, 20),
        k(
            HR,
            "社会保险补贴",
            "吸纳就业困难人员社会保险补贴",
            "",
            "《就业补助资金管理办法》第七条",
            "",
            (3_000, 120_000),
            0,
            20,
        ),
        k(
            HR,
            "就业补贴",
            "职业技能培训补贴",
            "",
            "《职业技能提升行动实施方案（2019—2021年）》",
            "",
            (1_000, 200_000),
            0,
            12,
        ),
        k(
            CIVIL,
            "其他",
            "养老服务机构运营补贴",
            "",
            "《北京市养老服务机构运营补贴管理办法》",
            "",
            (10_000, 1_000_000),
            0,
            8,
        ),
    ],
};

static ADJUDICATION: Spec = Spec {
    doc: "行政裁决决定文书号",
    date: "裁决决定日期",
    authority: "裁决机关",
    class: "裁决类别",
    what: "纠纷事项",
    text: None,
    basis: Some("裁决依据"),
    outcome: Some("裁决结果"),
    amount: None,
    until: None,
    doc_char: "裁",
    kinds: &[
        k(
            GOVT,
            "权属纠纷",
            "与相邻单位之间的国有土地使用权争议",
            "",
            "《中华人民共和国土地管理法》第十四条",
            "确认争议地块的国有土地使用权归申请人",
            NO_AMOUNT,
            0,
            30,
        ),
        k(
            GOVT,
            "权属纠纷",
            "林木、林地所有权和使用权争议",
            "",
            "《中华人民共和国森林法》第二十二条",
            "确认争议林地的林木所有权归被申请人",
            NO_AMOUNT,
            0,
            15,
        ),
        k(
            MARKET,
            "侵权纠纷",
            "专利侵权纠纷",
            "",
            "《中华人民共和国专利法》第六十五条",
            "认定侵权行为成立，责令立即停止侵权行为",
            NO_AMOUNT,
            0,
            35,
        ),
        k(
            WATER,
            "其他",
            "相邻单位之间的水事纠纷",
            "",
            "《中华人民共和国水法》第五十七条",
            "责令恢复原排水设施，双方按原状使用",
            NO_AMOUNT,
            0,
            20,
        ),
    ],
};

static COMPENSATION: Spec = Spec {
    doc: "行政补偿决定文书号",
    date: "补偿决定日期",
    authority: "补偿机关",
    class: "补偿类别",
    what: "补偿事由",
    text: None,
    basis: Some("补偿依据"),
    outcome: None,
    amount: Some("补偿金额(万元)"),
    until: None,
    doc_char: "补",
    kinds: &[
        k(
            GOVT,
            "征收补偿",
            "国有土地上房屋征收",
            "",
            "《国有土地上房屋征收与补偿条例》第十七条",
            "",
            (500_000, 50_000_000),
            0,
            45,
        ),
        k(
            CITY,
            "撤回许可补偿",
            "因城市规划调整撤回户外广告设施设置许可",
            "",
            "《中华人民共和国行政许可法》第八条",
            "",
            (20_000, 800_000),
            0,
            25,
        ),
        k(
            GOVT,
            "征用补偿",
            "突发事件应急处置征用场所",
            "",
            "《中华人民共和国突发事件应对法》第十二条",
            "",
            (10_000, 2_000_000),
            0,
            20,
        ),
        k(WATER, "其他", "河道综合治理占用", "", "《中华人民共和国水法》第三十一条", "", (50_000, 3_000_000), 0, 10),
    ],
};

static REWARD: Spec = Spec {
    doc: "行政奖励决定文书号",
    date: "奖励决定日期",
    authority: "奖励机关",
    class: "奖励类别",
    what: "奖励名称",
    text: Some("奖励事由"),
    basis: Some("奖励依据"),
    outcome: None,
    amount: Some("奖励金额(万元)"),
    until: Some("有效期至"),
    doc_char: "奖",
    kinds: &[
        k(
            SAFETY,
            "通报表扬",
            "安全生产工作先进单位",
            "年度安全生产工作成绩突出",
            "《中华人民共和国安全生产法》第十九条",
            "",
            NO_AMOUNT,
            12,
            25,
        ),
        k(
            FIRE,
            "通报表扬",
            "消防安全工作先进单位",
            "落实消防安全主体责任成绩突出",
            "《中华人民共和国消防法》第七条",
            "",
            NO_AMOUNT,
            12,
            15,
        ),
        k(
            HR,
            "荣誉称号",
            "劳动关系和谐企业",
            "劳动关系和谐稳定，依法保障职工权益",
            "《中华人民共和国劳动合同法》第五条",
            "",
            NO_AMOUNT,
            36,
            25,
        ),
        k(
            GOVT,
            "荣誉称号；奖金",
            "区政府质量奖",
            "质量管理水平突出，经济社会效益显著",
            "《中华人民共和国产品质量法》第六条",
            "",
            (100_000, 500_000),
            36,
            10,
        ),
        k(
            DEVREFORM,
            "奖金",
            "节能减排奖励",
            "完成节能技术改造，节能量经审核确认",
            "《中华人民共和国节约能源法》第六十七条",
            "",
            (50_000, 2_000_000),
            0,
            15,
        ),
        k(
            ECO,
            "奖金",
            "环境违法行为举报奖励",
            "举报环境违法行为经查证属实",
            "《中华人民共和国环境保护法》第五十七条",
            "",
            (500, 20_000),
            0,
            10,
        ),
    ],
};

static INSPECTION: Spec = Spec {
    doc: "检查任务编号",
    date: "检查日期",
    authority: "检查实施机关",
    class: "检查类型",
    what: "检查任务名称",
    text: Some("检查事项"),
    basis: None,
    outcome: None,
    amount: None,
    until: None,
    doc_char: "检",
    kinds: &[
        // `basis` only steers the result wording here (企业信息公示 results)
        k(
            MARKET,
            "双随机抽查",
            "企业公示信息抽查",
            "年度报告公示信息；即时公示信息",
            "企业信息公示",
            "",
            NO_AMOUNT,
            0,
            40,
        ),
        k(MARKET, "双随机抽查", "食品经营者监督检查", "经营条件；进货查验记录；食品贮存", "", "", NO_AMOUNT, 0, 15),
        k(ECO, "双随机抽查", "排污单位执法检查", "污染物排放；污染防治设施运行", "", "", NO_AMOUNT, 0, 12),
        k(SAFETY, "专项检查", "安全生产专项检查", "安全生产责任制；隐患排查治理", "", "", NO_AMOUNT, 0, 10),
        k(FIRE, "双随机抽查", "消防监督检查", "消防设施；疏散通道；安全出口", "", "", NO_AMOUNT, 0, 10),
        k(HR, "日常检查", "劳动保障书面审查", "劳动合同签订；工资支付；社会保险缴纳", "", "", NO_AMOUNT, 0, 8),
        k(HEALTH, "双随机抽查", "公共场所卫生监督检查", "卫生管理制度；从业人员健康合格证明", "", "", NO_AMOUNT, 0, 5),
    ],
};
