//! Splits an eligibility criteria text into inclusion and exclusion lists, one entry per criterion.
//!
//! Real texts vary: headings such as `Inclusion Criteria:`, `Key Inclusion Criteria`, `INCLUSION CRITERIA`,
//! `Inclusion Criteria (Part A):`, `Patients must meet all of the following inclusion criteria:`, markdown
//! emphasis and escapes; bullets `*`, `-`, `•`, `1.`, `1)`, `(a)`, `i.`, `1.1`; nested levels (by
//! indentation, or letters under numbers); wrapped lines. Nested items are kept with their parent, one per
//! line, as `  - child`. Text under no heading goes to `unlabelled`.

use std::sync::LazyLock;

use regex::Regex;

/// The criteria of one study, split.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Criteria {
    pub(crate) inclusion: Vec<String>,
    pub(crate) exclusion: Vec<String>,
    pub(crate) unlabelled: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Unlabelled,
    Inclusion,
    Exclusion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bullet {
    Symbol,
    Number,
    Letter,
    Roman,
    MultiLevel,
}

#[allow(clippy::expect_used)] // constant patterns, checked by the tests
fn regex(pattern: &str) -> Regex {
    // ASCII word boundaries: Unicode ones push the engine to its slow paths on non-ASCII text.
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).expect("valid constant regex")
}

static SYMBOL: LazyLock<Regex> = LazyLock::new(|| regex(r"^(?:[*+\-]\s+|[•·▪◦‣●○■□➢►–—]\s*)"));
static MULTI: LazyLock<Regex> = LazyLock::new(|| regex(r"^\(?\d{1,2}(?:\.\d{1,2})+\.?\)?\s+"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| regex(r"^(?:\(\d{1,3}\)|\d{1,3}[.)])\s+"));
static ROMAN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:\((?:[ivx]{1,4}|[IVX]{1,4})\)|(?:[ivx]{2,4}|[IVX]{2,4})[.)])\s+"));
static LETTER: LazyLock<Regex> = LazyLock::new(|| regex(r"^(?:\([a-zA-Z]\)|[a-zA-Z][.)])\s+"));

/// `[qualifiers] inclusion|exclusion [criteria] [rest]`.
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:(?:key|main|major|general|additional|specific|principal|other|selected|study|patient|subject|participant|primary|basic|core)\s+)*(non[\s-]?inclusion|inclusion|exclusion|ineligibility)(\s+criteri(?:a|on))?\b\s*(.*)$",
    )
});

/// Splits `text` (as found in `eligibilityModule.eligibilityCriteria`).
pub(crate) fn split(text: &str) -> Criteria {
    let mut splitter = Splitter::default();
    for raw in text.lines() {
        splitter.line(raw);
    }
    splitter.flush();
    splitter.out
}

#[derive(Default)]
struct Item {
    text: String,
    children: Vec<String>,
    /// Whether the item started with a bullet (plain lines wrap only onto lower-case lines).
    bulleted: bool,
}

impl Item {
    fn new(text: &str, bulleted: bool) -> Self {
        Self { text: text.to_owned(), children: Vec::new(), bulleted }
    }

    fn render(self) -> String {
        let mut out = tidy(&self.text);
        for child in self.children {
            let child = tidy(&child);
            if !child.is_empty() {
                out.push_str("\n  - ");
                out.push_str(&child);
            }
        }
        out
    }
}

struct Splitter {
    section: Section,
    out: Criteria,
    current: Option<Item>,
    /// Indentation and bullet kind of the first bullet of the current section (the top level).
    top: Option<(usize, Bullet)>,
    /// Whether the previous line was blank.
    blank: bool,
}

impl Default for Splitter {
    fn default() -> Self {
        Self {
            section: Section::Unlabelled,
            out: Criteria::default(),
            current: None,
            top: None,
            blank: false,
        }
    }
}

impl Splitter {
    fn line(&mut self, raw: &str) {
        let line = unescape(raw);
        let indent: usize =
            line.chars().take_while(|c| c.is_whitespace()).map(|c| if c == '\t' { 4 } else { 1 }).sum();
        let body = line.trim();
        if body.is_empty() {
            self.blank = true;
            return;
        }
        let (bullet, rest) = strip_bullet(body);
        let rest = strip_emphasis(rest);
        if !rest.chars().any(char::is_alphanumeric) {
            return;
        }
        if let Some((section, remainder)) = heading(rest, bullet.is_some()) {
            self.flush();
            self.section = section;
            self.top = None;
            if let Some(remainder) = remainder {
                self.current = Some(Item::new(remainder, false));
            }
            self.blank = false;
            return;
        }
        match bullet {
            Some(kind) => self.bullet(indent, kind, rest),
            None => self.text(indent, rest),
        }
        self.blank = false;
    }

