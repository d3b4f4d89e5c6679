//! pipette's resources: read-only views over the tools, each read through the router (limits, deadlines,
//! caching and metrics apply as to the tool it calls).
//!
//! | URI | tool | list |
//! |---|---|---|
//! | `pubmed://{pmid}` | `pubmed_fetch` | |
//! | `pmc://{pmcid}` | `article_fulltext` | |
//! | `article://{pmid}/fulltext` | `article_fulltext` | |
//! | `trial://{nct_id}?sections=a,b` | `trial_get` | |
//! | `index://{id}/doc/{doc_id}` | `index_get` | |
//! | `index://{id}/status` | `index_status` | every index |
//! | `job://{job_id}` (subscribable) | `job_status` | the 50 newest jobs |
//! | `workflow://saved/{name}` | (a saved workflow definition) | both saved workflows |

mod fulltext;
mod local;
mod research;
mod workflow;

use tool_metadata::ToolError;

use crate::protocol::ResourceRequest;

const JSON: &str = "application/json";

/// Refuses query parameters other than `allowed`, naming the first unknown one.
fn no_query(req: &ResourceRequest, allowed: &[&str]) -> Result<(), ToolError> {
    match req.query.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => {
            let accepted = match allowed {
                [] => "it takes none".to_owned(),
                a => format!("accepted: {}", a.join(", ")),
            };
            Err(ToolError::invalid_argument(
                k.clone(),
                format!("unknown query parameter `{k}` in {}; {accepted}", req.uri),
            ))
        }
    }
}
