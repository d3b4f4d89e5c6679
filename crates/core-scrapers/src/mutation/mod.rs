//! Mutation parsing (gene + alteration, textual variants) and mutation → trial matching, single and batch.

mod batch;
mod matching;
mod parse;
mod summary;
mod text;

pub use batch::{
    BatchEntry, EntryError, MAX_BATCH, MatchBatch, trials_match_batch, trials_match_batch_resuming,
};
pub use matching::{
    DEFAULT_MATCH_STATUS, Evidence, EvidenceSection, MatchFilters, MatchLimits, MutationTrials, TrialMatch,
    TrialsMatchBatchParams, TrialsMatchParams, match_query, trials_match,
};
pub use parse::{ACCEPTED_FORMS, Alteration, ExonEvent, Mutation, gene_aliases, parse_mutation};
