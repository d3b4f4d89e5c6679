//! UniProt and ChEMBL: resolve a target and discover proteins, compounds and drugs for it.

mod chembl;
mod discover;
mod markdown;
mod model;
mod uniprot;

pub use chembl::{Mechanism, MechanismRef, parse_mechanisms};
pub use discover::{DiscoverRequest, MAX_PER_KIND, discover, protein_get};
pub use model::{Candidate, CandidateKind, ChemblTarget, Discovery, Evidence, Kind, Protein, SourceError};
pub use uniprot::parse_protein;
