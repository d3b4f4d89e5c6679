//! `pipette molecules …`: biomolecule discovery (UniProt, ChEMBL) and protein lookup, calling core-scrapers.

use core_scrapers::biomolecules::{self, Candidate, DiscoverRequest, Discovery, Kind, Protein};
use core_scrapers::{ScrapersConfig, http::Upstreams};

use crate::output::Output;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum MoleculesCmd {
    /// Proteins, compounds and drugs for a gene symbol (BRAF) or a UniProt accession (P15056).
    Discover {
        /// A human gene symbol or a UniProt accession.
        target: String,
        /// What to discover (repeatable; default: all three).
        #[arg(long = "kind", value_enum)]
        kinds: Vec<KindArg>,
        /// At most this many of each kind (1–100).
        #[arg(long, short = 'n', default_value_t = 10)]
        max_results: u32,
    },
    /// One UniProtKB entry.
    Protein {
        /// A UniProt accession, e.g. P15056.
        accession: String,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(crate) enum KindArg {
    Proteins,
    Compounds,
    Drugs,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Proteins => Kind::Proteins,
            KindArg::Compounds => Kind::Compounds,
            KindArg::Drugs => Kind::Drugs,
        }
    }
}

/// The upstreams from the environment (`PIPETTE_*`) and the cache (`REDIS_URL` or in-process).
async fn upstreams() -> anyhow::Result<Upstreams> {
    let config = ScrapersConfig::from_env()?;
    let cache = core_cache::Cache::from_env().await?;
    Ok(Upstreams::new(&config, cache)?)
}

pub(crate) async fn run(cmd: MoleculesCmd, out: &Output) -> anyhow::Result<()> {
    let upstreams = upstreams().await?;
    match cmd {
        MoleculesCmd::Discover { target, kinds, max_results } => {
            let mut request = DiscoverRequest::new(target);
            if !kinds.is_empty() {
                request.kinds = kinds.into_iter().map(Kind::from).collect();
            }
            request.max_results = max_results;
            let bar = out.progress(None, "molecules");
            let result = biomolecules::discover(&upstreams, &request).await;
            bar.finish();
            let result = result?;
            out.emit(&result, || render_discovery(&result))
        }
        MoleculesCmd::Protein { accession } => {
            let protein = biomolecules::protein_get(&upstreams, &accession).await?;
            out.emit(&protein, || render_protein(&protein))
        }
    }
}

fn render_protein(p: &Protein) -> String {
    let mut text = format!(
        "{} {} — {}\n",
        p.accession,
        p.entry_name.as_deref().unwrap_or(""),
        p.name.as_deref().unwrap_or("(no name)")
    );
    let gene = p.gene.as_deref().unwrap_or("?");
    let synonyms =
        if p.gene_synonyms.is_empty() { String::new() } else { format!(" ({})", p.gene_synonyms.join(", ")) };
    text.push_str(&format!(
        "  gene {gene}{synonyms} · {} · {} aa · {}\n",
        p.organism.as_deref().unwrap_or("unknown organism"),
        p.length.map(|l| l.to_string()).unwrap_or_else(|| "?".to_owned()),
        if p.reviewed { "reviewed" } else { "unreviewed" }
    ));
    if let Some(function) = &p.function {
        text.push_str(&format!("  {function}\n"));
    }
    if p.structures_total > 0 {
        text.push_str(&format!("  PDB ({}): {}\n", p.structures_total, p.structures.join(", ")));
    }
    text.push_str(&format!("  {}\n", p.url));
    text
}

fn render_candidates(title: &str, list: &[Candidate]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut text = format!("\n{title} ({})\n", list.len());
    for c in list {
        let ids: Vec<String> = c.ids.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        let mut facts = Vec::new();
        if let Some(p) = c.pchembl {
            facts.push(format!("pChEMBL {p:.2}"));
        }
        if let Some(p) = c.max_phase {
            facts.push(format!("max phase {p}"));
        }
        if let Some(y) = c.first_approval {
            facts.push(format!("approved {y}"));
        }
        let facts = if facts.is_empty() { String::new() } else { format!(" [{}]", facts.join(", ")) };
        text.push_str(&format!("  {}{facts}  {}\n", c.name, ids.join(" ")));
        for e in &c.evidence {
            text.push_str(&format!("    - {}\n", e.detail));
        }
        text.push_str(&format!("    {}\n", c.source_url));
    }
    text
}

fn render_discovery(d: &Discovery) -> String {
    let mut text = render_protein(&d.protein);
    if let Some(t) = &d.chembl_target {
        text.push_str(&format!(
            "  ChEMBL target {} ({})\n",
            t.target_chembl_id,
            t.pref_name.as_deref().unwrap_or("unnamed")
        ));
    }
    text.push_str(&render_candidates("Proteins", &d.proteins));
    text.push_str(&render_candidates("Drugs (mechanism of action)", &d.drugs));
    text.push_str(&render_candidates("Compounds (by pChEMBL)", &d.compounds));
    for note in &d.notes {
        text.push_str(&format!("\nNote: {note}\n"));
    }
    text
}
