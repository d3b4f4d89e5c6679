//! pipette: the command line over the same cores and router.
