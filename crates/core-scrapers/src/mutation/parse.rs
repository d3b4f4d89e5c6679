//! Mutation parsing: gene + alteration from the usual ways people write them, and the textual variants
//! used to search trial texts (one- and three-letter amino acids, with and without `p.`, gene-prefixed,
//! exon shorthands such as `del19`, fusion wordings such as `ALK-positive`).

use std::sync::LazyLock;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;

/// The forms `parse_mutation` accepts, quoted in its errors.
pub const ACCEPTED_FORMS: &str = "GENE + protein change (`EGFR L858R`, `EGFR p.L858R`, `EGFR p.Leu858Arg`, \
`L858R EGFR`, `TP53 R213*`, `TP53 Arg213Ter`), GENE + protein indel (`EGFR E746_A750del`, \
`ERBB2 A775_G776insYVMA`), GENE + coding DNA change (`EGFR c.2573T>G`), GENE + exon event \
(`EGFR exon 19 deletion`, `EGFR del19`, `EGFR ex19del`, `EGFR exon 20 insertion`, `MET exon 14 skipping`), \
GENE fusion (`ALK fusion`, `ALK rearrangement`, `ALK-positive`, `EML4-ALK`), GENE amplification \
(`ERBB2 amplification`, `HER2 amplified`)";

/// A parsed mutation: a gene, an alteration, and the ways trial texts write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Mutation {
    /// The text as given.
    pub input: String,
    /// The gene symbol, upper case (`HER2` is read as `ERBB2`).
    pub gene: String,
    /// Other names of the gene found in trial texts, e.g. `HER2` for `ERBB2`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gene_aliases: Vec<String>,
    /// The alteration.
    pub alteration: Alteration,
    /// A canonical label, e.g. `EGFR L858R`, `EGFR exon 19 deletion`, `ALK fusion`.
    pub label: String,
    /// Textual forms of the alteration, as written in trial texts.
    pub variants: Vec<String>,
    /// The subset of `variants` sent to ClinicalTrials.gov (the shorter forms, which the longer contain).
    pub search_terms: Vec<String>,
}

/// What happens to the gene.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alteration {
    /// An amino-acid substitution or a stop gain (`alternate` = `*`), e.g. `L858R`, `R213*`.
    Substitution {
        /// The reference amino acid, one letter.
        reference: char,
        /// The codon.
        position: u32,
        /// The new amino acid, one letter, or `*` for a stop.
        alternate: char,
    },
    /// A protein-level deletion, duplication, insertion or deletion-insertion, e.g. `E746_A750del`.
    ProteinIndel {
        /// One-letter notation, e.g. `E746_A750del`.
        notation: String,
        /// Three-letter notation, e.g. `Glu746_Ala750del`.
        three_letter: String,
    },
    /// A coding DNA substitution, e.g. `c.2573T>G`.
    CodingDna {
        /// The change with its `c.` prefix.
        change: String,
    },
    /// An exon-level event, e.g. exon 19 deletion, exon 14 skipping.
    Exon {
        /// The exon number.
        exon: u32,
        /// What happens in it.
        event: ExonEvent,
    },
    /// A fusion or rearrangement, e.g. `ALK fusion`, `EML4-ALK`.
    Fusion {
        /// The 5' partner when given (`EML4` in `EML4-ALK`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner: Option<String>,
    },
    /// A gene amplification.
    Amplification,
}

/// An event in one exon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExonEvent {
    /// In-frame deletions (e.g. EGFR exon 19).
    Deletion,
    /// Insertions (e.g. EGFR or ERBB2 exon 20).
    Insertion,
    /// Exon skipping (e.g. MET exon 14).
    Skipping,
    /// Any mutation in the exon (e.g. EGFR exon 18 mutation).
    Mutation,
}

impl ExonEvent {
    fn noun(self) -> &'static str {
        match self {
            ExonEvent::Deletion => "deletion",
            ExonEvent::Insertion => "insertion",
            ExonEvent::Skipping => "skipping",
            ExonEvent::Mutation => "mutation",
        }
    }
}

