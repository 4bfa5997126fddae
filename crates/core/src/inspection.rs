//! Double-random inspections, published (双随机、一公开): the draw of targets from a
//! population and of inspectors from a roster, reproducible by anyone who has the
//! plan's published data.
//!
//! The algorithm (`xinyong-draw/1`), all hashes SHA-256 over UTF-8:
//! 1. **Commitments.** The population (code, division, grade per line, sorted) and the
//!    roster (id, division, conflicts, past employers per line, sorted) are hashed
//!    ([`population_hash`], [`roster_hash`]) and the hashes written to the ledger before
//!    the draw.
//! 2. **Seed** = H("xinyong-draw/1" ‖ plan id ‖ the signed ledger head named by the draw),
//!    a head signed after the commitments.
//! 3. **Targets.** Per grade (`*` for subjects without one), `k = ⌊n × ratio‰ / 1000 + ½⌋`
//!    of the `n` subjects: those whose H(seed ‖ "target" ‖ code) is smallest.
//! 4. **Inspectors.** Per target, among the inspectors not recused — not of the target's
//!    division, no declared conflict with it, never employed by it — the
//!    `inspectors_per_target` whose H(seed ‖ "inspector" ‖ code ‖ id) is smallest. A
//!    target with too few eligible inspectors is drawn *short*.
//!
//! Parts are joined with a 0 byte. [`draw`] is pure; [`Draw::digest`] is what the
//! ledger records, so a replay compares one hash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The algorithm's name and version, recorded with every draw.
pub const ALGORITHM: &str = "xinyong-draw/1";

/// A subject that may be drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub code: String,
    /// The 6-digit division (区划) of the subject.
    pub division: String,
    /// Its grade by the plan's model (letter), if graded.
    pub grade: Option<String>,
}

/// An inspector of the roster (执法检查人员名录库).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inspector {
    pub id: String,
    pub name: String,
    /// The division the inspector works in: never drawn for a subject of it.
    pub division: String,
    /// Subjects the inspector declared a conflict of interest with.
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// Subjects the inspector worked for.
    #[serde(default)]
    pub past_employers: Vec<String>,
}

impl Inspector {
    /// Why the inspector may not inspect `c`, if not.
    pub fn recusal(&self, c: &Candidate) -> Option<&'static str> {
        if self.division == c.division {
            Some("same_division")
        } else if self.conflicts.iter().any(|x| x == &c.code) {
            Some("declared_conflict")
        } else if self.past_employers.iter().any(|x| x == &c.code) {
            Some("past_employment")
        } else {
            None
        }
    }
}

/// How many to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawRules {
    /// Grade letter (or `*` for the ungraded and any grade not named) → per mille drawn.
    pub ratios_permille: BTreeMap<String, u32>,
    /// At least 2 (两人以上).
    pub inspectors_per_target: u32,
}

/// A target drawn, with its inspectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drawn {
    pub code: String,
    pub grade: Option<String>,
    pub inspectors: Vec<String>,
    /// Fewer eligible inspectors than the rule asks for.
    pub short: bool,
}

/// Per grade: how many there were and how many were drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupCount {
    pub grade: String,
    pub ratio_permille: u32,
    pub population: u64,
    pub drawn: u64,
}

/// The outcome of a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Draw {
    pub algorithm: String,
    /// The seed, hex.
    pub seed: String,
    /// In code order.
    pub targets: Vec<Drawn>,
    pub groups: Vec<GroupCount>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            d.update([0u8]);
        }
        d.update(p);
    }
    d.finalize().into()
}

/// The seed of a plan's draw from the signed ledger head it names (its checkpoint text).
pub fn seed(plan_id: &str, head_checkpoint: &str) -> [u8; 32] {
    h(&[ALGORITHM.as_bytes(), plan_id.as_bytes(), head_checkpoint.as_bytes()])
}

/// The population's commitment: one line per candidate, sorted.
pub fn population_hash(population: &[Candidate]) -> String {
    let mut lines: Vec<String> = population
        .iter()
        .map(|c| format!("{}\t{}\t{}\n", c.code, c.division, c.grade.as_deref().unwrap_or("*")))
        .collect();
    lines.sort_unstable();
    hex(&Sha256::digest(lines.concat().as_bytes()))
}

/// The roster's commitment: one line per inspector, sorted (lists joined by commas).
pub fn roster_hash(roster: &[Inspector]) -> String {
    let mut lines: Vec<String> = roster
        .iter()
        .map(|i| {
            let mut conflicts = i.conflicts.clone();
            conflicts.sort_unstable();
            let mut past = i.past_employers.clone();
            past.sort_unstable();
            format!("{}\t{}\t{}\t{}\t{}\n", i.id, i.name, i.division, conflicts.join(","), past.join(","))
        })
        .collect();
    lines.sort_unstable();
    hex(&Sha256::digest(lines.concat().as_bytes()))
}

