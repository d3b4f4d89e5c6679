//! Saved workflows as resources: `workflow://saved/{name}` is the definition to pass to `workflow_run`, its
//! arguments from the query (`?query=…&index=…`, `?mutations=A,B&condition=…`).

use std::collections::BTreeMap;

use tool_metadata::{ResourceBody, ToolError};

use super::JSON;
use crate::Router;
use crate::protocol::{ListedResource, ProtocolFuture, ResourceDescriptor, ResourceRequest, UriTemplate};
use crate::workflow::{SAVED, saved};

fn read_saved(_router: Router, req: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move {
        let name = req.param("name")?;
        let def = saved(name, &req.query).ok_or_else(|| {
            let names: Vec<&str> = SAVED.iter().map(|(n, _)| *n).collect();
            ToolError::not_found(format!("no saved workflow `{name}`; expected one of {}", names.join(", ")))
                .with_param("name")
        })?;
        let value = serde_json::to_value(&def).map_err(|e| ToolError::internal(e.to_string()))?;
        Ok(vec![ResourceBody::json(&req.uri, &value)])
    })
}

fn list_saved(_router: Router) -> ProtocolFuture<Vec<ListedResource>> {
    Box::pin(async move {
        Ok(SAVED
            .iter()
            .map(|(name, what)| ListedResource {
                uri: UriTemplate::new("workflow://saved/{name}").expand(&BTreeMap::from([("name", *name)])),
                name: format!("workflow {name}"),
                description: Some((*what).to_owned()),
                mime_type: Some(JSON.to_owned()),
            })
            .collect())
    })
}

inventory::submit!(ResourceDescriptor {
    uri: "workflow://saved/{name}",
    name: "saved_workflow",
    title: "Saved workflow",
    description: "A built-in workflow definition (literature-to-index, mutation-panel) for workflow_run; its \
                  arguments from the query, e.g. ?query=BRAF&index=papers or ?mutations=EGFR L858R.",
    mime_type: JSON,
    read: read_saved,
    list: Some(list_saved),
    subscribable: false,
});