const AMINO_ACIDS: [(char, &str); 22] = [
    ('A', "Ala"),
    ('R', "Arg"),
    ('N', "Asn"),
    ('D', "Asp"),
    ('C', "Cys"),
    ('Q', "Gln"),
    ('E', "Glu"),
    ('G', "Gly"),
    ('H', "His"),
    ('I', "Ile"),
    ('L', "Leu"),
    ('K', "Lys"),
    ('M', "Met"),
    ('F', "Phe"),
    ('P', "Pro"),
    ('S', "Ser"),
    ('T', "Thr"),
    ('W', "Trp"),
    ('Y', "Tyr"),
    ('V', "Val"),
    ('U', "Sec"),
    ('*', "Ter"),
];

/// Canonical gene symbol and the other names trial texts use for it.
const GENE_ALIASES: &[(&str, &[&str])] = &[
    ("EGFR", &["HER1", "ERBB1"]),
    ("ERBB2", &["HER2", "HER-2", "NEU"]),
    ("ERBB3", &["HER3"]),
    ("ERBB4", &["HER4"]),
    ("MET", &["C-MET", "CMET"]),
    ("ROS1", &["ROS"]),
    ("NTRK1", &["TRKA", "TRK-A"]),
    ("NTRK2", &["TRKB", "TRK-B"]),
    ("NTRK3", &["TRKC", "TRK-C"]),
    ("KIT", &["C-KIT", "CD117"]),
    ("KRAS", &["K-RAS", "KI-RAS"]),
    ("NRAS", &["N-RAS"]),
    ("HRAS", &["H-RAS"]),
    ("TP53", &["P53"]),
    ("CDKN2A", &["P16", "P16INK4A"]),
    ("ABL1", &["ABL"]),
    ("KMT2A", &["MLL"]),
];

/// The genes the parser knows other names for: each canonical symbol with its aliases.
pub fn gene_aliases() -> &'static [(&'static str, &'static [&'static str])] {
    GENE_ALIASES
}

/// Words that look like gene symbols but are not.
const NOT_GENES: &[&str] = &[
    "EXON",
    "EX",
    "DEL",
    "INS",
    "DUP",
    "DELETION",
    "DELETIONS",
    "INSERTION",
    "INSERTIONS",
    "FUSION",
    "FUSIONS",
    "AMPLIFICATION",
    "AMPLIFIED",
    "AMP",
    "MUTATION",
    "MUTATIONS",
    "MUTANT",
    "MUTATED",
    "GENE",
    "POSITIVE",
    "REARRANGEMENT",
    "REARRANGED",
    "TRANSLOCATION",
    "SKIPPING",
    "SKIP",
    "AND",
    "OR",
    "WITH",
    "WILD",
    "TYPE",
    "WT",
    "IN",
    "OF",
    "THE",
    "NOT",
    "NEGATIVE",
    "VARIANT",
];

/// `L` → `Leu` (`*` → `Ter`).
pub(crate) fn one_to_three(aa: char) -> Option<&'static str> {
    AMINO_ACIDS.iter().find(|(one, _)| *one == aa).map(|(_, three)| *three)
}

/// `L`, `Leu`, `leu`, `*`, `X`, `Ter` → one-letter code (`*` for a stop).
fn amino_acid(code: &str) -> Option<char> {
    match code.len() {
        1 => {
            let c = code.chars().next()?.to_ascii_uppercase();
            if c == 'X' {
                return Some('*');
            }
            AMINO_ACIDS.iter().find(|(one, _)| *one == c).map(|(one, _)| *one)
        }
        3 => AMINO_ACIDS.iter().find(|(_, three)| three.eq_ignore_ascii_case(code)).map(|(one, _)| *one),
        _ => None,
    }
}

/// A run of amino acids in one- or three-letter codes (`SVD`, `SerValAsp`) → one-letter string.
fn amino_acid_run(run: &str) -> Option<String> {
    if run.is_empty() {
        return Some(String::new());
    }
    if run.len().is_multiple_of(3) && run.is_ascii() {
        let three: Option<String> = (0..run.len()).step_by(3).map(|i| amino_acid(&run[i..i + 3])).collect();
        if let Some(three) = three {
            return Some(three);
        }
    }
    run.chars().map(|c| amino_acid(&c.to_string())).collect()
}

