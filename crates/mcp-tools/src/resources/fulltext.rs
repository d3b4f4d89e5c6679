//! Full-text resources: an article's full text by PMCID or PMID (read through `article_fulltext`): the
//! structured result as JSON.

use core_scrapers::fulltext::normalize_pmcid;
use core_scrapers::pubmed;
use serde_json::{Value, json};
use tool_metadata::{ResourceBody, ToolError};

use super::{JSON, no_query};
use crate::protocol::{ProtocolFuture, ResourceDescriptor, ResourceRequest};
use crate::text::MARKDOWN_KEY;
use crate::{Error, Router};

async fn read(router: Router, uri: &str, args: Value) -> Result<Vec<ResourceBody>, ToolError> {
    let mut result = router.call_now("article_fulltext", args).await?;
    if let Some(o) = result.as_object_mut() {
        o.remove(MARKDOWN_KEY);
    }
    Ok(vec![ResourceBody::json(uri, &result)])
}

fn read_pmc(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let raw = req.param("pmcid")?;
        let pmcid = normalize_pmcid(raw).ok_or_else(|| {
            ToolError::invalid_argument("pmcid", format!("{raw:?} is not a PMCID: expected PMC and digits"))
        })?;
        read(router, &req.uri, json!({ "pmcid": pmcid, "response_format": "detailed" })).await
    })
}

fn read_article(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let pmid = pubmed::normalize_pmid(req.param("pmid")?, "pmid").map_err(Error::from)?;
        read(router, &req.uri, json!({ "pmid": pmid, "response_format": "detailed" })).await
    })
}

inventory::submit!(ResourceDescriptor {
    uri: "pmc://{pmcid}",
    name: "pmc_fulltext",
    title: "PMC article full text",
    description: "An article's full text by PMCID (read through article_fulltext): sections, captions, \
                  references and the source that answered.",
    mime_type: JSON,
    read: read_pmc,
    list: None,
    subscribable: false,
});

inventory::submit!(ResourceDescriptor {
    uri: "article://{pmid}/fulltext",
    name: "article_fulltext",
    title: "Article full text by PMID",
    description: "An article's full text by PMID (read through article_fulltext); the abstract and links \
                  when no source is open.",
    mime_type: JSON,
    read: read_article,
    list: None,
    subscribable: false,
});
