use proptest::prelude::*;
use time::macros::date;

use super::*;

fn models() -> &'static Models {
    Models::bundled().unwrap()
}

fn comprehensive() -> &'static Model {
    models().model("comprehensive").unwrap()
}

const DAY: Date = date!(2026 - 12 - 01);
const SAMR: &str = "北京市朝阳区市场监督管理局";

fn penalty(id: i64, tier: Tier, decided: Date, fine: &'static str) -> RecordFact<'static> {
    RecordFact {
        id,
        item: "admin_penalty",
        provider: SAMR,
        tier: Some(tier),
        decided: Some(decided),
        facet: Some(fine),
    }
}

#[test]
fn the_record_filter_keeps_what_a_window_counts_and_nothing_older_or_unread() {
    let on = date!(2026 - 12 - 07);
    let filter = models().record_filter(on);
    // a penalty counts for three years, an inspection for one; licences are read by none
    assert!(filter.keeps("admin_penalty", Some(date!(2024 - 01 - 01))));
    assert!(!filter.keeps("admin_penalty", Some(date!(2019 - 01 - 01))));
    assert!(!filter.keeps("admin_penalty", Some(date!(2026 - 12 - 08))), "decided after the day");
    assert!(!filter.keeps("admin_penalty", None));
    assert!(filter.keeps("admin_inspection", Some(date!(2026 - 06 - 01))));
    assert!(!filter.keeps("admin_licence", Some(on)));
}

#[test]
fn the_bundled_models_load() {
    let codes: Vec<&str> = models().models.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes, ["comprehensive", "samr_risk", "construction"]);
    let c = comprehensive();
    assert_eq!(c.bands.iter().map(|b| b.name_zh.as_str()).collect::<Vec<_>>(), ["优", "良", "中", "差"]);
    assert!(c.covers("enterprise", None) && !c.covers("natural_person", None));
    let building = models().model("construction").unwrap();
    assert!(building.covers("enterprise", Some("E4710")) && !building.covers("enterprise", Some("F5100")));
    assert!(!building.covers("enterprise", None));
}

#[test]
fn nothing_on_record_is_good_and_the_arithmetic_explains_a_grade() {
    let c = comprehensive();
    let g = c.grade(&Facts::default(), DAY, false);
    assert_eq!((g.score, g.letter.as_str(), g.name_zh.as_str()), (700, "B", "良"));

    let facts = Facts {
        records: vec![
            penalty(1, Tier::General, date!(2025 - 03 - 01), "2"),
            penalty(2, Tier::Minor, date!(2024 - 06 - 30), "0.5"),
            // decided 3 years and a day before: out of the window
            penalty(3, Tier::General, date!(2023 - 11 - 30), "1"),
            RecordFact {
                id: 4,
                item: "honour",
                provider: "北京市人民政府",
                tier: None,
                decided: Some(date!(2026 - 01 - 05)),
                facet: None,
            },
        ],
        listings: vec![],
        commitments: CommitmentFacts { fulfilled: 3, breached: 1, verified_registrations: 0 },
    };
    let g = c.grade(&facts, DAY, true);
    let part = |code: &str| g.contributions.iter().find(|x| x.indicator == code).unwrap().clone();
    assert_eq!((part("penalties_minor_general").value, part("penalties_minor_general").points), (2, -40));
    assert_eq!(part("penalties_minor_general").counted, vec![1, 2]);
    assert_eq!((part("fines").value_text.as_str(), part("fines").points), ("2.5", -5));
    assert_eq!((part("honours").value, part("honours").points), (1, 20));
    assert_eq!((part("fulfilment_rate").value_text.as_str(), part("fulfilment_rate").points), ("750‰", 37));
    assert_eq!(g.score, 700 - 40 - 5 + 20 + 37);
    assert_eq!(g.letter, "B");
    let text = g.arithmetic();
    assert!(text.starts_with("700 − 40（近三年一般、轻微行政处罚 2 × -20）"), "{text}");
    assert!(text.ends_with("= 712 → B"), "{text}");
}

