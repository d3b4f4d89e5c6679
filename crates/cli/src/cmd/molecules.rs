//! `pipette molecules …`: `discover_biomolecules` and `protein_get` through the router.

use serde_json::json;

use crate::face::{Face, args};

#[derive(clap::Subcommand, Debug)]
pub(crate) enum MoleculesCmd {
    /// Proteins, compounds and drugs for a gene symbol (BRAF) or a UniProt accession (P15056).
    Discover {
        /// A human gene symbol or a UniProt accession.
        target: String,
        /// What to discover: proteins | compounds | drugs (repeatable; default: all three).
        #[arg(long = "kind", value_delimiter = ',')]
        kinds: Vec<String>,
        /// At most this many of each kind (1–100).
        #[arg(long, short = 'n', default_value_t = 10)]
        max_results: u32,
        /// How much the text shows: concise | detailed.
        #[arg(long, default_value = "detailed")]
        format: String,
    },
    /// One UniProtKB entry.
    Protein {
        /// A UniProt accession, e.g. P15056.
        accession: String,
        /// How much the text shows: concise | detailed.
        #[arg(long, default_value = "detailed")]
        format: String,
    },
}

pub(crate) async fn run(face: &Face, cmd: MoleculesCmd) -> anyhow::Result<()> {
    let (tool, arguments) = match cmd {
        MoleculesCmd::Discover { target, kinds, max_results, format } => (
            "discover_biomolecules",
            json!({ "target": target, "kinds": (!kinds.is_empty()).then_some(kinds),
                    "max_results": max_results, "response_format": format }),
        ),
        MoleculesCmd::Protein { accession, format } => {
            ("protein_get", json!({ "accession": accession, "response_format": format }))
        }
    };
    face.run(tool, args(arguments)).await?;
    Ok(())
}