/// What is wrong with a draw's inputs, if anything.
pub fn check_rules(rules: &DrawRules, roster: &[Inspector]) -> Result<(), String> {
    if rules.inspectors_per_target < 2 {
        return Err("每个检查对象至少两名检查人员 / at least two inspectors per target".into());
    }
    if rules.ratios_permille.values().any(|r| *r > 1000) {
        return Err("抽查比例不能超过 1000‰ / a ratio is at most 1000‰".into());
    }
    let mut ids: Vec<&str> = roster.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != roster.len() || roster.iter().any(|i| i.id.trim().is_empty()) {
        return Err("检查人员编号须唯一且不为空 / inspector ids must be unique and not empty".into());
    }
    Ok(())
}

/// Draws targets and their inspectors (see the module's note).
pub fn draw(seed: [u8; 32], population: &[Candidate], roster: &[Inspector], rules: &DrawRules) -> Draw {
    let star = rules.ratios_permille.get("*").copied().unwrap_or(0);
    let mut groups: BTreeMap<String, Vec<&Candidate>> = BTreeMap::new();
    for c in population {
        let g = c.grade.as_deref().filter(|g| rules.ratios_permille.contains_key(*g)).unwrap_or("*");
        groups.entry(g.to_string()).or_default().push(c);
    }
    let mut targets = Vec::new();
    let mut counts = Vec::new();
    for (grade, mut members) in groups {
        let ratio = rules.ratios_permille.get(&grade).copied().unwrap_or(star);
        let n = members.len() as u64;
        let k = ((n * u64::from(ratio) + 500) / 1000).min(n) as usize;
        members.sort_by_cached_key(|c| h(&[&seed, b"target", c.code.as_bytes()]));
        counts.push(GroupCount { grade, ratio_permille: ratio, population: n, drawn: k as u64 });
        for c in members.into_iter().take(k) {
            let mut eligible: Vec<&Inspector> = roster.iter().filter(|i| i.recusal(c).is_none()).collect();
            eligible.sort_by_cached_key(|i| h(&[&seed, b"inspector", c.code.as_bytes(), i.id.as_bytes()]));
            let want = rules.inspectors_per_target as usize;
            let inspectors: Vec<String> = eligible.iter().take(want).map(|i| i.id.clone()).collect();
            targets.push(Drawn {
                code: c.code.clone(),
                grade: c.grade.clone(),
                short: inspectors.len() < want,
                inspectors,
            });
        }
    }
    targets.sort_by(|a, b| a.code.cmp(&b.code));
    Draw { algorithm: ALGORITHM.to_string(), seed: hex(&seed), targets, groups: counts }
}