#[test]
fn ceilings_hold_a_grade_whatever_the_score() {
    let c = comprehensive();
    let honours: Vec<RecordFact<'static>> = (0..5)
        .map(|i| RecordFact {
            id: i,
            item: "honour",
            provider: "x",
            tier: None,
            decided: Some(date!(2026 - 06 - 01)),
            facet: None,
        })
        .collect();
    let listed = ListingFact { id: 9, list_type: "serious_dishonesty", start: Some(date!(2026 - 01 - 01)), end: None };
    let red = ListingFact { id: 10, list_type: "red_list", start: Some(date!(2026 - 01 - 01)), end: None };
    let facts = Facts { records: honours, listings: vec![red, listed], ..Facts::default() };
    let g = c.grade(&facts, DAY, false);
    // 700 + 100 (honours, capped) + 100 (red list) − 300 = 600: band C, held at D
    assert_eq!((g.score, g.band.as_str(), g.letter.as_str()), (600, "C", "D"));
    assert!(g.ceilings[0].contains("listed_serious"), "{:?}", g.ceilings);
    assert!(g.arithmetic().ends_with("→ D"), "{}", g.arithmetic());
    // an entry that ended no longer counts
    let ended = ListingFact { end: Some(date!(2026 - 11 - 01)), ..listed };
    let g = c.grade(&Facts { listings: vec![ended], ..Facts::default() }, DAY, false);
    assert_eq!(g.letter, "B");
}

#[test]
fn industry_models_read_their_departments_and_facets() {
    let samr = models().model("samr_risk").unwrap();
    let unreachable = RecordFact {
        id: 1,
        item: "admin_inspection",
        provider: SAMR,
        tier: None,
        decided: Some(date!(2026 - 05 - 01)),
        facet: Some("通过登记的住所（经营场所）无法联系"),
    };
    let housing = RecordFact {
        provider: "北京市住房和城乡建设委员会",
        ..penalty(2, Tier::General, date!(2026 - 02 - 01), "1")
    };
    let g = samr.grade(&Facts { records: vec![unreachable, housing], ..Facts::default() }, DAY, false);
    // 100 − 10 (a problem found) − 20 (unreachable); the housing penalty is not market regulation's
    assert_eq!((g.score, g.band.as_str(), g.letter.as_str()), (70, "B", "C"));
    let building = models().model("construction").unwrap();
    let g = building.grade(&Facts { records: vec![housing], ..Facts::default() }, DAY, false);
    assert_eq!(g.score, 90);
}

#[test]
fn broken_models_are_refused() {
    let catalog = Catalog::bundled().unwrap();
    let text = include_str!("../../../../data/grading/comprehensive.toml");
    let refuse = |from: &str, to: &str, says: &str| {
        let changed = text.replacen(from, to, 1);
        assert_ne!(changed, text, "{from}");
        let e = Model::from_toml(&changed, &catalog, ListRules::bundled()).unwrap_err();
        assert!(e.contains(says), "{e}");
    };
    refuse("weight = -20", "weight = 20", "sign");
    refuse(
        "weight = 100\ncap = 100\n\n[[indicator]]\ncode = \"honours\"",
        "weight = -100\ncap = 100\n\n[[indicator]]\ncode = \"honours\"",
        "sign",
    );
    refuse("items = [\"honour\", \"admin_reward\"]", "items = [\"honour\", \"admin_penalty\"]", "mixed");
    refuse("items = [\"admin_enforcement\"]", "items = [\"no_such_item\"]", "no_such_item");
    refuse("list_types = [\"red_list\"]", "list_types = [\"red_list\", \"key_attention\"]", "mixed");
    refuse("min = 650", "min = 900", "fall");
    refuse("indicator = \"penalties_serious\"", "indicator = \"honours\"", "negative indicator");
    refuse("at_most = \"C\"", "at_most = \"E\"", "invalid ceiling");
    refuse("admin_inspection = \"检查结果\"", "admin_inspection = \"无此字段\"", "无此字段");
    refuse("window = \"1 year\"", "window = \"one year\"", "one year");
}

// ---- properties -----------------------------------------------------------------------------

const ITEMS: &[&str] = &[
    "admin_penalty",
    "admin_enforcement",
    "product_quality_failure",
    "commitment_breach",
    "honour",
    "admin_reward",
    "admin_inspection",
    "tax_credit_rating",
    "admin_licence",
];
const PROVIDERS: &[&str] = &[SAMR, "北京市住房和城乡建设委员会", "国家税务总局北京市税务局", "北京市朝阳区人民法院"];
const FACETS: &[&str] =
    &["未发现问题", "发现问题已责令改正", "通过登记的住所（经营场所）无法联系", "A", "D", "12.5", "0.3", "-4", "x"];