fn three_letter_run(one: &str) -> String {
    one.chars().filter_map(one_to_three).collect()
}

#[allow(clippy::expect_used)] // constant patterns, checked by the tests
fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid constant regex")
}

static SUBSTITUTION: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:p\.)?\(?([A-Za-z]{3}|[A-Za-z])(\d{1,5})([A-Za-z]{3}|[A-Za-z]|\*)\)?$"));
static INDEL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:p\.)?\(?([a-z]{3}|[a-z])(\d{1,5})(?:_([a-z]{3}|[a-z])(\d{1,5}))?(delins|del|dup|ins)([a-z*]*)\)?$",
    )
});
static CDNA: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)^c\.(\d{1,6}(?:[+-]\d{1,4})?)([acgt])>([acgt])$"));
static EXON_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:exon|ex)\s?(\d{1,2})\s?(?:in[\s-]?frame\s)?(del|deletions?|ins|insertions?|skip|skipping|mut|mutations?|alterations?)$",
    )
});
static EXON_SHORT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)^(del|ins)\s?(\d{1,2})$|^(\d{1,2})\s?(del|ins)$"));
static EXON_PHRASE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)^(deletion|insertion)s?\s(?:in|of)\s(?:exon\s?)(\d{1,2})$"));
static FUSION_WORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:gene\s)?(?:fusions?|rearrangements?|rearranged|translocations?|translocated|positive|fusion[\s-]positive|rearrangement[\s-]positive|\+)$",
    )
});
static AMP_WORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^(?:gene\s)?(?:amplifications?|amplified|amp|copy[\s-]number\s(?:gain|amplification))$")
});
static GENE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Z][A-Z0-9]{1,11}(?:-[A-Z0-9]{1,5})?$"));

/// Parses a mutation such as `EGFR L858R`, `L858R EGFR`, `EGFR exon 19 deletion`, `ALK fusion` or
/// `ERBB2 amplification` (see [`ACCEPTED_FORMS`]). Case and extra spaces do not matter.
pub fn parse_mutation(input: &str) -> Result<Mutation, ScrapeError> {
    let text: String = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = text.trim_matches(|c| matches!(c, '"' | '\'' | '`')).trim().to_owned();
    if text.is_empty() {
        return Err(ScrapeError::invalid("mutation", format!("empty; accepted forms: {ACCEPTED_FORMS}")));
    }
    if text.chars().count() > 100 {
        return Err(ScrapeError::invalid("mutation", "longer than 100 characters: give one mutation"));
    }
    // `EGFR:p.L858R`, `EGFR:c.2573T>G`, `EGFR (L858R)`.
    let text = text.replacen(":p.", " p.", 1).replacen(":c.", " c.", 1).replace(['(', ')'], " ");
    let text = text.replace(" p. ", " p.");
    let tokens: Vec<&str> = text.split_whitespace().collect();

    let (gene, alteration) = match tokens.as_slice() {
        [] => return Err(unknown(input)),
        [single] => single_token(input, single)?,
        [first, rest @ ..] => {
            let last = tokens.len() - 1;
            let gene_first = pair(first, &rest.join(" "));
            let gene_last = pair(tokens[last], &tokens[..last].join(" "));
            match (gene_first, gene_last) {
                (Some(a), Some(b)) => {
                    if looks_like_change(&a.0) && !looks_like_change(&b.0) {
                        b
                    } else {
                        a
                    }
                }
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => return Err(unknown_or_gene_missing(input, &tokens)),
            }
        }
    };
    Ok(build(input, gene, alteration))
}

fn unknown(input: &str) -> ScrapeError {
    ScrapeError::invalid(
        "mutation",
        format!("{:?} is not a mutation form I know; accepted forms: {ACCEPTED_FORMS}", input.trim()),
    )
}

fn unknown_or_gene_missing(input: &str, tokens: &[&str]) -> ScrapeError {
    let joined = tokens.join(" ");
    if alteration(&joined).is_some() {
        return gene_missing(input);
    }
    unknown(input)
}

