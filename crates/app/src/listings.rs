//! Listing use cases: each step of the procedure is checked by the pure rules of
//! `core::listing` and then recorded by the store as one ledger event.

use time::Date;
use xinyong_core::calendar::WorkCalendar;
use xinyong_core::event::{EventKind, Provenance};
use xinyong_core::listing::{self, Before, Decision, Listing, Notice, Removal, RemovalKind};
use xinyong_core::lists::ListRules;
use xinyong_ledger::SignedHead;

use crate::{App, AppError, Result, now_ms};

/// Who records a step and through which channel (`api`, `portal`, `demo`, `cli`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub department: String,
    pub channel: String,
}

fn provenance(actor: &Actor) -> Provenance {
    let at = now_ms();
    Provenance {
        at,
        batch: format!("listing-{at}"),
        provider: actor.department.clone(),
        source: actor.channel.clone(),
        row: None,
    }
}

fn refused(e: Vec<listing::StepError>) -> AppError {
    AppError::Refused(e.iter().map(|e| e.to_string()).collect())
}

fn stored(app: &App, id: i64) -> Result<Listing> {
    app.store.listing(id)?.ok_or_else(|| AppError::NotFound(format!("名单记录 {id} / listing {id}")))
}

fn put(app: &mut App, l: &Listing, kind: EventKind, actor: &Actor) -> Result<(Listing, SignedHead)> {
    let now = now_ms();
    Ok(app.store.put_listing(l, kind, &provenance(actor), &app.key, now)?)
}

/// Prior notice of an intended listing (the first step).
pub fn notice(app: &mut App, n: Notice, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let l = listing::notice(ListRules::bundled(), WorkCalendar::official(), n, today).map_err(refused)?;
    put(app, &l, EventKind::ListingNoticed, actor)
}

/// The subject's objection within the window.
pub fn object(
    app: &mut App,
    id: i64,
    date: Date,
    text: &str,
    actor: &Actor,
    today: Date,
) -> Result<(Listing, SignedHead)> {
    let current = stored(app, id)?;
    let l = listing::object(&current, date, text, today).map_err(refused)?;
    put(app, &l, EventKind::ListingObjected, actor)
}

/// The decision on a noticed listing (`Ok(id)`), or a direct decision (`Err(notice)`:
/// only for list types that need no notice).
pub fn decide(
    app: &mut App,
    on: std::result::Result<i64, Notice>,
    d: Decision,
    actor: &Actor,
    today: Date,
) -> Result<(Listing, SignedHead)> {
    let rules = ListRules::bundled();
    let l = match on {
        Ok(id) => {
            let current = stored(app, id)?;
            listing::decide(rules, Before::Noticed(&current), d, today)
        }
        Err(n) => listing::decide(rules, Before::Direct(n), d, today),
    }
    .map_err(refused)?;
    put(app, &l, EventKind::ListingDecided, actor)
}

/// Removal of a listed entry, or withdrawal of a noticed one.
pub fn remove(app: &mut App, id: i64, r: Removal, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let current = stored(app, id)?;
    let l = listing::remove(ListRules::bundled(), &current, r, today).map_err(refused)?;
    put(app, &l, EventKind::ListingRemoved, actor)
}

/// The decision document a demo or benchmark listing carries: every field the list type
/// requires, worded as a real decision would be.
pub fn sample_document(list_type: &str, basis: &str) -> std::collections::BTreeMap<String, String> {
    let rules = ListRules::bundled();
    let mut doc = std::collections::BTreeMap::new();
    let Some(lt) = rules.list_type(list_type) else { return doc };
    for f in &lt.decision_document_fields {
        let text = match f.code.as_str() {
            "reason" => "经查，该主体存在本决定所列失信行为，事实清楚、证据确凿。".to_string(),
            "basis" => basis.to_string(),
            "measures_notice" => "列入期间将依法依规在政府采购、招标投标、财政资金、评先评优等方面受到限制。".into(),
            "removal" => match lt.early_removal_after {
                Some(p) if p.months() % 12 == 0 => {
                    format!("有效期届满自动移出；列入满 {} 年且已纠正失信行为的，可申请提前移出。", p.months() / 12)
                }
                Some(p) => {
                    format!("有效期届满自动移出；列入满 {} 个月且已纠正失信行为的，可申请提前移出。", p.months())
                }
                None => "有效期届满或失信情形消除后，经本机关决定移出。".into(),
            },
            "remedy" => "如不服本决定，可于六十日内申请行政复议，或于六个月内提起行政诉讼。".into(),
            _ => f.name_zh.clone(),
        };
        doc.insert(f.code.clone(), text);
    }
    doc
}

