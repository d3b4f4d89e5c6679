//! The tools, one file per family; each is a thin wrapper over a core crate or the router's services.

mod alerts;
mod cache;
mod fulltext;
mod index;
mod index_admin;
mod jobs;
mod molecules;
mod ops;
mod pubmed;
mod testing;
mod trials;
mod workflow;