fn gene_missing(input: &str) -> ScrapeError {
    ScrapeError::invalid(
        "mutation",
        format!(
            "{:?} names an alteration but no gene: a gene is needed, e.g. `BRAF V600E` or `EGFR {}`",
            input.trim(),
            input.trim()
        ),
    )
}

fn looks_like_change(token: &str) -> bool {
    SUBSTITUTION.is_match(token) || INDEL.is_match(token)
}

/// A single token: `EML4-ALK`, `ALK-positive`, `HER2-amplified`; `V600E` alone lacks a gene.
fn single_token(input: &str, token: &str) -> Result<(String, Alteration), ScrapeError> {
    if let Some((left, right)) = token.rsplit_once('-')
        && let Some(found) = pair(left, right)
    {
        return Ok(found);
    }
    if let Some(found) = fusion_pair(token) {
        return Ok(found);
    }
    if alteration(token).is_some() {
        return Err(gene_missing(input));
    }
    if gene_symbol(token).is_some() {
        return Err(ScrapeError::invalid(
            "mutation",
            format!(
                "{:?} names a gene but no alteration: add one, e.g. `{} L858R`, `{} exon 19 deletion`, \
                 `{} fusion` or `{} amplification`",
                input.trim(),
                token.to_ascii_uppercase(),
                token.to_ascii_uppercase(),
                token.to_ascii_uppercase(),
                token.to_ascii_uppercase()
            ),
        ));
    }
    Err(unknown(input))
}

/// `EML4-ALK` or `EML4::ALK` → fusion of ALK with partner EML4.
fn fusion_pair(token: &str) -> Option<(String, Alteration)> {
    let (left, right) = token.split_once("::").or_else(|| token.split_once('-'))?;
    let partner = gene_symbol(left)?;
    let gene = gene_symbol(right)?;
    Some((gene, Alteration::Fusion { partner: Some(partner) }))
}

/// A gene token and an alteration text, or `None`.
fn pair(gene_token: &str, alteration_text: &str) -> Option<(String, Alteration)> {
    let found = alteration(alteration_text)?;
    if matches!(found, Alteration::Fusion { .. })
        && (gene_token.contains("::") || gene_token.contains('-'))
        && let Some(fusion) = fusion_pair(gene_token)
    {
        return Some(fusion);
    }
    Some((gene_symbol(gene_token)?, found))
}

/// Upper-cases and checks a gene symbol, mapping known aliases (`HER2` → `ERBB2`).
fn gene_symbol(token: &str) -> Option<String> {
    let upper = token.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_ascii_uppercase();
    if let Some((canonical, _)) = GENE_ALIASES.iter().find(|(_, aliases)| aliases.contains(&upper.as_str())) {
        return Some((*canonical).to_owned());
    }
    if !GENE.is_match(&upper) || NOT_GENES.contains(&upper.as_str()) || upper.starts_with("P.") {
        return None;
    }
    Some(upper)
}

