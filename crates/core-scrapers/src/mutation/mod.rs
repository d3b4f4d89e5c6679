//! Mutation parsing (gene + alteration, textual variants) and mutation → trial matching.
