//! Text analysis shared by indexing and querying: name normalisation, jieba words,
//! 1–2 character n-grams with anchors, pinyin forms and pinyin syllable segmentation.

use std::collections::HashSet;
use std::sync::LazyLock;

use jieba_rs::Jieba;
use pinyin::ToPinyin;
use xinyong_core::codes::fullwidth_to_ascii;

/// Longest normalised name (in characters) that is analysed; the rest is ignored.
pub(crate) const MAX_NAME_CHARS: usize = 100;
/// Longest normalised query (in characters) that is analysed.
pub(crate) const MAX_QUERY_CHARS: usize = 64;
/// Start-of-value anchor in the bigram fields (never survives normalisation).
pub(crate) const START: char = '^';
/// End-of-value anchor in the bigram fields.
pub(crate) const END: char = '$';

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Phrases whose everyday reading differs from the default reading of their characters
/// (heteronyms common in company names and place names).
const PHRASE_READINGS: &[(&str, &[&str])] = &[
    ("重庆", &["chong", "qing"]),
    ("长沙", &["chang", "sha"]),
    ("长春", &["chang", "chun"]),
    ("长城", &["chang", "cheng"]),
    ("长江", &["chang", "jiang"]),
    ("长安", &["chang", "an"]),
    ("长治", &["chang", "zhi"]),
    ("延长", &["yan", "chang"]),
    ("厦门", &["xia", "men"]),
    ("大厦", &["da", "sha"]),
    ("银行", &["yin", "hang"]),
    ("商行", &["shang", "hang"]),
    ("车行", &["che", "hang"]),
    ("琴行", &["qin", "hang"]),
    ("行业", &["hang", "ye"]),
    ("蚌埠", &["beng", "bu"]),
    ("六安", &["lu", "an"]),
    ("乐清", &["yue", "qing"]),
    ("音乐", &["yin", "yue"]),
    ("乐器", &["yue", "qi"]),
    ("会计", &["kuai", "ji"]),
    ("番禺", &["pan", "yu"]),
    ("单县", &["shan", "xian"]),
    ("莘县", &["shen", "xian"]),
    ("西藏", &["xi", "zang"]),
    ("朝阳", &["chao", "yang"]),
    ("传媒", &["chuan", "mei"]),
    ("成都", &["cheng", "du"]),
    ("首都", &["shou", "du"]),
    ("调查", &["diao", "cha"]),
    ("重型", &["zhong", "xing"]),
    ("重工", &["zhong", "gong"]),
    ("种业", &["zhong", "ye"]),
    ("种植", &["zhong", "zhi"]),
    ("供应", &["gong", "ying"]),
    ("供销", &["gong", "xiao"]),
    ("还款", &["huan", "kuan"]),
    ("营销", &["ying", "xiao"]),
];

/// Lower-cases, maps full-width forms to ASCII and keeps only letters and digits (CJK
/// ideographs are letters), so spacing, punctuation and bracket styles never matter.
pub(crate) fn normalize_name(s: &str) -> String {
    s.chars()
        .map(fullwidth_to_ascii)
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .take(MAX_NAME_CHARS)
        .collect()
}