/// Reads the alteration part alone.
fn alteration(text: &str) -> Option<Alteration> {
    let text = text.trim();
    if let Some(c) = SUBSTITUTION.captures(text) {
        let reference = amino_acid(c.get(1)?.as_str())?;
        let position: u32 = c.get(2)?.as_str().parse().ok()?;
        let alternate = match c.get(3)?.as_str() {
            "*" => '*',
            other => amino_acid(other)?,
        };
        if reference == '*' || reference == alternate || position == 0 {
            return None;
        }
        return Some(Alteration::Substitution { reference, position, alternate });
    }
    if let Some(c) = INDEL.captures(text) {
        let start = amino_acid(c.get(1)?.as_str())?;
        let start_pos: u32 = c.get(2)?.as_str().parse().ok()?;
        let end = match (c.get(3), c.get(4)) {
            (Some(aa), Some(pos)) => Some((amino_acid(aa.as_str())?, pos.as_str().parse::<u32>().ok()?)),
            _ => None,
        };
        let kind = c.get(5)?.as_str().to_ascii_lowercase();
        let inserted = amino_acid_run(c.get(6).map_or("", |m| m.as_str()))?;
        let needs_sequence = kind == "ins" || kind == "delins";
        if needs_sequence == inserted.is_empty() || end.is_some_and(|(_, pos)| pos <= start_pos) {
            return None;
        }
        let range = |three: bool| {
            let code =
                |aa: char| if three { one_to_three(aa).unwrap_or("Xaa").to_owned() } else { aa.to_string() };
            let mut out = format!("{}{start_pos}", code(start));
            if let Some((aa, pos)) = end {
                out.push_str(&format!("_{}{pos}", code(aa)));
            }
            out
        };
        return Some(Alteration::ProteinIndel {
            notation: format!("{}{kind}{inserted}", range(false)),
            three_letter: format!("{}{kind}{}", range(true), three_letter_run(&inserted)),
        });
    }
    if let Some(c) = CDNA.captures(text) {
        return Some(Alteration::CodingDna {
            change: format!(
                "c.{}{}>{}",
                c.get(1)?.as_str(),
                c.get(2)?.as_str().to_ascii_uppercase(),
                c.get(3)?.as_str().to_ascii_uppercase()
            ),
        });
    }
    if let Some(c) = EXON_WORDS.captures(text) {
        let exon: u32 = c.get(1)?.as_str().parse().ok()?;
        let word = c.get(2)?.as_str().to_ascii_lowercase();
        let event = if word.starts_with("del") {
            ExonEvent::Deletion
        } else if word.starts_with("ins") {
            ExonEvent::Insertion
        } else if word.starts_with("skip") {
            ExonEvent::Skipping
        } else {
            ExonEvent::Mutation
        };
        return (exon > 0).then_some(Alteration::Exon { exon, event });
    }
    if let Some(c) = EXON_SHORT.captures(text) {
        let (word, number) = match (c.get(1), c.get(2), c.get(3), c.get(4)) {
            (Some(w), Some(n), _, _) | (_, _, Some(n), Some(w)) => (w.as_str(), n.as_str()),
            _ => return None,
        };
        let exon: u32 = number.parse().ok()?;
        let event = if word.eq_ignore_ascii_case("del") { ExonEvent::Deletion } else { ExonEvent::Insertion };
        return (exon > 0).then_some(Alteration::Exon { exon, event });
    }
    if let Some(c) = EXON_PHRASE.captures(text) {
        let exon: u32 = c.get(2)?.as_str().parse().ok()?;
        let event = if c.get(1)?.as_str().to_ascii_lowercase().starts_with("del") {
            ExonEvent::Deletion
        } else {
            ExonEvent::Insertion
        };
        return (exon > 0).then_some(Alteration::Exon { exon, event });
    }
    if FUSION_WORD.is_match(text) {
        return Some(Alteration::Fusion { partner: None });
    }
    if AMP_WORD.is_match(text) {
        return Some(Alteration::Amplification);
    }
    None
}

