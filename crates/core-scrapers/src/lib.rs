//! PubMed, ClinicalTrials.gov and biomolecule clients over one resilient, cached HTTP layer.

mod config;
mod error;
mod prose;
mod render;

pub mod biomolecules;
pub mod fulltext;
pub mod http;
pub mod mutation;
pub mod pubmed;
pub mod trials;
pub mod warm;

pub use config::{BreakerConfig, RetryConfig, ScrapersConfig, Secret, Timeouts, UpstreamConfig};
pub use error::ScrapeError;
pub use render::ResponseFormat;
