#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::LazyLock;

use proptest::prelude::*;
use xinyong_core::codes::{ResidentId, Uscc};

use super::*;

/// (registration/kind prefix, division, name, former names)
const FIXTURE: &[(&str, &str, &str, &[&str])] = &[
    ("91", "110108", "北京中建华信科技有限公司", &["北京中建华信信息技术有限公司"]),
    ("91", "440300", "华为技术有限公司", &[]),
    ("91", "110105", "北京华为餐饮管理有限公司", &[]),
    ("91", "610000", "中国建筑第一工程局有限公司", &[]),
    ("92", "110105", "北京市朝阳区张记便利店", &[]),
    ("91", "110000", "中国建筑股份有限公司", &["中国建筑工程总公司"]),
    ("91", "110108", "北京中建物业管理有限公司", &[]),
    ("91", "310000", "上海浦东发展银行股份有限公司", &[]),
    ("91", "440300", "腾讯科技（深圳）有限公司", &[]),
    ("91", "330100", "阿里巴巴（中国）有限公司", &[]),
    ("91", "440300", "深圳市腾讯计算机系统有限公司", &[]),
    ("91", "110105", "中国工商银行股份有限公司北京朝阳支行", &[]),
    ("91", "500000", "重庆长安汽车股份有限公司", &["重庆长安汽车有限责任公司"]),
    ("91", "110108", "小米科技有限责任公司", &[]),
    ("91", "110108", "北京小米移动软件有限公司", &[]),
    ("91", "110108", "百度在线网络技术（北京）有限公司", &[]),
    ("91", "110000", "京东方科技集团股份有限公司", &["北京东方电子集团股份有限公司"]),
    ("91", "110302", "北京京东世纪贸易有限公司", &[]),
    ("91", "330100", "杭州海康威视数字技术股份有限公司", &[]),
    ("92", "440106", "广州市天河区李氏五金店", &[]),
    ("92", "510107", "成都市武侯区王记面馆", &[]),
    ("91", "110000", "中国石油化工股份有限公司", &[]),
    ("91", "110000", "中国石油天然气股份有限公司", &[]),
    ("91", "110000", "国家电网有限公司", &["国家电网公司"]),
    ("91", "110000", "中国移动通信集团有限公司", &[]),
    ("12", "110000", "北京大学", &[]),
    ("12", "110000", "清华大学", &[]),
    ("13", "110000", "中国红十字会总会", &[]),
    ("11", "110105", "北京市朝阳区人民政府", &[]),
    ("53", "310000", "上海市慈善基金会", &[]),
    ("52", "110108", "北京市海淀区阳光幼儿园", &[]),
    ("91", "440300", "华润万家有限公司", &[]),
    ("91", "110000", "华夏银行股份有限公司", &[]),
    ("91", "110000", "中信建投证券股份有限公司", &[]),
    ("91", "110000", "北京建工集团有限责任公司", &[]),
    ("91", "420100", "中建三局集团有限公司", &["中国建筑第三工程局有限公司"]),
    ("91", "440300", "比亚迪股份有限公司", &[]),
    ("91", "350900", "宁德时代新能源科技股份有限公司", &[]),
    ("91", "440600", "美的集团股份有限公司", &[]),
    ("91", "440400", "珠海格力电器股份有限公司", &[]),
    ("91", "441300", "TCL科技集团股份有限公司", &["TCL集团股份有限公司"]),
    ("92", "370700", "鑫源", &[]),
    ("93", "370783", "寿光市蔬菜种植农民专业合作社", &[]),
    ("91", "110108", "北京华信科技有限公司", &[]),
    ("91", "110105", "北京星河华联科技有限公司", &["北京华信科技有限公司", "北京星河科技有限公司"]),
    ("91", "610100", "西安饮食股份有限公司", &[]),
    ("91", "350200", "厦门航空有限公司", &[]),
    ("91", "310000", "中国平安保险（集团）股份有限公司", &[]),
    ("91", "110108", "新华信国际信息咨询（北京）有限公司", &[]),
];

const PERSONS: &[(&str, &str)] = &[("11010519491231002", "张三"), ("44030619800101123", "李四")];