impl Draw {
    /// The draw's digest: what the ledger records and a replay compares.
    pub fn digest(&self) -> String {
        let mut text = format!("{}\n{}\n", self.algorithm, self.seed);
        for t in &self.targets {
            text.push_str(&format!("{}\t{}\t{}\n", t.code, t.grade.as_deref().unwrap_or("*"), t.inspectors.join(",")));
        }
        hex(&Sha256::digest(text.as_bytes()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn population(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                code: format!("9111010{i:011}"),
                division: ["110101", "110105", "110108"][i % 3].to_string(),
                grade: Some(["A", "B", "C", "D"][i % 4].to_string()),
            })
            .collect()
    }

    fn roster() -> Vec<Inspector> {
        (0..8)
            .map(|i| Inspector {
                id: format!("I{i}"),
                name: format!("检查员{i}"),
                division: ["110101", "110105", "110108", "110102"][i % 4].to_string(),
                conflicts: vec![],
                past_employers: vec![],
            })
            .collect()
    }

    fn rules() -> DrawRules {
        DrawRules {
            ratios_permille: [("A", 50), ("B", 200), ("C", 600), ("D", 1000)]
                .into_iter()
                .map(|(g, r)| (g.to_string(), r))
                .collect(),
            inspectors_per_target: 2,
        }
    }

    #[test]
    fn ratios_recusal_and_two_inspectors_hold() {
        let pop = population(400);
        let mut roster = roster();
        roster[0].conflicts.push(pop[3].code.clone());
        roster[1].past_employers.push(pop[3].code.clone());
        let d = draw(seed("P-1", "head"), &pop, &roster, &rules());
        let drawn = |g: &str| d.groups.iter().find(|x| x.grade == g).unwrap().drawn;
        assert_eq!((drawn("A"), drawn("B"), drawn("C"), drawn("D")), (5, 20, 60, 100));
        for t in &d.targets {
            assert_eq!(t.inspectors.len(), 2, "{t:?}");
            assert!(!t.short);
            let c = pop.iter().find(|c| c.code == t.code).unwrap();
            for id in &t.inspectors {
                let i = roster.iter().find(|i| &i.id == id).unwrap();
                assert_eq!(i.recusal(c), None, "{id} may not inspect {}", c.code);
            }
        }
        // every D subject (1000‰) is drawn
        assert!(
            pop.iter().filter(|c| c.grade.as_deref() == Some("D")).all(|c| d.targets.iter().any(|t| t.code == c.code))
        );
    }

    #[test]
    fn the_draw_is_a_function_of_its_inputs_and_the_seed() {
        let (pop, roster) = (population(120), roster());
        let a = draw(seed("P-1", "head-1"), &pop, &roster, &rules());
        let mut shuffled = pop.clone();
        shuffled.reverse();
        let mut roster_shuffled = roster.clone();
        roster_shuffled.rotate_left(3);
        let b = draw(seed("P-1", "head-1"), &shuffled, &roster_shuffled, &rules());
        assert_eq!(a, b, "input order does not matter");
        assert_eq!(a.digest(), b.digest());
        let c = draw(seed("P-1", "head-2"), &pop, &roster, &rules());
        assert_ne!(a.digest(), c.digest(), "another head, another draw");
        assert_eq!(population_hash(&pop), population_hash(&shuffled));
        assert_eq!(roster_hash(&roster), roster_hash(&roster_shuffled));
        let mut changed = roster.clone();
        changed[2].division = "110199".into();
        assert_ne!(roster_hash(&roster), roster_hash(&changed), "a changed roster changes its commitment");
    }

    #[test]
    fn too_few_eligible_inspectors_is_short() {
        let pop = population(4);
        let roster: Vec<Inspector> = roster().into_iter().filter(|i| i.division == "110101" || i.id == "I1").collect();
        let all =
            DrawRules { ratios_permille: [("*".to_string(), 1000)].into_iter().collect(), inspectors_per_target: 2 };
        let d = draw(seed("P", "h"), &pop, &roster, &all);
        let t = d.targets.iter().find(|t| t.code == pop[0].code).unwrap();
        // pop[0] is of 110101: only I1 (110105) is eligible
        assert_eq!((t.inspectors.clone(), t.short), (vec!["I1".to_string()], true));
        assert!(check_rules(&DrawRules { inspectors_per_target: 1, ..all.clone() }, &roster).is_err());
    }

    /// Over many seeds each subject is drawn about as often as its grade's ratio says:
    /// the count for every subject lies within 5 standard deviations of n × p, and the
    /// mean over a grade within 1 %.
    #[test]
    fn selection_frequencies_match_the_ratios() {
        let pop = population(40);
        let roster = roster();
        let rules = rules();
        let runs = 2000u32;
        let mut hits: BTreeMap<&str, u32> = BTreeMap::new();
        for s in 0..runs {
            let d = draw(seed("P-freq", &s.to_string()), &pop, &roster, &rules);
            for t in &d.targets {
                *hits.entry(pop.iter().find(|c| c.code == t.code).unwrap().code.as_str()).or_default() += 1;
            }
        }
        for (grade, permille) in [("A", 50u32), ("B", 200), ("C", 600), ("D", 1000)] {
            let members: Vec<&Candidate> = pop.iter().filter(|c| c.grade.as_deref() == Some(grade)).collect();
            // the group's k is rounded: the expected share is k / n
            let n = members.len() as u64;
            let k = ((n * u64::from(permille) + 500) / 1000).min(n);
            let p = k as f64 / n as f64;
            let expected = f64::from(runs) * p;
            let sd = (f64::from(runs) * p * (1.0 - p)).sqrt().max(1e-9);
            let mut chi2 = 0.0;
            for c in &members {
                let got = f64::from(hits.get(c.code.as_str()).copied().unwrap_or(0));
                assert!((got - expected).abs() <= 5.0 * sd + 1e-6, "{grade} {}: {got} vs {expected} ± {sd}", c.code);
                if p < 1.0 {
                    chi2 += (got - expected).powi(2) / expected;
                }
            }
            // every member equally likely: χ² of the counts within its bound (df + 5√(2 df))
            let df = (members.len() - 1) as f64;
            assert!(chi2 <= df + 5.0 * (2.0 * df).sqrt(), "{grade}: χ² {chi2} with {df} degrees of freedom");
        }
    }
}
