//! The prompts people want: trials for a patient's mutations, a literature review of a gene alteration,
//! and the triage of a failing test run. Each is declared once; arguments are a serde struct, checked
//! like tool parameters (a bad mutation is named before any prompt is written).

mod research;
mod testing;
mod workflow;