fn uscc(i: usize, prefix: &str, division: &str) -> String {
    // Two leading digits of the organisation code differ for every subject, so each
    // 10-character prefix is unique.
    let first16 = format!("{prefix}{division}{:02}{:06}", i + 10, i * 7919 % 1_000_000);
    Uscc::complete(&first16).unwrap().as_str().to_string()
}

fn fixture() -> Vec<SubjectDoc> {
    let mut docs: Vec<SubjectDoc> = FIXTURE
        .iter()
        .enumerate()
        .map(|(i, (prefix, division, name, former))| {
            let code = uscc(i, prefix, division);
            let kind = Uscc::parse(&code).unwrap().kind().as_str().to_string();
            SubjectDoc {
                display_code: code.clone(),
                code,
                name: name.to_string(),
                former_names: former.iter().map(|s| s.to_string()).collect(),
                kind,
                division: Some(division.to_string()),
            }
        })
        .collect();
    for (first17, name) in PERSONS {
        let id = ResidentId::complete(first17).unwrap();
        docs.push(SubjectDoc {
            code: id.expose().to_string(),
            display_code: id.masked(),
            name: name.to_string(),
            former_names: vec![],
            kind: SubjectKind::NaturalPerson.as_str().to_string(),
            division: None,
        });
    }
    docs
}

fn person_ids() -> Vec<String> {
    PERSONS.iter().map(|(f, _)| ResidentId::complete(f).unwrap().expose().to_string()).collect()
}

fn build() -> SearchIndex {
    let idx = SearchIndex::in_memory().unwrap();
    idx.upsert(&fixture()).unwrap();
    idx.commit().unwrap();
    idx
}

static INDEX: LazyLock<SearchIndex> = LazyLock::new(build);

fn names(page: &SearchPage) -> Vec<&str> {
    page.hits.iter().map(|h| h.name.as_str()).collect()
}

fn rank(page: &SearchPage, name: &str) -> Option<usize> {
    page.hits.iter().position(|h| h.name == name)
}

#[test]
fn send_sync() {
    fn check<T: Send + Sync>() {}
    check::<SearchIndex>();
}

#[test]
fn counts_and_empty_queries() {
    assert_eq!(INDEX.num_docs(), (FIXTURE.len() + PERSONS.len()) as u64);
    for q in ["", "   ", "\u{3000}", "()", "!!!", "-"] {
        let p = INDEX.search(q, 0, 10).unwrap();
        assert_eq!(p.total, 0, "{q:?}");
        assert!(p.hits.is_empty());
    }
}

#[test]
fn two_character_name_ranks_prefix_first() {
    let p = INDEX.search("华为", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "华为技术有限公司", "{:?}", names(&p));
    assert!(rank(&p, "北京华为餐饮管理有限公司").is_some());
    assert_eq!(p.total, 2, "{:?}", names(&p));
    assert!(p.hits.iter().all(|h| !h.matched_former_name));
    assert!(p.hits[0].score > p.hits[1].score);
}

#[test]
fn exact_name_beats_prefix_beats_words() {
    let p = INDEX.search("北京华信科技有限公司", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "北京华信科技有限公司");
    // 北京中建华信科技有限公司 contains every word but not the exact name.
    let words = rank(&p, "北京中建华信科技有限公司").unwrap();
    let former = rank(&p, "北京星河华联科技有限公司").unwrap();
    assert!(former < words, "{:?}", names(&p));
}

#[test]
fn former_name_ranks_below_current_holder() {
    let p = INDEX.search("北京华信科技有限公司", 0, 10).unwrap();
    let current = rank(&p, "北京华信科技有限公司").unwrap();
    let renamed = rank(&p, "北京星河华联科技有限公司").unwrap();
    assert!(current < renamed);
    assert!(!p.hits[current].matched_former_name);
    assert!(p.hits[renamed].matched_former_name);
    assert_eq!(p.hits[renamed].former_names, vec!["北京华信科技有限公司", "北京星河科技有限公司"]);

    let p = INDEX.search("北京东方电子", 0, 10).unwrap();
    assert_eq!(names(&p), vec!["京东方科技集团股份有限公司"]);
    assert!(p.hits[0].matched_former_name);

    let p = INDEX.search("中国建筑第三工程局有限公司", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "中建三局集团有限公司");
    assert!(p.hits[0].matched_former_name);
}

