//! The subcommands: each turns its flags into a tool's arguments and calls the router through [`crate::face`].

pub(crate) mod index;
pub(crate) mod molecules;
pub(crate) mod pubmed;
pub(crate) mod router;
pub(crate) mod test;
pub(crate) mod trials;
pub(crate) mod worker;
