//! Finding a mutation in trial texts: word-boundary aware patterns per kind of alteration (`L858R` does
//! not match inside `L858RX`, nor `G12C` inside `G12CD`), the sentence around a mention, and the
//! negations that turn a mention into exclusion evidence (`without EGFR L858R`, `L858R-negative`,
//! `EGFR wild-type`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use regex::Regex;

use crate::mutation::parse::{Alteration, ExonEvent, Mutation, one_to_three};

/// The longest evidence sentence; longer ones are cut to a window around the mention.
const MAX_SENTENCE_CHARS: usize = 300;
const WINDOW_CHARS: usize = 140;

/// Words in capitals that are not gene symbols (for the "another gene names this change" check).
const NOT_GENES: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "NO",
    "WITH",
    "THE",
    "OF",
    "IN",
    "ON",
    "FOR",
    "TO",
    "AS",
    "IS",
    "ARE",
    "BE",
    "BY",
    "ANY",
    "HAVE",
    "HAS",
    "HAD",
    "INCLUDING",
    "SUCH",
    "EITHER",
    "POSITIVE",
    "MUTATION",
    "MUTATIONS",
    "MUTANT",
    "MUTATED",
    "EXON",
    "DELETION",
    "INSERTION",
    "TKI",
    "TKIS",
    "NSCLC",
    "SCLC",
    "CRC",
    "AML",
    "CML",
    "CLL",
    "PCR",
    "NGS",
    "DNA",
    "RNA",
    "CTDNA",
    "IHC",
    "FISH",
    "ISH",
    "TISSUE",
    "PLASMA",
    "SOMATIC",
    "GERMLINE",
    "ACTIVATING",
    "SENSITIZING",
    "DOCUMENTED",
    "CONFIRMED",
    "KNOWN",
    "II",
    "III",
    "IV",
    "ALLOWED",
    "ONLY",
    "OTHER",
    "THAN",
];

/// Words before a full stop that do not end a sentence (single letters such as `p.`, `e.g.` never do).
const ABBREVIATIONS: &[&str] =
    &["vs", "dr", "mr", "mrs", "ms", "approx", "etc", "al", "fig", "no", "st", "incl", "ca", "cf", "resp"];

/// Compiles `pattern` with ASCII word boundaries: Unicode ones are costly to build and make the regex
/// engine fall back to its slow paths on non-ASCII text (criteria are full of `≥`, `µ`, `–`).
fn ascii_regex(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)"))
}

#[allow(clippy::expect_used)] // constant patterns, checked by the tests
fn regex(pattern: &str) -> Regex {
    ascii_regex(pattern).expect("valid constant regex")
}

/// Compiled matchers by mutation, so that repeated calls (a warm cache, a batch) do not rebuild them.
static MATCHERS: LazyLock<Mutex<HashMap<String, Arc<Matcher>>>> = LazyLock::new(Mutex::default);
const MAX_CACHED_MATCHERS: usize = 256;

/// The matcher of `m`, built once per process (up to a few hundred distinct mutations).
pub(crate) fn matcher_for(m: &Mutation) -> Result<Arc<Matcher>, regex::Error> {
    let key = format!("{}|{:?}", m.gene, m.alteration);
    if let Some(found) = MATCHERS.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return Ok(Arc::clone(found));
    }
    let built = Arc::new(Matcher::new(m)?);
    let mut cache = MATCHERS.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= MAX_CACHED_MATCHERS {
        cache.clear();
    }
    cache.insert(key, Arc::clone(&built));
    Ok(built)
}

/// A negation ending right before a mention: `without (the) (EGFR) `, `other than `, `non-`.
static PRE_NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:without|lack(?:ing|s)?|absence\s+of|absent|free\s+of|other\s+than|except(?:\s+for)?|excluding|no|non|negative\s+for|not\s+(?:have|having|harbou?r|harbou?ring|carry|carrying|with)|(?:do|does|must|should)\s+not\s+(?:have|harbou?r|carry|be\s+positive\s+for))\b(?:[\s,:;(/\-]+(?:an?|the|any|known|documented|activating|sensiti[sz]ing|common|classic(?:al)?|following|confirmed|detectable|evidence\s+of|presence\s+of|(?-i:[A-Z][A-Z0-9]{1,9}(?:-[A-Z0-9]{1,5})?)|mutations?|alterations?|variants?|p\.))*[\s,:;(/\-]*$",
    )
});