#[test]
fn segmented_words_need_not_be_contiguous() {
    let p = INDEX.search("北京 华信", 0, 20).unwrap();
    assert!(rank(&p, "北京中建华信科技有限公司").is_some());
    let p = INDEX.search("中建华信科技", 0, 20).unwrap();
    assert_eq!(p.hits[0].name, "北京中建华信科技有限公司");
    let p = INDEX.search("北京朝阳张记", 0, 20).unwrap();
    assert_eq!(names(&p), vec!["北京市朝阳区张记便利店"]);
}

#[test]
fn single_characters_and_short_names() {
    let p = INDEX.search("腾", 0, 10).unwrap();
    assert_eq!(p.total, 2);
    let p = INDEX.search("鑫源", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "鑫源");
    let p = INDEX.search("鑫", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "鑫源");
    let p = INDEX.search("华", 0, 100).unwrap();
    // 华为…, 华润…, 华夏… start with 华 and come first.
    for h in &p.hits[..3] {
        assert!(h.name.starts_with('华'), "{:?}", names(&p));
    }
}

#[test]
fn pinyin_initials_and_full_pinyin() {
    let p = INDEX.search("bjzj", 0, 10).unwrap();
    assert!(p.hits.len() >= 2, "{:?}", names(&p));
    for h in &p.hits[..2] {
        assert!(h.name.starts_with("北京中建"), "{:?}", names(&p));
    }
    let p = INDEX.search("zgjz", 0, 10).unwrap();
    assert!(p.hits[..2].iter().any(|h| h.name == "中国建筑第一工程局有限公司"), "{:?}", names(&p));
    assert!(p.hits[..2].iter().all(|h| h.name.starts_with("中国建筑")));

    let p = INDEX.search("BJZJ", 0, 10).unwrap();
    assert!(p.hits[0].name.starts_with("北京中建"));

    let p = INDEX.search("beijingzhongjian", 0, 10).unwrap();
    assert!(p.hits[0].name.starts_with("北京中建"), "{:?}", names(&p));
    let p = INDEX.search("beijingzh", 0, 10).unwrap();
    assert!(p.hits[0].name.starts_with("北京中"), "{:?}", names(&p));
    let p = INDEX.search("huawei", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "华为技术有限公司", "{:?}", names(&p));
    assert!(rank(&p, "北京华为餐饮管理有限公司").is_some());
    let p = INDEX.search("hw", 0, 10).unwrap();
    assert!(rank(&p, "华为技术有限公司").is_some(), "{:?}", names(&p));
    assert!(rank(&p, "北京华为餐饮管理有限公司").is_some());
    let p = INDEX.search("chongqing", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "重庆长安汽车股份有限公司");
    let p = INDEX.search("xiamen", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "厦门航空有限公司");
    let p = INDEX.search("xian", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "西安饮食股份有限公司");
    let p = INDEX.search("tcl", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "TCL科技集团股份有限公司");
}

#[test]
fn code_prefixes() {
    let docs = fixture();
    let target = &docs[7];
    for n in [6usize, 8, 9, 10, 12, 17, 18] {
        let q = &target.code[..n];
        let expected: Vec<&str> = docs
            .iter()
            .filter(|d| d.kind != "natural_person" && d.code.starts_with(q))
            .map(|d| d.code.as_str())
            .collect();
        let p = INDEX.search(q, 0, 100).unwrap();
        let found: Vec<&str> = p.hits.iter().map(|h| h.code.as_str()).collect();
        assert_eq!(p.hits[0].code, target.code, "{q}");
        let mut sorted = found.clone();
        sorted.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(sorted, expected, "prefix {q}");
        if n >= 10 {
            assert_eq!(found, vec![target.code.as_str()], "prefix {q}");
        }
    }
    // Lower case, full width, spaces.
    let fw: String = target.code[..10].chars().map(|c| char::from_u32(c as u32 + 0xfee0).unwrap()).collect();
    for q in [target.code.to_lowercase(), fw, format!(" {} ", &target.code[..10])] {
        let p = INDEX.search(&q, 0, 10).unwrap();
        assert_eq!(p.hits.len(), 1, "{q}");
        assert_eq!(p.hits[0].code, target.code);
    }
}