const LISTS: &[&str] = &["serious_dishonesty", "key_attention", "red_list", "abnormal_operation", "dishonest_debtor"];

fn tier() -> impl Strategy<Value = Option<Tier>> {
    prop_oneof![
        Just(None),
        Just(Some(Tier::Minor)),
        Just(Some(Tier::General)),
        Just(Some(Tier::Serious)),
        Just(Some(Tier::SpeciallySerious))
    ]
}

fn day() -> impl Strategy<Value = Date> {
    (0i64..3000).prop_map(|n| date!(2019 - 01 - 01) + time::Duration::days(n))
}

fn record(items: &'static [&'static str]) -> impl Strategy<Value = RecordFact<'static>> {
    (
        any::<i64>(),
        0..items.len(),
        0..PROVIDERS.len(),
        tier(),
        proptest::option::of(day()),
        proptest::option::of(0..FACETS.len()),
    )
        .prop_map(move |(id, i, p, tier, decided, f)| RecordFact {
            id,
            item: items[i],
            provider: PROVIDERS[p],
            tier,
            decided,
            facet: f.map(|f| FACETS[f]),
        })
}

fn listing() -> impl Strategy<Value = ListingFact<'static>> {
    (any::<i64>(), 0..LISTS.len(), proptest::option::of(day()), proptest::option::of(day()))
        .prop_map(|(id, l, start, end)| ListingFact { id, list_type: LISTS[l], start, end })
}

fn facts() -> impl Strategy<Value = Facts<'static>> {
    (
        proptest::collection::vec(record(ITEMS), 0..12),
        proptest::collection::vec(listing(), 0..3),
        (0u32..5, 0u32..5, 0u32..3),
    )
        .prop_map(|(records, listings, (fulfilled, breached, verified_registrations))| Facts {
            records,
            listings,
            commitments: CommitmentFacts { fulfilled, breached, verified_registrations },
        })
}

/// The catalog's negative items (the ones a "negative record" is of).
const NEGATIVE: &[&str] = &["admin_penalty", "admin_enforcement", "product_quality_failure", "commitment_breach"];

proptest! {
    #[test]
    fn adding_a_negative_record_never_raises_a_grade(f in facts(), extra in record(NEGATIVE), on in day()) {
        let catalog = Catalog::bundled().unwrap();
        for n in NEGATIVE {
            prop_assert_eq!(catalog.item(n).unwrap().nature, Nature::Negative);
        }
        for m in &models().models {
            let before = m.grade(&f, on, false);
            let mut more = f.clone();
            more.records.push(extra);
            let after = m.grade(&more, on, false);
            prop_assert!(after.score <= before.score, "{}: {} → {}", m.code, before.arithmetic(), after.arithmetic());
            prop_assert!(m.rank(&after.letter) >= m.rank(&before.letter), "{}: {} → {}", m.code, before.letter, after.letter);
        }
    }

    #[test]
    fn a_record_the_filter_does_not_keep_changes_no_grade(f in facts(), extra in record(ITEMS), on in day()) {
        let filter = models().record_filter(on);
        if !filter.keeps(extra.item, extra.decided) {
            for m in &models().models {
                let before = m.grade(&f, on, false);
                let mut more = f.clone();
                more.records.push(extra);
                let after = m.grade(&more, on, false);
                prop_assert_eq!((before.score, &before.letter), (after.score, &after.letter), "{}", m.code);
            }
        }
    }

    #[test]
    fn a_grade_is_a_function_of_the_model_and_the_facts(f in facts(), on in day(), seed in any::<u64>()) {
        for m in &models().models {
            let g = m.grade(&f, on, true);
            prop_assert_eq!(&g, &m.grade(&f, on, true));
            // the order facts arrive in does not matter (the batch reads them in record order)
            let mut shuffled = f.clone();
            let n = shuffled.records.len();
            if n > 1 {
                shuffled.records.rotate_left((seed as usize) % n);
                shuffled.records.reverse();
            }
            shuffled.listings.reverse();
            let h = m.grade(&shuffled, on, false);
            prop_assert_eq!((g.score, &g.letter), (h.score, &h.letter));
            // the score is the base plus the contributions, each within its cap
            let sum: i64 = g.contributions.iter().map(|c| c.points).sum();
            prop_assert_eq!(g.score, m.base + sum);
            for (c, ind) in g.contributions.iter().zip(&m.indicators) {
                prop_assert!(c.points.abs() <= ind.cap);
            }
        }
    }
}
