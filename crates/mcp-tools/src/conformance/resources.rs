//! Resource fixtures: `test://static-text`, `test://static-binary`, the template
//! `test://template/{id}/data` and the subscribable `test://watched-resource`.

use serde_json::json;
use tool_metadata::{ResourceBody, ToolError};

use crate::Router;
use crate::protocol::{ProtocolFuture, ResourceDescriptor, ResourceRequest};

fn ready(body: Result<ResourceBody, ToolError>) -> ProtocolFuture<Vec<ResourceBody>> {
    Box::pin(async move { body.map(|b| vec![b]) })
}

fn static_text(_: Router, r: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    ready(Ok(ResourceBody::text(r.uri, "text/plain", "This is the content of the static text resource.")))
}

fn static_binary(_: Router, r: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    ready(Ok(ResourceBody::blob(r.uri, "image/png", super::png_base64())))
}

fn template_data(_: Router, r: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    let body = r.param("id").map(|id| {
        let value = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
        ResourceBody::text(r.uri.clone(), "application/json", value.to_string())
    });
    ready(body)
}

fn watched(_: Router, r: ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>> {
    ready(Ok(ResourceBody::text(r.uri, "text/plain", "Watched resource content")))
}

inventory::submit! {
    ResourceDescriptor {
        uri: "test://static-text",
        name: "static-text",
        title: "Static text",
        description: "Conformance fixture: a static text resource.",
        mime_type: "text/plain",
        read: static_text,
        list: None,
        subscribable: false,
    }
}

inventory::submit! {
    ResourceDescriptor {
        uri: "test://static-binary",
        name: "static-binary",
        title: "Static binary",
        description: "Conformance fixture: a static binary resource (a 1x1 PNG).",
        mime_type: "image/png",
        read: static_binary,
        list: None,
        subscribable: false,
    }
}

inventory::submit! {
    ResourceDescriptor {
        uri: "test://template/{id}/data",
        name: "template-data",
        title: "Template data",
        description: "Conformance fixture: a resource template whose {id} is echoed in the JSON it returns.",
        mime_type: "application/json",
        read: template_data,
        list: None,
        subscribable: false,
    }
}

inventory::submit! {
    ResourceDescriptor {
        uri: "test://watched-resource",
        name: "watched-resource",
        title: "Watched resource",
        description: "Conformance fixture: a resource clients may subscribe to.",
        mime_type: "text/plain",
        read: watched,
        list: None,
        subscribable: true,
    }
}