#[test]
fn natural_persons_only_by_name() {
    for id in person_ids() {
        for n in [6, 10, 14, 17, 18] {
            let p = INDEX.search(&id[..n], 0, 100).unwrap();
            assert!(p.hits.iter().all(|h| h.kind != "natural_person"), "{} found a person", &id[..n]);
        }
    }
    let p = INDEX.search("张三", 0, 10).unwrap();
    assert_eq!(p.hits.len(), 1);
    let h = &p.hits[0];
    assert_eq!(h.kind, "natural_person");
    assert!(h.display_code.contains('*'), "{}", h.display_code);
    assert_ne!(h.display_code, h.code);
    let p = INDEX.search("zs", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "张三");
}

#[test]
fn pagination_is_stable() {
    let all = INDEX.search("有限公司", 0, 100).unwrap();
    assert!(all.total > 20);
    assert_eq!(all.total, all.hits.len());
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let p = INDEX.search("有限公司", offset, 7).unwrap();
        assert_eq!(p.total, all.total);
        assert_eq!(p.offset, offset);
        if p.hits.is_empty() {
            break;
        }
        assert!(p.hits.len() <= 7);
        paged.extend(p.hits.into_iter().map(|h| h.code));
        offset += 7;
    }
    let codes: Vec<String> = all.hits.iter().map(|h| h.code.clone()).collect();
    assert_eq!(paged, codes);
    // Scores never increase along the list.
    assert!(all.hits.windows(2).all(|w| w[0].score >= w[1].score));
    // limit is capped; limit 0 still counts.
    let p = INDEX.search("公司", 0, 1000).unwrap();
    assert!(p.hits.len() <= MAX_LIMIT);
    let p = INDEX.search("公司", 0, 0).unwrap();
    assert!(p.hits.is_empty() && p.total > 0);
    let p = INDEX.search("公司", MAX_OFFSET, 10).unwrap();
    assert!(p.hits.is_empty() && p.total > 0);
}

#[test]
fn counting_stops_at_the_cap_and_says_so() {
    let all = INDEX.search("有限公司", 0, 100).unwrap();
    assert!(!all.total_is_lower_bound);
    assert!(all.total > 20 && all.total < MAX_TOTAL);
    for cap in [1, 5, 20] {
        let p = INDEX.search_counting("有限公司", 0, 100, cap).unwrap();
        assert!(p.total_is_lower_bound, "cap {cap}");
        assert_eq!(p.total, cap);
        // the ranking of the first `cap` matches in index order: a subset of the whole
        // answer, in the whole answer's order
        let codes: Vec<&str> = all.hits.iter().map(|h| h.code.as_str()).collect();
        let at: Vec<usize> = p.hits.iter().map(|h| codes.iter().position(|c| *c == h.code).unwrap()).collect();
        assert_eq!(p.hits.len(), cap);
        assert!(at.windows(2).all(|w| w[0] < w[1]), "cap {cap}: {at:?}");
    }
    // at or above the total, the answer is the uncapped one
    let p = INDEX.search_counting("有限公司", 0, 100, all.total).unwrap();
    assert!(!p.total_is_lower_bound);
    assert_eq!(names(&p), names(&all));
}

#[test]
fn a_whole_name_comes_first_when_the_count_stops() {
    // many names containing 华信 indexed before the subject whose whole name it is
    let idx = SearchIndex::in_memory().unwrap();
    let mut docs: Vec<SubjectDoc> = (0..40)
        .map(|i| {
            let code = uscc(i, "91", "110108");
            SubjectDoc {
                display_code: code.clone(),
                code,
                name: format!("北京华信第{i}科技有限公司"),
                former_names: vec![],
                kind: "enterprise".into(),
                division: None,
            }
        })
        .collect();
    let code = uscc(40, "91", "110108");
    docs.push(SubjectDoc {
        display_code: code.clone(),
        code: code.clone(),
        name: "华信".into(),
        former_names: vec![],
        kind: "enterprise".into(),
        division: None,
    });
    idx.upsert(&docs).unwrap();
    idx.commit().unwrap();
    let whole = idx.search("华信", 0, 10).unwrap();
    assert_eq!((whole.total, whole.total_is_lower_bound), (41, false));
    assert_eq!(whole.hits[0].name, "华信");
    let capped = idx.search_counting("华信", 0, 10, 10).unwrap();
    assert!(capped.total_is_lower_bound);
    assert_eq!(capped.total, 11, "10 counted, and the exact match past the cut");
    assert_eq!(capped.hits[0].name, "华信");
    assert_eq!(capped.hits[0].score, whole.hits[0].score);
    assert_eq!(capped.hits.len(), 10);
    // the code finds it exactly too, however the count goes
    let by_code = idx.search_counting(&code, 0, 10, 1).unwrap();
    assert_eq!(by_code.hits[0].code, code);
}

