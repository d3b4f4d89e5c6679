//! pipette's resources: read-only views over the tools, each read through the router (limits, deadlines,
//! caching and metrics apply as to the tool it calls).
//!
//! | URI | tool | list |
//! |---|---|---|
//! | `pubmed://{pmid}` | `pubmed_fetch` | |
//! | `trial://{nct_id}?sections=a,b` | `trial_get` | |
//! | `index://{id}/doc/{doc_id}` | `index_get` | |
//! | `index://{id}/status` | `index_status` | every index |
//! | `job://{job_id}` (subscribable) | `job_status` | the 50 newest jobs |

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tool_metadata::{ErrorKind, ResourceBody, ToolError};

use crate::protocol::{ListedResource, ProtocolFuture, ResourceDescriptor, ResourceRequest, UriTemplate};
use crate::seen::{is_nct_id, is_pmid};
use crate::{CallOptions, CallOutcome, Router};

/// Longer than any deadline of the tools below: a resource read never turns into a job.
const INLINE_MS: u64 = 10 * 60 * 1000;

const JSON: &str = "application/json";

/// Calls `tool` through the router and answers its result.
async fn call(router: &Router, tool: &str, args: Value) -> Result<Value, ToolError> {
    let options = CallOptions { inline_ms: Some(INLINE_MS), ..Default::default() };
    match router.call(tool, args, options).await? {
        CallOutcome::Done(v) => Ok(v),
        CallOutcome::Job(t) => Err(ToolError::new(
            ErrorKind::Timeout,
            format!("`{tool}` is still running as job {}; read job://{} later", t.job_id, t.job_id),
        )),
    }
}

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

fn read_pubmed(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let pmid = req.param("pmid")?;
        if !is_pmid(pmid) {
            return Err(ToolError::invalid_argument(
                "pmid",
                format!("`{pmid}` is not a PMID; expected digits"),
            ));
        }
        let result = call(&router, "pubmed_fetch", json!({ "pmids": [pmid] })).await?;
        match result["articles"].as_array().and_then(|a| a.iter().find(|a| a["pmid"] == pmid)) {
            Some(article) => Ok(vec![ResourceBody::json(&req.uri, article)]),
            None => Err(ToolError::not_found(format!("PubMed has no article {pmid}")).with_param("pmid")),
        }
    })
}

fn read_trial(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &["sections"])?;
        let nct_id = req.param("nct_id")?;
        if !is_nct_id(nct_id) {
            return Err(ToolError::invalid_argument(
                "nct_id",
                format!("`{nct_id}` is not an NCT number; expected NCT and 8 digits, e.g. NCT06604689"),
            ));
        }
        let sections: Vec<&str> = match req.query.get("sections") {
            Some(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
            None => Vec::new(),
        };
        let args = json!({ "nct_id": nct_id.to_ascii_uppercase(), "sections": sections });
        let trial = call(&router, "trial_get", args).await?;
        Ok(vec![ResourceBody::json(&req.uri, &trial)])
    })
}

fn read_index_doc(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let (id, doc_id) = (req.param("id")?, req.param("doc_id")?);
        let got = call(&router, "index_get", json!({ "id": id, "doc_id": doc_id })).await?;
        match got.get("document") {
            Some(doc) if got["found"] == true => Ok(vec![ResourceBody::json(&req.uri, doc)]),
            _ => {
                Err(ToolError::not_found(format!("index `{id}` has no document `{doc_id}`"))
                    .with_param("doc_id"))
            }
        }
    })
}

fn read_index_status(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let status = call(&router, "index_status", json!({ "id": req.param("id")? })).await?;
        Ok(vec![ResourceBody::json(&req.uri, &status)])
    })
}

fn list_indexes(router: Router) -> ProtocolFuture<Vec<ListedResource>> {
    Box::pin(async move {
        let list = call(&router, "index_list", json!({})).await?;
        let indexes = list["indexes"].as_array().cloned().unwrap_or_default();
        Ok(indexes
            .iter()
            .filter_map(|ix| {
                let id = ix["id"].as_str()?;
                Some(ListedResource {
                    uri: UriTemplate::new("index://{id}/status").expand(&BTreeMap::from([("id", id)])),
                    name: format!("index {id}"),
                    description: Some(format!("{} documents in {} shards", ix["docs"], ix["shards"])),
                    mime_type: Some(JSON.to_owned()),
                })
            })
            .collect())
    })
}

fn read_job(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let status = call(&router, "job_status", json!({ "job_id": req.param("job_id")? })).await?;
        Ok(vec![ResourceBody::json(&req.uri, &status)])
    })
}

/// How many jobs `resources/list` shows.
const LISTED_JOBS: usize = 50;

fn list_jobs(router: Router) -> ProtocolFuture<Vec<ListedResource>> {
    Box::pin(async move {
        let list = call(&router, "job_list", json!({ "limit": LISTED_JOBS })).await?;
        let jobs = list["jobs"].as_array().cloned().unwrap_or_default();
        Ok(jobs
            .iter()
            .filter_map(|job| {
                let id = job["job_id"].as_str()?;
                Some(ListedResource {
                    uri: UriTemplate::new("job://{job_id}").expand(&BTreeMap::from([("job_id", id)])),
                    name: format!("job {id}"),
                    description: Some(format!(
                        "{} ({}), started {}",
                        job["tool"].as_str().unwrap_or("?"),
                        job["status"].as_str().unwrap_or("?"),
                        job["started_at"].as_str().unwrap_or("?"),
                    )),
                    mime_type: Some(JSON.to_owned()),
                })
            })
            .collect())
    })
}

inventory::submit!(ResourceDescriptor {
    uri: "pubmed://{pmid}",
    name: "pubmed_article",
    title: "PubMed article",
    description: "One PubMed article by PMID (read through pubmed_fetch): title, abstract, authors, journal, \
                  date, DOI, MeSH, publication types, keywords.",
    mime_type: JSON,
    read: read_pubmed,
    list: None,
    subscribable: false,
});

inventory::submit!(ResourceDescriptor {
    uri: "trial://{nct_id}",
    name: "clinical_trial",
    title: "ClinicalTrials.gov study",
    description: "One study by NCT number (read through trial_get). `?sections=eligibility,locations` keeps only \
                  those parts besides the summary (eligibility, locations, arms, outcomes, sponsor, dates).",
    mime_type: JSON,
    read: read_trial,
    list: None,
    subscribable: false,
});

inventory::submit!(ResourceDescriptor {
    uri: "index://{id}/doc/{doc_id}",
    name: "index_document",
    title: "Indexed document",
    description: "One document of a local index, by its id, as it was added (read through index_get).",
    mime_type: JSON,
    read: read_index_doc,
    list: None,
    subscribable: false,
});

inventory::submit!(ResourceDescriptor {
    uri: "index://{id}/status",
    name: "index_status",
    title: "Index status",
    description: "A local index's state: documents, segments, bytes on disk, shards, last commit (index_status).",
    mime_type: JSON,
    read: read_index_status,
    list: Some(list_indexes),
    subscribable: false,
});

inventory::submit!(ResourceDescriptor {
    uri: "job://{job_id}",
    name: "job",
    title: "Background job",
    description: "A background job's status, progress, output and, once it ends, its result or error \
                  (job_status). Subscribe to be told as it progresses.",
    mime_type: JSON,
    read: read_job,
    list: Some(list_jobs),
    subscribable: true,
});
