//! Research resources: a PubMed article, a ClinicalTrials.gov study.

use core_scrapers::pubmed;
use serde_json::json;
use tool_metadata::{ResourceBody, ToolError};

use super::{JSON, no_query};
use crate::protocol::{ProtocolFuture, ResourceDescriptor, ResourceRequest};
use crate::{Error, Router};

fn read_pubmed(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &[])?;
        let pmid = pubmed::normalize_pmid(req.param("pmid")?, "pmid").map_err(Error::from)?;
        let result = router.call_now("pubmed_fetch", json!({ "pmids": [pmid] })).await?;
        match result["articles"].as_array().and_then(|a| a.iter().find(|a| a["pmid"] == pmid)) {
            Some(article) => Ok(vec![ResourceBody::json(&req.uri, article)]),
            None => Err(ToolError::not_found(format!("PubMed has no article {pmid}")).with_param("pmid")),
        }
    })
}

fn read_trial(router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        no_query(&req, &["sections"])?;
        // trial_get checks the NCT number (its error names `nct_id`) and normalises its case.
        let nct_id = req.param("nct_id")?;
        let sections: Vec<&str> = match req.query.get("sections") {
            Some(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
            None => Vec::new(),
        };
        let args = json!({ "nct_id": nct_id, "sections": sections });
        let trial = router.call_now("trial_get", args).await?;
        Ok(vec![ResourceBody::json(&req.uri, &trial)])
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