#[test]
fn renamed_subject_replaces_old_document() {
    let idx = build();
    let before = idx.num_docs();
    let mut doc = fixture()[2].clone(); // 北京华为餐饮管理有限公司
    doc.former_names = vec![doc.name.clone()];
    doc.name = "北京麒麟餐饮管理有限公司".to_string();
    idx.upsert(std::slice::from_ref(&doc)).unwrap();
    // Not visible before commit.
    assert_eq!(idx.search("麒麟", 0, 10).unwrap().total, 0);
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), before);

    let p = idx.search("麒麟", 0, 10).unwrap();
    assert_eq!(names(&p), vec!["北京麒麟餐饮管理有限公司"]);
    let p = idx.search("北京华为餐饮管理有限公司", 0, 10).unwrap();
    let hit = p.hits.iter().find(|h| h.code == doc.code).unwrap();
    assert!(hit.matched_former_name);
    assert_eq!(hit.name, "北京麒麟餐饮管理有限公司");
    assert_eq!(p.hits.iter().filter(|h| h.code == doc.code).count(), 1);

    // Renamed again without keeping the former name: the old name is gone.
    doc.former_names.clear();
    idx.upsert(&[doc.clone(), doc.clone()]).unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), before);
    let p = idx.search("华为餐饮", 0, 10).unwrap();
    assert_eq!(p.total, 0);

    // Persons are replaced by their (hashed) key too.
    let mut person = fixture().pop().unwrap();
    person.name = "李四维".to_string();
    idx.upsert(&[person]).unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), before);
    assert_eq!(idx.search("李四维", 0, 10).unwrap().total, 1);

    idx.clear().unwrap();
    assert_eq!(idx.num_docs(), 0);
    assert_eq!(idx.search("华为", 0, 10).unwrap().total, 0);
    idx.upsert(&fixture()).unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), before);
}

#[test]
fn large_batches_keep_last_version() {
    let idx = SearchIndex::in_memory().unwrap();
    let docs: Vec<SubjectDoc> = (0..PARALLEL_BATCH + 100)
        .map(|i| {
            let first16 = format!("91110108{:08}", 10_000_000 + i % 1000);
            let code = Uscc::complete(&first16).unwrap().as_str().to_string();
            SubjectDoc {
                display_code: code.clone(),
                code,
                name: format!("北京第{i}号测试科技有限公司"),
                former_names: vec![],
                kind: "enterprise".to_string(),
                division: None,
            }
        })
        .collect();
    idx.upsert(&docs).unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), 1000);
    let last = &docs[docs.len() - 1];
    let p = idx.search(&last.code, 0, 10).unwrap();
    assert_eq!(p.hits.len(), 1);
    assert_eq!(p.hits[0].name, last.name);
}

#[test]
fn query_syntax_is_not_interpreted() {
    for q in [
        "AND (",
        "OR",
        "NOT",
        "name:\"华为\"",
        "华为 AND",
        "*",
        "?",
        "华为~2",
        "+华为 -技术",
        "[a TO z]",
        "{* TO *}",
        "\\",
        "\"",
        "'",
        "name_raw:华为",
        "^华为$",
        "华为^10",
        "/.*/",
        "a\u{0}b",
    ] {
        let p = INDEX.search(q, 0, 10);
        assert!(p.is_ok(), "{q:?}: {p:?}");
    }
    let p = INDEX.search("name:\"华为\"", 0, 10).unwrap();
    assert!(p.hits.iter().all(|h| h.name.contains("华为")));
    let p = INDEX.search("^华为$", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "华为技术有限公司");
}

