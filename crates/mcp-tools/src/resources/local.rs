//! Local resources: an index's documents and status, a background job.

use std::collections::BTreeMap;

use serde_json::json;
use tool_metadata::{ResourceBody, ToolError};

use super::{JSON, no_query};
use crate::Router;
use crate::protocol::{ListedResource, ProtocolFuture, ResourceDescriptor, ResourceRequest, UriTemplate};

fn read_index_doc(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let (id, doc_id) = (req.param("id")?, req.param("doc_id")?);
        let got = router.call_now("index_get", json!({ "id": id, "doc_id": doc_id })).await?;
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
        let status = router.call_now("index_status", json!({ "id": req.param("id")? })).await?;
        Ok(vec![ResourceBody::json(&req.uri, &status)])
    })
}

fn list_indexes(router: Router) -> ProtocolFuture<Vec<ListedResource>> {
    Box::pin(async move {
        let list = router.call_now("index_list", json!({})).await?;
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
        let status = router.call_now("job_status", json!({ "job_id": req.param("job_id")? })).await?;
        Ok(vec![ResourceBody::json(&req.uri, &status)])
    })
}

/// How many jobs `resources/list` shows.
const LISTED_JOBS: usize = 50;

fn list_jobs(router: Router) -> ProtocolFuture<Vec<ListedResource>> {
    Box::pin(async move {
        let list = router.call_now("job_list", json!({ "limit": LISTED_JOBS })).await?;
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
