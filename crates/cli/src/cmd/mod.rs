//! The subcommands: the router's generic ones here, the domain ones (calling the cores directly) beside.

pub(crate) mod index;
pub(crate) mod molecules;
pub(crate) mod pubmed;
pub(crate) mod router;
pub(crate) mod test;
pub(crate) mod trials;
pub(crate) mod worker;
