//! The tools (thin wrappers over the cores), the registry, the router and the job manager.