/// Like [`normalize_name`] but keeps the segment boundaries the user typed (spaces,
/// punctuation): each returned segment is non-empty and alphanumeric.
pub(crate) fn query_segments(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut total = 0usize;
    for c in s.chars().map(fullwidth_to_ascii).flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if total >= MAX_QUERY_CHARS {
                break;
            }
            cur.push(c);
            total += 1;
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words of a normalised name for the index (jieba search mode: words and their
/// dictionary sub-words).
pub(crate) fn index_words(norm: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    JIEBA
        .cut_for_search(norm, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| !w.is_empty() && seen.insert(*w))
        .map(str::to_string)
        .collect()
}

/// Words of one query segment (jieba default mode; a query matches when every word
/// occurs in the name).
pub(crate) fn query_words(segment: &str) -> Vec<String> {
    JIEBA.cut(segment, true).into_iter().map(|t| t.word).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// Anchored bigram tokens: `^c0`, `c0c1`, …, `cn$` (one token per position).
pub(crate) fn gram_tokens(norm: &str) -> Vec<String> {
    let chars: Vec<char> = norm.chars().collect();
    let Some((&first, &last)) = chars.first().zip(chars.last()) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(chars.len() + 1);
    out.push(format!("{START}{first}"));
    for pair in chars.windows(2) {
        out.push(format!("{}{}", pair[0], pair[1]));
    }
    out.push(format!("{last}{END}"));
    out
}

/// Bigrams of a string (no anchors), in order.
pub(crate) fn bigrams(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.windows(2).map(|p| format!("{}{}", p[0], p[1])).collect()
}

/// Distinct characters of a string.
pub(crate) fn unigram_tokens(norm: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    norm.chars().filter(|c| seen.insert(*c)).map(String::from).collect()
}

fn plain(p: pinyin::Pinyin) -> String {
    p.plain().replace('ü', "v")
}

/// Syllables of a normalised string: one entry per character; `None` for characters
/// without a reading (kept as they are by callers).
fn syllables(norm: &str) -> Vec<(char, Option<String>)> {
    let chars: Vec<char> = norm.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    'outer: while i < chars.len() {
        if i + 1 < chars.len() {
            for (phrase, readings) in PHRASE_READINGS {
                let mut pc = phrase.chars();
                if pc.next() == Some(chars[i]) && pc.next() == Some(chars[i + 1]) {
                    out.push((chars[i], Some(readings[0].to_string())));
                    out.push((chars[i + 1], Some(readings[1].to_string())));
                    i += 2;
                    continue 'outer;
                }
            }
        }
        let c = chars[i];
        out.push((c, c.to_pinyin().map(plain)));
        i += 1;
    }
    out
}

/// Pinyin initials and full pinyin of a Chinese string (non-Chinese letters and digits
/// kept, lower-cased; spaces and punctuation dropped, full-width forms folded), e.g.
/// `"北京中建"` → `("bjzj", "beijingzhongjian")`.
pub fn pinyin_forms(s: &str) -> (String, String) {
    let norm = normalize_name(s);
    let mut initials = String::new();
    let mut full = String::new();
    for (c, syl) in syllables(&norm) {
        match syl {
            Some(syl) => {
                initials.extend(syl.chars().next());
                full.push_str(&syl);
            }
            None => {
                initials.push(c);
                full.push(c);
            }
        }
    }
    (initials, full)
}

/// Syllable-boundary prefixes of the full pinyin of a normalised name, over its first
/// `max_syllables` syllables; after each completed prefix also the prefix plus the next
/// syllable's initial letter (and its `zh`/`ch`/`sh` initial). For 北京: `b`, `bei`,
/// `beij`, `beijing`.
pub(crate) fn full_pinyin_edges(norm: &str, max_syllables: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut acc = String::new();
    for (n, (_, syl)) in syllables(norm).into_iter().enumerate() {
        if n >= max_syllables {
            break;
        }
        let Some(syl) = syl else { break };
        for short in syllable_initial_forms(&syl) {
            out.push(format!("{acc}{short}"));
        }
        acc.push_str(&syl);
        out.push(acc.clone());
    }
    out.sort();
    out.dedup();
    out
}

/// Proper prefixes of a syllable a user may type as an unfinished syllable: its first
/// letter and, for `zh`/`ch`/`sh`, that two-letter initial.
fn syllable_initial_forms(syl: &str) -> Vec<&str> {
    let mut v = Vec::new();
    if syl.len() > 1 {
        v.push(&syl[..1]);
    }
    if syl.len() > 2 && ["zh", "ch", "sh"].contains(&&syl[..2]) {
        v.push(&syl[..2]);
    }
    v
}

/// Pinyin initials and full pinyin of each jieba word of a normalised name that has
/// Chinese characters (for `hw` / `huawei` finding 北京华为…).
pub(crate) fn word_pinyin_terms(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        if w.chars().count() < 2 || !w.chars().any(|c| c.to_pinyin().is_some()) {
            continue;
        }
        let (ini, full) = pinyin_forms(w);
        out.push(ini);
        out.push(full);
    }
    out.sort();
    out.dedup();
    out
}

/// Every toneless syllable the pinyin tables know (default readings of the CJK blocks).
static SYLLABLES: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut set = HashSet::new();
    for cp in (0x3400u32..=0x4DBF).chain(0x4E00..=0x9FFF) {
        if let Some(p) = char::from_u32(cp).and_then(|c| c.to_pinyin()) {
            set.insert(plain(p));
        }
    }
    for (_, readings) in PHRASE_READINGS {
        set.extend(readings.iter().map(|r| r.to_string()));
    }
    set
});