#[test]
fn full_width_and_punctuation_in_queries() {
    let p = INDEX.search("腾讯科技(深圳)有限公司", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "腾讯科技（深圳）有限公司");
    assert!(p.hits[0].score >= f64::from(EXACT_CURRENT));
    let p = INDEX.search("ＴＣＬ科技", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "TCL科技集团股份有限公司");
}

#[test]
fn on_disk_index_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    {
        let idx = SearchIndex::open_or_create(&path).unwrap();
        assert_eq!(idx.num_docs(), 0);
        idx.upsert(&fixture()).unwrap();
        idx.commit().unwrap();
    }
    let idx = SearchIndex::open_or_create(&path).unwrap();
    assert_eq!(idx.num_docs(), (FIXTURE.len() + PERSONS.len()) as u64);
    let p = idx.search("华为", 0, 10).unwrap();
    assert_eq!(p.hits[0].name, "华为技术有限公司");
}

#[test]
fn serialises_to_json_shape() {
    let p = INDEX.search("华为", 0, 1).unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["query"], "华为");
    assert_eq!(v["hits"][0]["matched_former_name"], false);
    assert!(v["hits"][0]["score"].is_number());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn search_never_errors(q in any::<String>(), offset in 0usize..20_000, limit in 0usize..500) {
        let p = INDEX.search(&q, offset, limit).unwrap();
        prop_assert!(p.hits.len() <= limit.min(MAX_LIMIT));
    }

    #[test]
    fn search_never_errors_on_mixed_text(
        q in "[华为北京中建a-zA-Z0-9（）()\\[\\]{}:\"*?~^+\\-!/\\\\ 　ＡＢ１２]{0,40}"
    ) {
        INDEX.search(&q, 0, 10).unwrap();
    }
}

