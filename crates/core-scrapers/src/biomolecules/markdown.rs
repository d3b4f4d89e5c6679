//! Biomolecule results as markdown: the resolved target, one line per candidate with its ids and evidence,
//! and every source that failed; concise drops structures, SMILES and long functions, and says how to get them.

use std::fmt::Write as _;

use crate::ResponseFormat;
use crate::biomolecules::model::{Candidate, Discovery, Protein};
use crate::prose::sentences;

impl Protein {
    /// The entry as markdown: identifiers, gene, organism, length, function (its first sentence when concise)
    /// and PDB structures (their count when concise).
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let mut out = format!("### {} — {}\n", self.accession, self.name.as_deref().unwrap_or("(no name)"));
        let mut facts = vec![format!("UniProt {}", self.accession)];
        facts.extend(self.entry_name.clone());
        facts.extend(self.gene.as_ref().map(|g| format!("gene {g}")));
        facts.extend(self.organism.clone());
        facts.extend(self.length.map(|l| format!("{l} aa")));
        facts.push(if self.reviewed { "reviewed (Swiss-Prot)" } else { "unreviewed (TrEMBL)" }.to_owned());
        let _ = writeln!(out, "{}", facts.join(" · "));
        if !self.gene_synonyms.is_empty() {
            let _ = writeln!(out, "Gene synonyms: {}", self.gene_synonyms.join(", "));
        }
        if format.is_detailed() && !self.alternative_names.is_empty() {
            let _ = writeln!(out, "Also named: {}", self.alternative_names.join("; "));
        }
        if let Some(function) = &self.function {
            let text = match format {
                ResponseFormat::Concise => {
                    let (first, total) = sentences(function, 1);
                    if total > 1 { format!("{first} […]") } else { first }
                }
                ResponseFormat::Detailed => function.trim().to_owned(),
            };
            let _ = writeln!(out, "Function: {text}");
        }
        if self.structures_total > 0 {
            match format {
                ResponseFormat::Concise => {
                    let _ = writeln!(out, "PDB structures: {}", self.structures_total);
                }
                ResponseFormat::Detailed => {
                    let more = self.structures_total.saturating_sub(self.structures.len());
                    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                    let _ = writeln!(
                        out,
                        "PDB structures ({}): {}{more}",
                        self.structures_total,
                        self.structures.join(", ")
                    );
                }
            }
        }
        let _ = writeln!(out, "{}", self.url);
        out
    }
}

/// One candidate: name, ids, phase or potency, then its evidence (each a sentence with its source).
fn candidate(out: &mut String, c: &Candidate, format: ResponseFormat) {
    let ids: Vec<String> = c.ids.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let mut facts = Vec::new();
    if let Some(p) = c.pchembl {
        facts.push(format!("pChEMBL {p:.2}"));
    }
    if let Some(p) = c.max_phase {
        facts.push(if p >= 4.0 { "approved (phase 4)".to_owned() } else { format!("max phase {p}") });
    }
    if let Some(y) = c.first_approval {
        facts.push(format!("first approved {y}"));
    }
    if format.is_detailed()
        && let Some(t) = &c.molecule_type
    {
        facts.push(t.clone());
    }
    let facts = if facts.is_empty() { String::new() } else { format!(" — {}", facts.join(", ")) };
    let _ = writeln!(out, "- **{}** ({}){facts}", c.name, ids.join(", "));
    for e in &c.evidence {
        match (format, &e.url) {
            (ResponseFormat::Detailed, Some(url)) => {
                let _ = writeln!(out, "  - {} ({url})", e.detail);
            }
            _ => {
                let _ = writeln!(out, "  - {}", e.detail);
            }
        }
    }
    if format.is_detailed() {
        if let Some(smiles) = &c.smiles {
            let _ = writeln!(out, "  - SMILES `{smiles}`");
        }
        let _ = writeln!(out, "  - {}", c.source_url);
    }
}

impl Discovery {
    /// The discovery as markdown: the target, proteins, drugs, compounds, notes, and the sources that failed.
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let mut out = format!("## Biomolecules for `{}`\n\n", self.query);
        out.push_str(&self.protein.markdown(format));
        if let Some(t) = &self.chembl_target {
            let name = t.pref_name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
            let kind =
                t.target_type.as_deref().map(|k| format!(" ({})", k.to_lowercase())).unwrap_or_default();
            let _ = writeln!(out, "ChEMBL target {}{name}{kind}", t.target_chembl_id);
        }
        let lists = [
            ("Proteins", &self.proteins),
            ("Drugs (mechanism of action)", &self.drugs),
            ("Compounds (most potent)", &self.compounds),
        ];
        for (title, list) in lists {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n**{title}** ({})", list.len());
            for c in list {
                candidate(&mut out, c, format);
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nNote: {note}");
        }
        if !self.source_errors.is_empty() {
            let _ = writeln!(out, "\n**Sources that failed** (the rest above stands):");
            for e in &self.source_errors {
                let _ = writeln!(out, "- {} — {}: {} ({})", e.service, e.step, e.message, e.kind);
            }
        }
        if format == ResponseFormat::Concise {
            let _ = writeln!(
                out,
                "\n_Concise: no SMILES, PDB ids, evidence links or full function. Everything: \
                 `discover_biomolecules {{\"target\": {}, \"response_format\": \"detailed\"}}`_",
                serde_json::Value::from(self.query.as_str())
            );
        }
        out
    }
}