static SYLLABLE_PREFIXES: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut set = HashSet::new();
    for s in SYLLABLES.iter() {
        for end in 1..s.len() {
            set.insert(s[..end].to_string());
        }
    }
    set
});

/// A full-pinyin reading of an ASCII-letter query: its complete syllables and an
/// unfinished last syllable (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PinyinReading {
    pub syllables: Vec<String>,
    pub partial: String,
}

/// Splits lower-case ASCII letters into pinyin syllables (longest first, backtracking),
/// allowing an unfinished last syllable. `None` when no split exists.
pub(crate) fn segment_pinyin(q: &str) -> Option<PinyinReading> {
    if q.is_empty() || q.len() > MAX_QUERY_CHARS || !q.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let mut path = Vec::new();
    split(q, &mut path).map(|partial| PinyinReading { syllables: path, partial })
}

fn split(rest: &str, path: &mut Vec<String>) -> Option<String> {
    if rest.is_empty() {
        return Some(String::new());
    }
    for end in (1..=rest.len().min(6)).rev() {
        let head = &rest[..end];
        if SYLLABLES.contains(head) {
            path.push(head.to_string());
            if let Some(p) = split(&rest[end..], path) {
                return Some(p);
            }
            path.pop();
        }
    }
    // An unfinished syllable is only allowed at the very end.
    if SYLLABLE_PREFIXES.contains(rest) {
        return Some(rest.to_string());
    }
    None
}

/// The indexed edge form of an unfinished syllable: itself when it is an initial form
/// (`z`, `zh`), otherwise its initial (`zho` → `zh`, `bei` stays complete elsewhere).
pub(crate) fn partial_edge_form(partial: &str) -> &str {
    if partial.len() >= 2 && ["zh", "ch", "sh"].contains(&&partial[..2]) {
        &partial[..2]
    } else {
        &partial[..partial.len().min(1)]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(pinyin_forms("北京中建"), ("bjzj".to_string(), "beijingzhongjian".to_string()));
        assert_eq!(pinyin_forms("重庆ＡＢ银行").0, "cqabyh");
        assert_eq!(pinyin_forms("绿地").1, "lvdi");
        assert_eq!(normalize_name(" 华为（北京） Ltd. "), "华为北京ltd");
    }

    #[test]
    fn grams() {
        assert_eq!(gram_tokens("华为"), vec!["^华", "华为", "为$"]);
        assert_eq!(gram_tokens("华"), vec!["^华", "华$"]);
        assert!(gram_tokens("").is_empty());
        assert_eq!(full_pinyin_edges("北京中", 2), vec!["b", "bei", "beij", "beijing"]);
    }

    #[test]
    fn segmentation() {
        let r = segment_pinyin("beijingzh").unwrap();
        assert_eq!(r.syllables, vec!["bei", "jing"]);
        assert_eq!(r.partial, "zh");
        assert_eq!(segment_pinyin("huawei").unwrap().syllables, vec!["hua", "wei"]);
        assert!(segment_pinyin("bjzj").is_none());
        assert_eq!(partial_edge_form("zho"), "zh");
        assert_eq!(partial_edge_form("ji"), "j");
    }
}
