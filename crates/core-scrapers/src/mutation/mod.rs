//! Mutation parsing (gene + alteration, textual variants) and mutation → trial matching.

mod parse;
mod text;

pub use parse::{ACCEPTED_FORMS, Alteration, ExonEvent, Mutation, parse_mutation};