    fn bullet(&mut self, indent: usize, kind: Bullet, rest: &str) {
        let nested = match (&self.current, self.top) {
            (Some(_), Some((top_indent, top_kind))) => {
                indent >= top_indent + 2
                    || (top_kind == Bullet::Number
                        && matches!(kind, Bullet::Letter | Bullet::Roman | Bullet::MultiLevel)
                        && indent >= top_indent)
            }
            _ => false,
        };
        if nested {
            if let Some(item) = &mut self.current {
                item.children.push(rest.to_owned());
            }
            return;
        }
        self.flush();
        match self.top {
            Some((top_indent, _)) if indent >= top_indent => {}
            _ => self.top = Some((indent, kind)),
        }
        self.current = Some(Item::new(rest, true));
    }

    fn text(&mut self, indent: usize, rest: &str) {
        let continues = match &self.current {
            Some(item) if item.bulleted => !self.blank || indent >= 2,
            Some(_) => !self.blank && rest.starts_with(|c: char| c.is_lowercase()),
            None => false,
        };
        match &mut self.current {
            Some(item) if continues => {
                let target = item.children.last_mut().unwrap_or(&mut item.text);
                target.push(' ');
                target.push_str(rest);
            }
            _ => {
                self.flush();
                self.current = Some(Item::new(rest, false));
            }
        }
    }

    fn flush(&mut self) {
        let Some(item) = self.current.take() else { return };
        let text = item.render();
        if text.is_empty() {
            return;
        }
        match self.section {
            Section::Inclusion => self.out.inclusion.push(text),
            Section::Exclusion => self.out.exclusion.push(text),
            Section::Unlabelled => self.out.unlabelled.push(text),
        }
    }
}

/// Drops the markdown backslash escapes (`\<`, `\>`, `\*`…) and normalises odd spaces.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_punctuation) => {}
            '\u{a0}' | '\u{2007}' | '\u{202f}' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn strip_bullet(body: &str) -> (Option<Bullet>, &str) {
    let kinds: [(&Regex, Bullet); 5] = [
        (&SYMBOL, Bullet::Symbol),
        (&MULTI, Bullet::MultiLevel),
        (&NUMBER, Bullet::Number),
        (&ROMAN, Bullet::Roman),
        (&LETTER, Bullet::Letter),
    ];
    for (re, kind) in kinds {
        if let Some(m) = re.find(body) {
            return (Some(kind), body[m.end()..].trim_start());
        }
    }
    (None, body)
}

/// Removes markdown heading marks and surrounding emphasis (`### `, `**…**`, `__…__`).
fn strip_emphasis(text: &str) -> &str {
    let text = text.trim_start_matches('#').trim();
    let inner = text.trim_matches(|c| c == '*' || c == '_').trim();
    // Only strip emphasis that wraps the line, not a trailing `*` of a stop codon such as `R213*`.
    if text.starts_with("**") || text.starts_with("__") { inner } else { text }
}

/// Recognises a heading; returns the section and any criterion written on the same line after a colon.
fn heading(text: &str, bulleted: bool) -> Option<(Section, Option<&str>)> {
    if text.chars().count() > 160 {
        return None;
    }
    if let Some(caps) = HEADING.captures(text) {
        let section = match caps.get(1).map(|m| m.as_str().to_ascii_lowercase()) {
            Some(word) if word == "inclusion" => Section::Inclusion,
            Some(_) => Section::Exclusion,
            None => return None,
        };
        let has_criteria = caps.get(2).is_some();
        let rest = caps.get(3).map_or("", |m| m.as_str()).trim();
        if rest.is_empty() || rest.chars().all(|c| matches!(c, ':' | '*' | '_' | '.' | '-')) {
            return Some((section, None));
        }
        if let Some(after) = rest.strip_prefix(':') {
            let after = after.trim().trim_start_matches(['*', '_']).trim();
            return Some((section, (!after.is_empty()).then_some(after)));
        }
        let qualified = rest.starts_with('(')
            || rest.starts_with('[')
            || rest.starts_with('-')
            || rest.starts_with('–')
            || rest.starts_with('—')
            || rest.to_ascii_lowercase().starts_with("for ")
            || rest.to_ascii_lowercase().starts_with("specific to ")
            || rest.to_ascii_lowercase().starts_with("applicable to ");
        if has_criteria && !bulleted && qualified && text.chars().count() <= 120 && !rest.contains(". ") {
            return Some((section, None));
        }
        return None;
    }
    // "Patients must meet all of the following inclusion criteria:"
    if !bulleted && text.ends_with(':') {
        let lower = text.to_ascii_lowercase();
        let exclusion = lower.contains("exclusion criteri") || lower.contains("non-inclusion criteri");
        let inclusion = lower.contains("inclusion criteri") && !lower.contains("non-inclusion criteri");
        return match (inclusion, exclusion) {
            (true, false) => Some((Section::Inclusion, None)),
            (false, true) => Some((Section::Exclusion, None)),
            _ => None,
        };
    }
    None
}

