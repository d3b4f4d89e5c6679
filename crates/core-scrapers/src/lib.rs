//! PubMed, ClinicalTrials.gov and biomolecule clients over one resilient, cached HTTP layer.

mod config;
mod error;

pub mod biomolecules;
pub mod http;
pub mod mutation;
pub mod pubmed;
pub mod trials;

pub use config::{BreakerConfig, RetryConfig, ScrapersConfig, Secret, Timeouts, UpstreamConfig};
pub use error::ScrapeError;