/// A negation right after a mention: `-negative`, ` mutation negative`, ` are excluded`, ` not allowed`.
static POST_NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^[\s\-)]*(?:(?:mutations?|mutation[\s-]status|variants?|status)[\s-]*)?(?:(?:is|are|was|were|must\s+be|should\s+be|will\s+be)\s+)?(?:negative|not\s+(?:detected|allowed|permitted|eligible|present)|excluded|ineligible|wild[\s-]?type|absent)\b",
    )
});

/// One place a text names the alteration (or says the gene is wild-type or negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// The sentence (or a window of it) around the mention.
    pub(crate) sentence: String,
    /// Whether the mention is negated (`without EGFR L858R`, `EGFR wild-type`).
    pub(crate) negated: bool,
}

/// Finds one mutation in texts.
#[derive(Debug)]
pub(crate) struct Matcher {
    mention: Regex,
    /// Whether `mention` includes the gene itself (fusions, amplifications).
    gene_in_pattern: bool,
    gene_negative: Regex,
    gene: Regex,
    /// The gene and its aliases, upper case.
    own: Vec<String>,
}

/// An alternation of the gene's names: short all-letter symbols (`MET`, `KIT`, `ALK`) match only in
/// capitals, so that English words (`met`, `kit`) do not count; others in any case.
fn gene_alternation(m: &Mutation) -> String {
    std::iter::once(&m.gene)
        .chain(m.gene_aliases.iter())
        .map(|name| {
            let escaped = regex::escape(name);
            if name.len() <= 4 && name.chars().all(|c| c.is_ascii_alphabetic()) {
                format!("(?-i:{escaped})")
            } else {
                format!("(?i:{escaped})")
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn protein_pattern(one: &str, three: &str) -> String {
    format!(r"(?i)\b(?:{}|{})(?:[^A-Za-z0-9]|$)", regex::escape(one), regex::escape(three))
}

impl Matcher {
    /// Builds the patterns of `m`.
    pub(crate) fn new(m: &Mutation) -> Result<Self, regex::Error> {
        let g = gene_alternation(m);
        let (mention, gene_in_pattern) = match &m.alteration {
            Alteration::Substitution { reference, position, alternate } => {
                let r3 = one_to_three(*reference).unwrap_or("Xaa");
                let alt = if *alternate == '*' {
                    r"(?:\*|X\b|Ter\b)".to_owned()
                } else {
                    let a3 = one_to_three(*alternate).unwrap_or("Xaa");
                    format!(r"(?:{alternate}|{a3})\b")
                };
                (format!(r"(?i)\b(?:{reference}|{r3}){position}{alt}"), false)
            }
            Alteration::ProteinIndel { notation, three_letter } => {
                (protein_pattern(notation, three_letter), false)
            }
            Alteration::CodingDna { change } => {
                let bare = regex::escape(change.trim_start_matches("c."));
                (format!(r"(?i)(?:\bc\.)?\b{bare}\b"), false)
            }
            Alteration::Exon { exon: n, event } => {
                let ex = format!(r"ex(?:on)?[\s-]?{n}");
                let pattern = match event {
                    ExonEvent::Deletion => format!(
                        r"(?i)\b(?:{ex}[\s-]?(?:in[\s-]?frame[\s-]?)?del(?:etion)?s?|del(?:etion)?s?[\s-]?(?:(?:in|of|within)[\s-])?(?:ex(?:on)?[\s-]?)?{n}|{n}[\s-]?del(?:etion)?s?)\b"
                    ),
                    ExonEvent::Insertion => format!(
                        r"(?i)\b(?:{ex}[\s-]?(?:in[\s-]?frame[\s-]?)?ins(?:ertion)?s?|ins(?:ertion)?s?[\s-]?(?:(?:in|of|within)[\s-])?(?:ex(?:on)?[\s-]?)?{n}|{n}[\s-]?ins(?:ertion)?s?)\b"
                    ),
                    ExonEvent::Skipping => format!(
                        r"(?i)\b(?:{ex}[\s-]?skip(?:ping|ped)?|(?:{g})[\s-]?(?:ex|exon|delta[\s-]?ex)[\s-]?{n})\b"
                    ),
                    ExonEvent::Mutation => format!(
                        r"(?i)\b(?:{ex}[\s-]?(?:mutations?|mutated|alterations?|variants?)|(?:mutations?|alterations?)\s+(?:in|of)\s+exon[\s-]?{n})\b"
                    ),
                };
                (pattern, false)
            }
            Alteration::Fusion { .. } => (
                format!(
                    r"(?i)\b(?:{g})(?:[\s-]+gene)?(?:[\s-]+(?:fusions?|rearrange(?:ment|ments|d)|translocations?|translocated|positive|fusion[\s-]positive|rearrangement[\s-]positive)\b|\+)|\b(?:rearranged|translocated)\s+(?:{g})\b|(?-i:\b[A-Z][A-Z0-9]{{1,9}})(?:-|::)(?:{g})\b"
                ),
                true,
            ),
            Alteration::Amplification => {
                let mut pattern = format!(
                    r"(?i)\b(?:{g})(?:[\s-]+gene)?[\s-]+(?:amplifications?|amplified|amp)\b|\bamplified\s+(?:{g})\b|\b(?:{g})[\s-]+copy[\s-]number[\s-]+(?:gain|amplification)"
                );
                if m.gene == "ERBB2" {
                    pattern.push_str(&format!(
                        r"|\b(?:{g})(?:[\s-]+(?:positive|overexpress(?:ing|ion|ed))\b|\+)"
                    ));
                }
                (pattern, true)
            }
        };
        let negative_words = if matches!(m.alteration, Alteration::Amplification) {
            r"(?:negative|non[\s-]?amplified|not\s+amplified)\b"
        } else {
            r"(?:wild[\s-]?type|wt\b|negative\b|non[\s-]?mutated|unmutated|mutation[\s-]negative)"
        };
        let gene_negative = format!(
            r"(?i)\b(?:{g})(?:[\s-]+(?:gene|mutation|mutational|status|sensiti[sz]ing|activating))*[\s-]*{negative_words}|\b(?:wild[\s-]?type|negative\s+for|non[\s-]?mutated)\s+(?:{g})\b"
        );
        Ok(Self {
            mention: ascii_regex(&mention)?,
            gene_in_pattern,
            gene_negative: ascii_regex(&gene_negative)?,
            gene: ascii_regex(&format!(r"(?i)\b(?:{g})\b"))?,
            own: std::iter::once(&m.gene)
                .chain(m.gene_aliases.iter())
                .map(|s| s.to_ascii_uppercase())
                .collect(),
        })
    }

    /// The first positive mention of the alteration in `text`, else the first negated one.
    pub(crate) fn find(&self, text: &str) -> Option<Hit> {
        let mut negated_hit = None;
        for m in self.mention.find_iter(text) {
            if !self.gene_in_pattern && self.other_gene_before(text, m.start()) {
                continue;
            }
            let negated = negated(text, m.start(), m.end());
            let sentence = sentence_around(text, m.start(), m.end());
            if !negated {
                return Some(Hit { sentence, negated: false });
            }
            negated_hit.get_or_insert(Hit { sentence, negated: true });
        }
        negated_hit
    }

    /// A statement that the gene is wild-type or negative (`EGFR wild-type`, `ALK-negative`).
    pub(crate) fn find_gene_negative(&self, text: &str) -> Option<Hit> {
        let m = self.gene_negative.find(text)?;
        Some(Hit { sentence: sentence_around(text, m.start(), m.end()), negated: true })
    }

    /// Whether another gene's symbol directly precedes a mention (`NRAS G12C` for KRAS G12C), without
    /// this gene nearby (`EGFR or HER2 exon 20 insertion` still counts for EGFR).
    fn other_gene_before(&self, text: &str, start: usize) -> bool {
        let before = &text[..start];
        let trim = |s: &str| -> usize {
            s.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '(' | '-' | '\'' | '"')).len()
        };
        let mut end = trim(before);
        if before[..end].ends_with("p.") {
            end = trim(&before[..end - 2]);
        }
        let before = &before[..end];
        let token_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let token = before[token_start..].trim_matches('-');
        let gene_like = (2..=12).contains(&token.len())
            && token.starts_with(|c: char| c.is_ascii_uppercase())
            && token.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
            && !NOT_GENES.contains(&token)
            && !self.own.iter().any(|own| own == token);
        if !gene_like {
            return false;
        }
        let near_start = floor_char_boundary(before, before.len().saturating_sub(40));
        !self.gene.is_match(&before[near_start..])
    }
}

/// The largest char boundary of `s` at or below `index`.
fn floor_char_boundary(s: &str, index: usize) -> usize {
    let mut i = index.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The largest char boundary of `s` at or above `index`.
fn ceil_char_boundary(s: &str, index: usize) -> usize {
    let mut i = index.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Whether the mention at `start..end` is negated by the words just before or just after it.
fn negated(text: &str, start: usize, end: usize) -> bool {
    let before = &text[..start];
    let before = before.strip_suffix("p.(").or_else(|| before.strip_suffix("p.")).unwrap_or(before);
    let clause_start = before.rfind(['.', ';', '\n']).map_or(0, |i| i + 1);
    let clause = &before[clause_start..];
    let window_start = clause.char_indices().rev().nth(79).map_or(0, |(i, _)| i);
    if PRE_NEGATION.is_match(&clause[window_start..]) {
        return true;
    }
    let after = &text[end..];
    let clause_end = after.find(['.', ';', '\n', ',']).unwrap_or(after.len());
    let after = &after[..clause_end];
    let window_end = after.char_indices().nth(60).map_or(after.len(), |(i, _)| i);
    POST_NEGATION.is_match(&after[..window_end])
}

/// The sentence holding `start..end`, whitespace collapsed; a long one is cut to a window around it.
pub(crate) fn sentence_around(text: &str, start: usize, end: usize) -> String {
    let (s, e) = sentence_bounds(text, start);
    let (mut from, mut to) = (s, e.max(end.min(text.len())));
    let mut prefix = "";
    let mut suffix = "";
    if text[from..to].chars().count() > MAX_SENTENCE_CHARS {
        let lo = text[from..start].char_indices().rev().nth(WINDOW_CHARS).map_or(from, |(i, _)| from + i);
        let hi = text[end..to].char_indices().nth(WINDOW_CHARS).map_or(to, |(i, _)| end + i);
        // Cut at word boundaries.
        let lo = if lo > from { text[lo..start].find(' ').map_or(lo, |i| lo + i + 1) } else { lo };
        let hi = if hi < to { text[end..hi].rfind(' ').map_or(hi, |i| end + i) } else { hi };
        if lo > from {
            prefix = "…";
        }
        if hi < to {
            suffix = "…";
        }
        from = lo;
        to = ceil_char_boundary(text, hi);
    }
    let body: String = text[from..to].split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{prefix}{body}{suffix}")
}

/// The byte range of the sentence of `text` that holds `at`: sentences end at a line break, or at
/// `.`/`!`/`?` followed by a space and a capital or a digit (`p.`, `e.g.`, `vs.` do not end one).
fn sentence_bounds(text: &str, at: usize) -> (usize, usize) {
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let boundary_end = pos + c.len_utf8();
        let next_start = if c == '\n' {
            Some(boundary_end)
        } else if matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_some_and(|(_, n)| n.is_whitespace()) {
            let mut j = i + 1;
            while j < chars.len() && chars[j].1.is_whitespace() {
                j += 1;
            }
            let mut word: Vec<char> =
                chars[..i].iter().rev().take_while(|(_, c)| c.is_alphanumeric()).map(|(_, c)| *c).collect();
            word.reverse();
            let word: String = word.into_iter().collect();
            let abbreviation =
                word.chars().count() == 1 || ABBREVIATIONS.contains(&word.to_lowercase().as_str());
            let starts_sentence = chars.get(j).is_some_and(|(_, n)| n.is_uppercase() || n.is_ascii_digit());
            (starts_sentence && (c != '.' || !abbreviation))
                .then(|| chars.get(j).map_or(text.len(), |(p, _)| *p))
        } else {
            None
        };
        if let Some(next) = next_start {
            if next > at {
                return (start, boundary_end.min(text.len()));
            }
            start = next;
        }
        i += 1;
    }
    (start, text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutation::parse::parse_mutation;

    fn matcher(mutation: &str) -> Matcher {
        let m = parse_mutation(mutation).unwrap_or_else(|err| panic!("{mutation}: {err}"));
        Matcher::new(&m).unwrap_or_else(|err| panic!("{mutation}: {err}"))
    }

    /// `expected`: `-` for no mention, `+ sentence` for a positive one, `! sentence` for a negated one.
    fn check(mutation: &str, text: &str, expected: &str) {
        let got = match matcher(mutation).find(text) {
            None => "-".to_owned(),
            Some(hit) => format!("{} {}", if hit.negated { "!" } else { "+" }, hit.sentence),
        };
        assert_eq!(got, expected, "{mutation} in {text:?}");
    }

    #[test]
    fn mentions_respect_word_boundaries() {
        check("EGFR L858R", "EGFR L858R", "+ EGFR L858R");
        check("EGFR L858R", "harbouring p.Leu858Arg", "+ harbouring p.Leu858Arg");
        check("EGFR L858R", "L858R/T790M double mutants", "+ L858R/T790M double mutants");
        check("EGFR L858R", "the L858RX construct", "-");
        check("EGFR L858R", "AL858R", "-");
        check("KRAS G12C", "KRAS G12CD", "-");
        check("KRAS G12C", "KRAS G12D or G12V", "-");
        check("KRAS G12C", "KRAS G12C-mutant NSCLC", "+ KRAS G12C-mutant NSCLC");
        check("TP53 R213*", "TP53 R213* truncation", "+ TP53 R213* truncation");
        check("TP53 R213*", "TP53 p.Arg213Ter", "+ TP53 p.Arg213Ter");
        check("TP53 R213*", "TP53 R213Q", "-");
        check("EGFR c.2573T>G", "c.2573T>G (p.L858R)", "+ c.2573T>G (p.L858R)");
        check("EGFR E746_A750del", "p.E746_A750del", "+ p.E746_A750del");
    }

    #[test]
    fn another_gene_before_a_bare_change_does_not_count() {
        check("KRAS G12C", "NRAS G12C", "-");
        check("KRAS G12C", "NRAS or KRAS G12C", "+ NRAS or KRAS G12C");
        check("KRAS G12C", "with a G12C mutation", "+ with a G12C mutation");
        check("EGFR exon 20 insertion", "HER2 exon 20 insertion", "-");
        check(
            "EGFR exon 20 insertion",
            "EGFR or HER2 exon 20 insertions",
            "+ EGFR or HER2 exon 20 insertions",
        );
        check("ERBB2 exon 20 insertion", "HER2 exon 20 insertion", "+ HER2 exon 20 insertion");
    }

    #[test]
    fn exon_fusion_and_amplification_wordings() {
        for text in [
            "exon 19 deletion",
            "Exon 19 del",
            "ex19del",
            "del19",
            "19del",
            "19DEL",
            "deletions in exon 19",
            "exon 19 in-frame deletions",
        ] {
            check("EGFR exon 19 deletion", text, &format!("+ {text}"));
        }
        check("EGFR exon 19 deletion", "1p/19q co-deletion", "-");
        check("EGFR exon 19 deletion", "exon 19 or 21", "-");
        check("EGFR exon 20 insertion", "EGFR ex20ins", "+ EGFR ex20ins");
        check("MET exon 14 skipping", "METex14 alterations", "+ METex14 alterations");
        check("MET exon 14 skipping", "MET exon 14 skipping mutation", "+ MET exon 14 skipping mutation");
        for text in [
            "ALK fusion",
            "ALK-rearranged NSCLC",
            "ALK-positive",
            "ALK+",
            "EML4-ALK",
            "rearranged ALK",
            "ALK gene rearrangement",
        ] {
            check("ALK fusion", text, &format!("+ {text}"));
        }
        check("ALK fusion", "prior ALK-TKI therapy", "-");
        check("ALK fusion", "anti-ALK antibodies", "-");
        for text in ["HER2-positive", "HER2 amplification", "ERBB2-amplified", "amplified HER2", "HER2+"] {
            check("ERBB2 amplification", text, &format!("+ {text}"));
        }
        check("MET amplification", "patients who met the criteria for amplification", "-");
        check("MET amplification", "MET amplification", "+ MET amplification");
    }

    #[test]
    fn negations_turn_mentions_into_exclusions() {
        check("EGFR L858R", "Patients without EGFR L858R", "! Patients without EGFR L858R");
        check("EGFR L858R", "EGFR mutations other than L858R", "! EGFR mutations other than L858R");
        check("EGFR L858R", "no known EGFR p.L858R", "! no known EGFR p.L858R");
        check("EGFR L858R", "non-L858R EGFR mutations", "! non-L858R EGFR mutations");
        check("EGFR L858R", "L858R-negative tumours", "! L858R-negative tumours");
        check("EGFR L858R", "L858R mutations are not eligible", "! L858R mutations are not eligible");
        check("EGFR L858R", "No prior TKI. EGFR L858R required", "+ EGFR L858R required");
        check("EGFR L858R", "L858R and T790M negative", "+ L858R and T790M negative");
        check(
            "EGFR L858R",
            "without T790M; L858R or exon 19 deletion",
            "+ without T790M; L858R or exon 19 deletion",
        );
        check("EGFR L858R", "Without L858R. With L858R.", "+ With L858R.");
        let m = matcher("EGFR L858R");
        let hit = m.find_gene_negative("Patients with EGFR wild-type NSCLC; ECOG 0-1").map(|h| h.sentence);
        assert_eq!(hit.as_deref(), Some("Patients with EGFR wild-type NSCLC; ECOG 0-1"));
        assert!(m.find_gene_negative("EGFR sensitive mutations were negative").is_none());
        assert!(m.find_gene_negative("EGFR-TKI naive").is_none());
        let alk = matcher("ALK fusion");
        assert!(alk.find_gene_negative("ALK-negative tumours").is_some());
        let her2 = matcher("ERBB2 amplification");
        assert!(her2.find_gene_negative("HER2-negative breast cancer").is_some());
        assert!(her2.find_gene_negative("HER2 wild-type").is_none(), "wild-type says nothing of copy number");
    }

    #[test]
    fn sentences_are_found_and_long_ones_cut() {
        let text = "First sentence here. Second one has EGFR L858R in it. Third.";
        check("EGFR L858R", text, "+ Second one has EGFR L858R in it.");
        check("EGFR L858R", "Mutations (e.g. EGFR L858R) allowed.", "+ Mutations (e.g. EGFR L858R) allowed.");
        let long = format!("{} EGFR L858R {}", "word ".repeat(100), "more ".repeat(100));
        let got = matcher("EGFR L858R").find(&long).map(|h| h.sentence).unwrap_or_default();
        assert!(got.starts_with('…') && got.ends_with('…') && got.contains("EGFR L858R"), "{got}");
        assert!(got.chars().count() <= 2 * WINDOW_CHARS + 20, "{}", got.len());
        // Multi-byte text around the mention never splits a character.
        let wide = format!("{} EGFR L858R {}", "é≥".repeat(200), "≤ü".repeat(200));
        assert!(matcher("EGFR L858R").find(&wide).is_some());
    }

    #[test]
    fn awkward_texts_never_panic() {
        let texts = [
            "",
            " ",
            "\\",
            "p.",
            "p.(",
            ".",
            "...",
            "\n\n",
            "≥≤µ–—é",
            "EGFR",
            "EGFR p.",
            "without",
            "L858R",
            "é L858R é",
            "…L858R…",
            "L858R.",
            ".L858R",
            "(L858R)",
            "p.(L858R",
            "NRAS-G12C",
            "ALK+",
            "+ALK",
            "EGFR wild-type",
            "wild-type",
            "exon 19",
            "del",
            "19",
            "c.2573T>G.",
            "EML4-ALK-",
            "-ALK",
        ];
        let mutations = [
            "EGFR L858R",
            "KRAS G12C",
            "TP53 R213*",
            "EGFR E746_A750del",
            "EGFR c.2573T>G",
            "EGFR exon 19 deletion",
            "EGFR exon 20 insertion",
            "MET exon 14 skipping",
            "EGFR exon 18 mutation",
            "ALK fusion",
            "EML4-ALK",
            "ERBB2 amplification",
        ];
        for mutation in mutations {
            let m = matcher(mutation);
            for a in texts {
                for b in texts {
                    let text = format!("{a}{b} {a}");
                    let _ = m.find(&text);
                    let _ = m.find_gene_negative(&text);
                    let _ = crate::trials::criteria_split_for_tests(&text);
                }
            }
        }
    }
}