/// Trims whitespace and the list punctuation that ends an item (`;`, `,`).
fn tidy(text: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.trim_end_matches([';', ',', ' ']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected` lists the items as `I: …`, `E: …` or `U: …`, one per line (nested children follow
    /// their parent as `  - …` lines).
    fn check(text: &str, expected: &str) {
        let c = split(text);
        let mut got = Vec::new();
        for (tag, items) in [("U", &c.unlabelled), ("I", &c.inclusion), ("E", &c.exclusion)] {
            for item in items.iter() {
                got.push(format!("{tag}: {item}"));
            }
        }
        let expected: Vec<&str> = expected.trim().lines().map(str::trim_end).collect();
        let got = got.join("\n");
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got, expected, "\ntext:\n{text}");
    }

    #[test]
    fn bullets_and_headings() {
        check(
            "Inclusion Criteria:\n\n* Age ≥ 18;\n* EGFR L858R\n\nExclusion Criteria:\n\n* Pregnancy.",
            "I: Age ≥ 18\nI: EGFR L858R\nE: Pregnancy.",
        );
        check(
            "Key Inclusion Criteria\n1. Signed consent;\n2) ECOG 0-1\n(3) Measurable disease\n\nKey Exclusion Criteria\n- Prior EGFR TKI",
            "I: Signed consent\nI: ECOG 0-1\nI: Measurable disease\nE: Prior EGFR TKI",
        );
        check(
            "**INCLUSION CRITERIA:**\n• first\n• second\n\n### EXCLUSION CRITERIA\n• third",
            "I: first\nI: second\nE: third",
        );
        check(
            "Patients must meet all of the following inclusion criteria:\n* a\n\nPatients meeting any of the following exclusion criteria are not eligible:\n* b",
            "I: a\nE: b",
        );
        check(
            "Inclusion Criteria (Part A):\n* a\nExclusion Criteria (Part A):\n* b\nInclusion Criteria for Part B:\n* c\nNon-inclusion criteria:\n* d",
            "I: a\nI: c\nE: b\nE: d",
        );
        check("Exclusion Criteria: Pregnant women\nInclusion: adults", "I: adults\nE: Pregnant women");
    }

    #[test]
    fn nesting_and_continuations() {
        check(
            "Inclusion Criteria:\n\n* Documented EGFR mutation, one of:\n\n  * exon 19 deletion\n  * L858R\n* ECOG 0-1",
            "I: Documented EGFR mutation, one of:\n  - exon 19 deletion\n  - L858R\nI: ECOG 0-1",
        );
        check(
            "Inclusion Criteria:\n1. Adequate organ function:\na. ANC ≥ 1.5\nb. Platelets ≥ 100\n2. Age ≥ 18",
            "I: Adequate organ function:\n  - ANC ≥ 1.5\n  - Platelets ≥ 100\nI: Age ≥ 18",
        );
        check(
            "Inclusion Criteria:\n* A criterion that wraps\nonto the next line\n* Next\n\n  continued after a blank line",
            "I: A criterion that wraps onto the next line\nI: Next continued after a blank line",
        );
        check("Inclusion Criteria:\n1.1 Part one\n1.2 Part two", "I: Part one\nI: Part two");
    }

    #[test]
    fn text_without_headings_and_odd_lines() {
        check("Adults with melanoma.\n\nNo pregnancy.", "U: Adults with melanoma.\nU: No pregnancy.");
        check(
            "Inclusion Criteria:\nAge 18 or older\nHistologically confirmed NSCLC that\nwraps here",
            "I: Age 18 or older\nI: Histologically confirmed NSCLC that wraps here",
        );
        check(
            "Inclusion Criteria:\n* Urine protein \\< 1000mg/24h\n* Meets all inclusion criteria of the parent study\n* Exclusion of brain metastases is required",
            "I: Urine protein < 1000mg/24h\nI: Meets all inclusion criteria of the parent study\nI: Exclusion of brain metastases is required",
        );
        check("Inclusion Criteria:\n* TP53 R213*\n*\n-", "I: TP53 R213*");
        check("", "");
    }
}