/// The other names of `gene` in trial texts.
pub(crate) fn aliases_of(gene: &str) -> Vec<String> {
    GENE_ALIASES
        .iter()
        .find(|(canonical, _)| *canonical == gene)
        .map(|(_, aliases)| aliases.iter().map(|a| (*a).to_owned()).collect())
        .unwrap_or_default()
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn build(input: &str, gene: String, alteration: Alteration) -> Mutation {
    let aliases = aliases_of(&gene);
    let mut variants: Vec<String> = Vec::new();
    let mut search: Vec<String> = Vec::new();
    let label;
    match &alteration {
        Alteration::Substitution { .. } | Alteration::ProteinIndel { .. } => {
            let (ones, threes): (Vec<String>, Vec<String>) = match &alteration {
                Alteration::Substitution { reference, position, alternate } => {
                    let r3 = one_to_three(*reference).unwrap_or("Xaa");
                    if *alternate == '*' {
                        (
                            vec![format!("{reference}{position}*"), format!("{reference}{position}X")],
                            vec![format!("{r3}{position}Ter"), format!("{r3}{position}*")],
                        )
                    } else {
                        let a3 = one_to_three(*alternate).unwrap_or("Xaa");
                        (
                            vec![format!("{reference}{position}{alternate}")],
                            vec![format!("{r3}{position}{a3}")],
                        )
                    }
                }
                Alteration::ProteinIndel { notation, three_letter } => {
                    (vec![notation.clone()], vec![three_letter.clone()])
                }
                _ => (Vec::new(), Vec::new()),
            };
            label = format!("{gene} {}", ones[0]);
            let protein: Vec<String> = ones.iter().chain(threes.iter()).cloned().collect();
            for form in &protein {
                push_unique(&mut variants, form.clone());
            }
            for form in &protein {
                push_unique(&mut variants, format!("p.{form}"));
            }
            for form in &protein {
                push_unique(&mut variants, format!("{gene} {form}"));
                push_unique(&mut variants, format!("{gene} p.{form}"));
            }
            for alias in &aliases {
                push_unique(&mut variants, format!("{alias} {}", ones[0]));
            }
            search = protein;
        }
        Alteration::CodingDna { change } => {
            label = format!("{gene} {change}");
            let bare = change.trim_start_matches("c.").to_owned();
            variants =
                vec![change.clone(), bare.clone(), format!("{gene} {change}"), format!("{gene} {bare}")];
            search.push(change.clone());
        }
        Alteration::Exon { exon, event } => {
            let n = exon;
            label = format!("{gene} exon {n} {}", event.noun());
            let forms: Vec<String> = match event {
                ExonEvent::Deletion => vec![
                    format!("exon {n} deletion"),
                    format!("exon {n} deletions"),
                    format!("exon {n} del"),
                    format!("ex{n}del"),
                    format!("exon{n}del"),
                    format!("del{n}"),
                    format!("{n}del"),
                    format!("exon {n} in-frame deletion"),
                    format!("deletion in exon {n}"),
                ],
                ExonEvent::Insertion => vec![
                    format!("exon {n} insertion"),
                    format!("exon {n} insertions"),
                    format!("exon {n} ins"),
                    format!("ex{n}ins"),
                    format!("exon{n}ins"),
                    format!("ins{n}"),
                    format!("{n}ins"),
                    format!("insertion in exon {n}"),
                ],
                ExonEvent::Skipping => vec![
                    format!("exon {n} skipping"),
                    format!("exon {n} skip"),
                    format!("ex{n} skipping"),
                    format!("{gene}ex{n}"),
                ],
                ExonEvent::Mutation => vec![format!("exon {n} mutation"), format!("exon {n} mutations")],
            };
            search = match event {
                ExonEvent::Deletion => vec![
                    format!("exon {n} deletion"),
                    format!("exon {n} del"),
                    format!("ex{n}del"),
                    format!("del{n}"),
                    format!("{n}del"),
                ],
                ExonEvent::Insertion => vec![
                    format!("exon {n} insertion"),
                    format!("exon {n} ins"),
                    format!("ex{n}ins"),
                    format!("{n}ins"),
                ],
                ExonEvent::Skipping => {
                    vec![format!("exon {n} skipping"), format!("ex{n} skipping"), format!("{gene}ex{n}")]
                }
                ExonEvent::Mutation => vec![format!("{gene} exon {n}")],
            };
            for form in &forms {
                push_unique(&mut variants, form.clone());
            }
            for form in &forms {
                if !form.starts_with(&gene) {
                    push_unique(&mut variants, format!("{gene} {form}"));
                }
            }
        }
        Alteration::Fusion { partner } => {
            label = match partner {
                Some(p) => format!("{p}-{gene} fusion"),
                None => format!("{gene} fusion"),
            };
            if let Some(p) = partner {
                for form in [format!("{p}-{gene}"), format!("{p}::{gene}"), format!("{p}-{gene} fusion")] {
                    push_unique(&mut variants, form);
                }
                search.push(format!("{p}-{gene}"));
            }
            for name in std::iter::once(&gene).chain(aliases.iter()) {
                for form in [
                    format!("{name} fusion"),
                    format!("{name} fusions"),
                    format!("{name} rearrangement"),
                    format!("{name} rearranged"),
                    format!("{name}-rearranged"),
                    format!("{name}-positive"),
                    format!("{name} translocation"),
                    format!("rearranged {name}"),
                    format!("{name}+"),
                ] {
                    push_unique(&mut variants, form);
                }
            }
            for form in [
                format!("{gene} fusion"),
                format!("{gene} rearrangement"),
                format!("{gene} rearranged"),
                format!("{gene}-positive"),
                format!("{gene} translocation"),
            ] {
                push_unique(&mut search, form);
            }
        }
        Alteration::Amplification => {
            label = format!("{gene} amplification");
            for name in std::iter::once(&gene).chain(aliases.iter()) {
                for form in [
                    format!("{name} amplification"),
                    format!("{name} amplified"),
                    format!("{name}-amplified"),
                    format!("{name} amp"),
                    format!("amplified {name}"),
                    format!("{name} copy number gain"),
                ] {
                    push_unique(&mut variants, form);
                }
            }
            for name in std::iter::once(&gene).chain(aliases.iter().take(1)) {
                push_unique(&mut search, format!("{name} amplification"));
                push_unique(&mut search, format!("{name} amplified"));
            }
            if gene == "ERBB2" {
                push_unique(&mut variants, "HER2-positive".to_owned());
                push_unique(&mut search, "HER2-positive".to_owned());
            }
        }
    }
    Mutation {
        input: input.trim().to_owned(),
        gene,
        gene_aliases: aliases,
        alteration,
        label,
        variants,
        search_terms: search,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected` is `label | search terms joined by ", "`, or `error: <message part>`.
    fn check(input: &str, expected: &str) {
        let got = match parse_mutation(input) {
            Ok(m) => format!("{} | {}", m.label, m.search_terms.join(", ")),
            Err(err) => format!("error: {err}"),
        };
        if let Some(part) = expected.strip_prefix("error: ") {
            assert!(got.starts_with("error: ") && got.contains(part), "{input:?}: {got}");
        } else {
            assert_eq!(got, expected, "{input:?}");
        }
    }

    #[test]
    fn protein_changes_in_every_spelling() {
        for input in [
            "EGFR L858R",
            "EGFR p.L858R",
            "EGFR p.Leu858Arg",
            "L858R EGFR",
            "egfr l858r",
            "  EGFR    L858R ",
            "EGFR:p.L858R",
            "EGFR p.(L858R)",
            "EGFR (L858R)",
            "EGFR Leu858Arg",
            "EGFR p. L858R",
            "HER1 L858R",
            "\"EGFR L858R\"",
        ] {
            check(input, "EGFR L858R | L858R, Leu858Arg");
        }
        check("KRAS G12C", "KRAS G12C | G12C, Gly12Cys");
        check("BRAF V600E", "BRAF V600E | V600E, Val600Glu");
        check("V600E BRAF", "BRAF V600E | V600E, Val600Glu");
        check("TP53 R213*", "TP53 R213* | R213*, R213X, Arg213Ter, Arg213*");
        check("TP53 p.Arg213Ter", "TP53 R213* | R213*, R213X, Arg213Ter, Arg213*");
        check("TP53 R213X", "TP53 R213* | R213*, R213X, Arg213Ter, Arg213*");
        check("HER2 V777L", "ERBB2 V777L | V777L, Val777Leu");
    }

    #[test]
    fn indels_cdna_exons_fusions_amplifications() {
        check("EGFR E746_A750del", "EGFR E746_A750del | E746_A750del, Glu746_Ala750del");
        check("EGFR p.Glu746_Ala750del", "EGFR E746_A750del | E746_A750del, Glu746_Ala750del");
        check(
            "ERBB2 A775_G776insYVMA",
            "ERBB2 A775_G776insYVMA | A775_G776insYVMA, Ala775_Gly776insTyrValMetAla",
        );
        check("EGFR A767_V769dup", "EGFR A767_V769dup | A767_V769dup, Ala767_Val769dup");
        check("EGFR c.2573T>G", "EGFR c.2573T>G | c.2573T>G");
        let del19 = "EGFR exon 19 deletion | exon 19 deletion, exon 19 del, ex19del, del19, 19del";
        for input in [
            "EGFR exon 19 deletion",
            "EGFR exon 19 del",
            "egfr Exon19Del",
            "EGFR ex19del",
            "EGFR del19",
            "EGFR 19del",
            "EGFR exon 19 deletions",
            "EGFR exon 19 in-frame deletion",
            "EGFR deletion in exon 19",
            "exon 19 deletion EGFR",
        ] {
            check(input, del19);
        }
        check(
            "EGFR exon 20 insertion",
            "EGFR exon 20 insertion | exon 20 insertion, exon 20 ins, ex20ins, 20ins",
        );
        check("EGFR ex20ins", "EGFR exon 20 insertion | exon 20 insertion, exon 20 ins, ex20ins, 20ins");
        check("MET exon 14 skipping", "MET exon 14 skipping | exon 14 skipping, ex14 skipping, METex14");
        check("EGFR exon 18 mutation", "EGFR exon 18 mutation | EGFR exon 18");
        let alk =
            "ALK fusion | ALK fusion, ALK rearrangement, ALK rearranged, ALK-positive, ALK translocation";
        for input in [
            "ALK fusion",
            "ALK rearrangement",
            "alk rearranged",
            "ALK-positive",
            "rearranged ALK",
            "ALK translocation",
            "ALK gene fusion",
        ] {
            check(input, alk);
        }
        check(
            "EML4-ALK",
            "EML4-ALK fusion | EML4-ALK, ALK fusion, ALK rearrangement, ALK rearranged, ALK-positive, ALK translocation",
        );
        check(
            "EML4-ALK fusion",
            "EML4-ALK fusion | EML4-ALK, ALK fusion, ALK rearrangement, ALK rearranged, ALK-positive, ALK translocation",
        );
        let erbb2 = "ERBB2 amplification | ERBB2 amplification, ERBB2 amplified, HER2 amplification, HER2 amplified, HER2-positive";
        for input in
            ["ERBB2 amplification", "HER2 amplified", "erbb2 amp", "amplified ERBB2", "HER2-amplified"]
        {
            check(input, erbb2);
        }
    }

    #[test]
    fn errors_say_what_is_missing_and_list_the_forms() {
        check("V600E", "error: a gene is needed, e.g. `BRAF V600E`");
        check("p.L858R", "error: a gene is needed");
        check("exon 19 deletion", "error: a gene is needed");
        check("EGFR", "error: names a gene but no alteration");
        check("", "error: invalid argument `mutation`: empty; accepted forms: GENE + protein change");
        check("EGFR is bad", "error: is not a mutation form I know; accepted forms: GENE + protein change");
        check("EGFR L858L", "error: accepted forms");
        check("EGFR B858R", "error: accepted forms");
        check("EGFR L0R", "error: accepted forms");
        check("EGFR E746_A740del", "error: accepted forms");
        check("EGFR D770_N771ins", "error: accepted forms");
        check(&"A".repeat(101), "error: longer than 100 characters");
    }

    #[test]
    fn variants_cover_the_written_forms() {
        let m = parse_mutation("EGFR L858R").ok();
        let variants = m.map(|m| m.variants).unwrap_or_default();
        for form in
            ["L858R", "p.L858R", "Leu858Arg", "p.Leu858Arg", "EGFR L858R", "EGFR p.Leu858Arg", "HER1 L858R"]
        {
            assert!(variants.iter().any(|v| v == form), "{form} missing from {variants:?}");
        }
        let m = parse_mutation("EGFR exon 19 deletion").ok();
        let variants = m.map(|m| m.variants).unwrap_or_default();
        for form in ["exon 19 del", "del19", "19del", "ex19del", "EGFR exon 19 deletion", "EGFR del19"] {
            assert!(variants.iter().any(|v| v == form), "{form} missing from {variants:?}");
        }
        let m = parse_mutation("ALK fusion").ok();
        let variants = m.map(|m| m.variants).unwrap_or_default();
        for form in ["ALK-positive", "ALK rearranged", "rearranged ALK", "ALK+"] {
            assert!(variants.iter().any(|v| v == form), "{form} missing from {variants:?}");
        }
    }
}