/// Throughput and latency on synthetic names:
/// `XINYONG_SEARCH_BENCH_N=100000 cargo test -p xinyong-search --release -- --ignored bench --nocapture`
#[test]
#[ignore]
fn bench_synthetic() {
    use std::time::Instant;
    const CITIES: &[(&str, &str)] = &[
        ("北京", "110105"),
        ("上海", "310115"),
        ("深圳市", "440300"),
        ("广州市", "440106"),
        ("杭州", "330106"),
        ("成都", "510107"),
        ("重庆", "500103"),
        ("武汉", "420106"),
        ("西安", "610113"),
        ("南京", "320106"),
    ];
    const POOL: &str = "华信达鑫源通泰恒瑞祥和安康兴盛隆昌顺宏伟宇天海金银中建国科创联合新东方博远佳成嘉德龙凤明亮晨星光辉云峰汇丰鼎立腾飞正大永利美誉欣荣锦程";
    const TRADES: &[&str] = &[
        "科技",
        "贸易",
        "餐饮管理",
        "建筑工程",
        "物业管理",
        "信息技术",
        "文化传媒",
        "医药",
        "物流",
        "投资咨询",
        "电子",
        "机械设备",
        "房地产开发",
        "教育咨询",
        "农业开发",
    ];
    const FORMS: &[&str] = &["有限公司", "股份有限公司", "有限责任公司", "集团有限公司"];
    let n: usize = std::env::var("XINYONG_SEARCH_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let pool: Vec<char> = POOL.chars().collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let docs: Vec<SubjectDoc> = (0..n)
        .map(|i| {
            let (city, div) = CITIES[next(CITIES.len())];
            let brand: String = (0..2 + next(2)).map(|_| pool[next(pool.len())]).collect();
            let name = format!("{city}{brand}{}{}", TRADES[next(TRADES.len())], FORMS[next(FORMS.len())]);
            let first16 = format!("91{div}{:08}", i * 7 + 10_000_000);
            let code = Uscc::complete(&first16).unwrap().as_str().to_string();
            let former_names = if i % 10 == 0 { vec![format!("{city}{brand}实业有限公司")] } else { vec![] };
            SubjectDoc {
                display_code: code.clone(),
                code,
                name,
                former_names,
                kind: "enterprise".to_string(),
                division: Some(div.to_string()),
            }
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let idx = SearchIndex::open_or_create(dir.path()).unwrap();
    let t = Instant::now();
    for chunk in docs.chunks(10_000) {
        idx.upsert(chunk).unwrap();
    }
    let t_add = t.elapsed();
    idx.commit().unwrap();
    let t_all = t.elapsed();
    let size: u64 = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    println!(
        "{n} docs: add {t_add:?}, add+commit {t_all:?} ({:.0} docs/s), index {:.1} MiB ({} bytes/doc)",
        n as f64 / t_all.as_secs_f64(),
        size as f64 / 1048576.0,
        size / n as u64
    );

    // Let background merges settle before measuring.
    let (mut last, mut stable) = (usize::MAX, 0);
    for _ in 0..90 {
        std::thread::sleep(std::time::Duration::from_secs(2));
        idx.reader.reload().unwrap();
        let segments = idx.reader.searcher().segment_readers().len();
        stable = if segments == last { stable + 1 } else { 0 };
        last = segments;
        if stable == 3 {
            break;
        }
    }
    println!("segments after merges: {last}");

    let sample = &docs[n / 2];
    let queries: Vec<String> = vec![
        "华为".into(),
        "华".into(),
        "北京".into(),
        "有限公司".into(),
        "科技有限公司".into(),
        "北京华信".into(),
        sample.name.clone(),
        sample.name.chars().take(6).collect(),
        sample.code[..6].to_string(),
        sample.code[..10].to_string(),
        sample.code.clone(),
        "bj".into(),
        "bjhx".into(),
        "beijing".into(),
        "beijinghua".into(),
        "shenzhenshi".into(),
        "hx".into(),
        "信息技术 北京".into(),
        "AND (".into(),
    ];
    // Warm up.
    for q in &queries {
        idx.search(q, 0, 20).unwrap();
    }
    let mut all = Vec::new();
    for q in &queries {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..30 {
            let t = Instant::now();
            total = idx.search(q, 0, 20).unwrap().total;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "{q:<24} total {total:>7}  p50 {:>9.2?}  max {:>9.2?}",
            times[times.len() / 2],
            times[times.len() - 1]
        );
        all.extend(times);
    }
    all.sort();
    println!("all queries: p50 {:?}, p99 {:?}", all[all.len() / 2], all[all.len() * 99 / 100]);
}

/// Typed keys (issue 11): a foreign organisation is found by its whole key and by its
/// name; a person known by a passport only by name, with the masked key shown.
#[test]
fn typed_document_keys() {
    let idx = SearchIndex::in_memory().unwrap();
    let org = SubjectCode::parse("F-RN-HRB12345").unwrap();
    let person = SubjectCode::parse("P-PP-E12345678").unwrap();
    let docs: Vec<SubjectDoc> = [(&org, "Muster Handels GmbH"), (&person, "JOHN SMITH")]
        .into_iter()
        .map(|(c, name)| SubjectDoc {
            code: c.key().to_string(),
            display_code: c.display(),
            name: name.to_string(),
            former_names: vec![],
            kind: c.kind().as_str().to_string(),
            division: None,
        })
        .collect();
    idx.upsert(&docs).unwrap();
    idx.commit().unwrap();
    let page = idx.search("f-rn-hrb12345", 0, 10).unwrap();
    assert_eq!(names(&page), ["Muster Handels GmbH"]);
    assert!(idx.search("P-PP-E12345678", 0, 10).unwrap().hits.is_empty(), "a person's number is not searchable");
    assert!(idx.search("E12345678", 0, 10).unwrap().hits.is_empty());
    let page = idx.search("JOHN SMITH", 0, 10).unwrap();
    assert_eq!(page.hits[0].display_code, "P-PP-E1*****78");
}

#[test]
fn documents_added_new_answer_as_upserted_ones_do() {
    let idx = SearchIndex::in_memory().unwrap();
    idx.add_new(&fixture()).unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), INDEX.num_docs());
    for q in ["有限公司", "北京", "zhangsan"] {
        let (a, b) = (idx.search(q, 0, 20).unwrap(), INDEX.search(q, 0, 20).unwrap());
        assert_eq!((a.total, names(&a)), (b.total, names(&b)), "{q}");
    }
    // an upsert after them still replaces: one document per code
    idx.upsert(&fixture()[..1]).unwrap();
    idx.commit().unwrap();
    assert_eq!(idx.num_docs(), INDEX.num_docs());
}