/// Listings of every type for `serve --demo`, at every stage of the procedure: listed,
/// listed after an objection, noticed and waiting, removed early, removed after repair.
/// `subjects` are enterprise codes to use (at least 9); `own` is the demo officer's
/// department, which gets the steps an officer can still take.
pub fn seed_demo(app: &mut App, subjects: &[String], own: &str, today: Date) -> Result<usize> {
    use time::Duration;
    if subjects.len() < 9 {
        return Err(AppError::input("演示主体不足", "not enough demo subjects for listings"));
    }
    let cli = |d: &str| Actor { department: d.to_string(), channel: "demo".into() };
    let samr = "北京市市场监督管理局";
    let court = "北京市第三中级人民法院";
    let tax = "国家税务总局北京市税务局";
    let basis_sd = "《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号）第二条";
    let notice_of = |code: &str, lt: &str, dept: &str, basis: &str, reason: &str, on: Date| Notice {
        subject: code.to_string(),
        list_type: lt.to_string(),
        provider: dept.to_string(),
        basis: Some(basis.to_string()),
        reason: reason.to_string(),
        notice_date: on,
        persons: Vec::new(),
    };
    let days = |n: i64| today - Duration::days(n);
    let decision = |lt: &str, basis: &str, on: Date| Decision {
        decision_date: on,
        start: None,
        end: None,
        document: sample_document(lt, basis),
    };
    let mut n = 0;
    // 1. serious dishonesty, decided after an objection that was answered
    let (l, _) = notice(
        app,
        notice_of(&subjects[0], "serious_dishonesty", samr, basis_sd, "提供虚假材料骗取行政许可", days(300)),
        &cli(samr),
        today,
    )?;
    let (l, _) = object(app, l.id, days(298), "材料系中介机构提供，本公司不知情", &cli(samr), today)?;
    let mut d = decision("serious_dishonesty", basis_sd, days(280));
    d.document.insert("objection_reply".into(), "经复核，当事人对材料真实性负有审查义务，异议不成立。".into());
    decide(app, Ok(l.id), d, &cli(samr), today)?;
    n += 1;
    // 2. serious dishonesty, noticed and in its objection window (the demo officer decides it)
    notice(
        app,
        notice_of(&subjects[1], "serious_dishonesty", own, basis_sd, "拒不履行行政处罚决定", days(1)),
        &cli(own),
        today,
    )?;
    n += 1;
    // 3. market ban with the legal representative, for life
    let mut ban = notice_of(
        &subjects[2],
        "market_ban",
        samr,
        "《中华人民共和国食品安全法》第一百三十五条",
        "生产经营致人死亡的食品",
        days(500),
    );
    ban.persons = vec![listing::ResponsiblePerson {
        role: "legal_representative".into(),
        name: "王建国".into(),
        id: Some("11010519491231002X".into()),
    }];
    let (l, _) = notice(app, ban, &cli(samr), today)?;
    decide(
        app,
        Ok(l.id),
        decision("market_ban", "《中华人民共和国食品安全法》第一百三十五条", days(470)),
        &cli(samr),
        today,
    )?;
    n += 1;
    // 4. key attention, direct decision (the demo officer's)
    let basis_ka = "《北京市社会信用条例》第三十条";
    decide(
        app,
        Err(notice_of(&subjects[3], "key_attention", own, basis_ka, "一年内两次被列入经营异常名录", days(60))),
        decision("key_attention", basis_ka, days(60)),
        &cli(own),
        today,
    )?;
    n += 1;
    // 5. red list
    decide(
        app,
        Err(notice_of(&subjects[4], "red_list", tax, "《纳税信用管理办法》", "连续三年纳税信用A级", days(200))),
        decision("red_list", "《纳税信用管理办法》", days(200)),
        &cli(tax),
        today,
    )?;
    n += 1;
    // 6. abnormal operation, until removed (the demo officer's)
    let basis_ab = "《企业信息公示暂行条例》第十七条";
    decide(
        app,
        Err(notice_of(&subjects[5], "abnormal_operation", own, basis_ab, "未按规定期限公示年度报告", days(90))),
        decision("abnormal_operation", basis_ab, days(90)),
        &cli(own),
        today,
    )?;
    n += 1;
    // 7. abnormal operation, removed after the report was filed (信用修复)
    let (l, _) = decide(
        app,
        Err(notice_of(&subjects[6], "abnormal_operation", samr, basis_ab, "通过登记的住所无法联系", days(400))),
        decision("abnormal_operation", basis_ab, days(400)),
        &cli(samr),
        today,
    )?;
    remove(
        app,
        l.id,
        Removal {
            date: days(100), kind: RemovalKind::Repair, reason: "已补报年度报告并公示，申请移出".into()
        },
        &cli(samr),
        today,
    )?;
    n += 1;
    // 8. serious dishonesty (court), removed early after a year
    let basis_court = "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条";
    let (l, _) = notice(
        app,
        notice_of(
            &subjects[7],
            "serious_dishonesty",
            court,
            basis_court,
            "有履行能力而拒不履行生效法律文书",
            days(720),
        ),
        &cli(court),
        today,
    )?;
    let (l, _) = decide(app, Ok(l.id), decision("serious_dishonesty", basis_court, days(700)), &cli(court), today)?;
    remove(
        app,
        l.id,
        Removal {
            date: days(200), kind: RemovalKind::EarlyRemoval, reason: "已全部履行，申请提前移出".into()
        },
        &cli(court),
        today,
    )?;
    n += 1;
    // 9. red list, expired by itself
    decide(
        app,
        Err(notice_of(&subjects[8], "red_list", tax, "《纳税信用管理办法》", "纳税信用A级", days(900))),
        Decision { end: Some(days(170)), ..decision("red_list", "《纳税信用管理办法》", days(900)) },
        &cli(tax),
        today,
    )?;
    n += 1;
    Ok(n)
}
