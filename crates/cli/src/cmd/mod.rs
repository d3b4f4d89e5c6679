//! The subcommands: the router's generic ones here, the domain ones (calling the cores directly) beside.

pub(crate) mod router;
