//! `pipette molecules …`: biomolecule discovery (UniProt, ChEMBL) and protein lookup, calling core-scrapers.

use core_scrapers::biomolecules::{self, DiscoverRequest, Kind};
use core_scrapers::{ResponseFormat, ScrapersConfig, http::Upstreams};

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
            out.emit(&result, || result.markdown(ResponseFormat::Detailed))
        }
        MoleculesCmd::Protein { accession } => {
            let protein = biomolecules::protein_get(&upstreams, &accession).await?;
            out.emit(&protein, || protein.markdown(ResponseFormat::Detailed))
        }
    }
}
