//! The MCP face of the router: tools, resources, prompts, completions, logging and tasks, each
//! delegating to the module that owns it; every call goes through the one router.

// logging/setLevel is deprecated for 2026-07-28 peers (SEP-2577) and current for 2025-11-25 ones.
#![allow(deprecated)]

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use mcp_tools::protocol::TaskSupport;
use mcp_tools::{CallOptions, CallOutcome, ErrorKind, Principal, Router, ToolError, ToolInfo, Toolsets};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams, ClientCapabilities,
    CompleteRequestParams, CompleteResult, ContentBlock, CustomRequest, CustomResult, GetPromptRequestParams,
    GetPromptResponse, GetTaskParams, GetTaskResult, Implementation, JsonObject, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, SetLevelRequestParams, SubscribeRequestParams, SubscriptionFilter, Tool, ToolAnnotations,
    UnsubscribeRequestParams, UpdateTaskParams,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::bridge::PeerBridge;
use crate::mrtr::Rounds;
use crate::toolsets::{Selection, ToolLists};
use crate::{completion, logging, prompts, resources, tasks, toolsets};

/// pipette's MCP server handler: cheap to clone, one router behind it. Each MCP session gets its own
/// clone through [`PipetteServer::for_session`], which tags its logs and subscriptions.
#[derive(Clone)]
pub struct PipetteServer {
    router: Router,
    tools: Arc<ToolLists>,
    /// The toolsets a new session starts with (`--toolsets`).
    toolsets: Toolsets,
    /// This session's toolsets (`toolset_enable` adds to them).
    selection: Selection,
    session: u64,
    /// Who an HTTP session without a token acts as: one random principal per session.
    session_principal: Principal,
    /// Whether this (stdio) session's client roots were read since they last changed.
    roots_read: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) subscriptions: Arc<resources::Subscriptions>,
}

impl std::fmt::Debug for PipetteServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipetteServer")
            .field("tools", &self.tools.len())
            .field("toolsets", &toolsets::current(&self.selection))
            .field("session", &self.session)
            .finish()
    }
}

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

fn object(v: serde_json::Value) -> Arc<JsonObject> {
    match v {
        serde_json::Value::Object(o) => Arc::new(o),
        _ => Arc::new(JsonObject::new()),
    }
}

/// A tool as tools/list shows it. Every byte is paid in every conversation: the annotations say only
/// what differs from the spec's defaults, and the router's metadata (runtime, priority, deadline, cache)
/// is left to TOOLS.md and `pipette tools`.
pub(crate) fn to_tool(info: &ToolInfo) -> Tool {
    let d = info.descriptor;
    let description = match d.deprecated {
        Some(why) => format!("[deprecated: {why}] {}", d.description),
        None => d.description.to_owned(),
    };
    let a = d.annotations;
    let mut annotations = ToolAnnotations::default();
    if a.read_only {
        annotations.read_only_hint = Some(true);
    } else {
        annotations.destructive_hint = Some(a.destructive);
        annotations.idempotent_hint = a.idempotent.then_some(true);
    }
    annotations.open_world_hint = (!a.open_world).then_some(false);
    Tool::new(d.name, description, object(info.input_schema().clone()))
        .with_raw_output_schema(object(info.mcp_output_schema().clone()))
        .with_annotations(annotations)
}

pub(crate) fn error_result(e: &ToolError) -> CallToolResult {
    let mut meta = rmcp::model::MetaObject::new();
    meta.insert("pipette/error".into(), serde_json::to_value(e).unwrap_or_default());
    CallToolResult::error(vec![ContentBlock::text(format!("{} error: {}", e.kind.as_str(), e.message))])
        .with_meta(Some(meta))
}

/// The `tools/call` result of `tool`'s value: its content blocks (rich output), else its text for a model
/// (the result's own markdown, else a markdown view of its JSON; bounded by `PIPETTE_MAX_RESULT_BYTES`, a cut
/// saying what was left out and how to get it), with the value as structured content (less the markdown,
/// which is the text). Shared by direct calls, job tickets and finished tasks.
pub(crate) fn done_result(
    tool: &str,
    args: &serde_json::Value,
    mut value: serde_json::Value,
) -> CallToolResult {
    let blocks = tool_metadata::RichOutput::from_value(&value)
        .and_then(|rich| serde_json::to_value(rich).ok())
        .and_then(|v| serde_json::from_value::<Vec<ContentBlock>>(v).ok());
    let content = blocks.unwrap_or_else(|| {
        vec![ContentBlock::text(mcp_tools::result_text(tool, args, &value, mcp_tools::max_result_bytes()))]
    });
    if let Some(object) = value.as_object_mut() {
        object.remove(mcp_tools::MARKDOWN_KEY);
    }
    let mut result = CallToolResult::structured(value);
    result.content = content;
    result
}

impl PipetteServer {
    /// A server over `router`.
    pub fn new(router: Router) -> PipetteServer {
        let tools = Arc::new(ToolLists::new(&router));
        let subscriptions = Arc::new(resources::Subscriptions::new(router.clone()));
        let toolsets = Toolsets::default();
        let selection = Arc::new(RwLock::new(toolsets));
        PipetteServer {
            router,
            tools,
            toolsets,
            selection,
            session: 0,
            session_principal: Principal::anonymous(),
            roots_read: Arc::default(),
            subscriptions,
        }
        .for_session()
    }

    /// The server with `toolsets` as what each new session lists and may call.
    pub fn with_toolsets(self, toolsets: Toolsets) -> PipetteServer {
        PipetteServer { toolsets, selection: Arc::new(RwLock::new(toolsets)), ..self }
    }

    /// A handler for a new MCP session: same router and tools, its own session tag and toolsets (and, for
    /// an HTTP session without a token, its own principal).
    pub fn for_session(&self) -> PipetteServer {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        PipetteServer {
            session: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            selection: Arc::new(RwLock::new(self.toolsets)),
            session_principal: Principal::named(format!("session-{}", &tag[..16]), false),
            roots_read: Arc::default(),
            ..self.clone()
        }
    }

    /// Who a request acts for. stdio (no HTTP request behind it): the local user. HTTP: the principal of
    /// its bearer token when it has one, else its session's own principal, else (a request without a
    /// session: 2026-07-28 stateless) `anonymous`, which can follow a job by id but lists nothing.
    pub(crate) fn principal(&self, context: &RequestContext<RoleServer>) -> Principal {
        let Some(parts) = context.extensions.get::<axum::http::request::Parts>() else {
            return Principal::local();
        };
        if let Some(auth) = crate::http::authenticated(&context.extensions) {
            return Principal::named(auth.principal, auth.operator);
        }
        if parts.headers.contains_key("mcp-session-id") {
            return self.session_principal.clone();
        }
        Principal::anonymous()
    }

    /// Before a call that reads files or runs projects: a local (stdio) client that declared `roots` has
    /// them read once (again after `notifications/roots/list_changed`) and allowed, unless
    /// `PIPETTE_ALLOWED_ROOTS` is set. HTTP clients' roots are never used: their files are not this
    /// machine's.
    async fn read_client_roots(&self, tool: &str, context: &RequestContext<RoleServer>) {
        let needs_files = self.router.registry().get(tool).is_some_and(|t| {
            matches!(t.descriptor.category, mcp_tools::Category::Testing | mcp_tools::Category::Indexing)
        });
        if !needs_files
            || self.roots_read.load(Ordering::Acquire)
            || context.extensions.get::<axum::http::request::Parts>().is_some()
            || context.peer.peer_info().is_none()
            || context.client_capabilities().is_none_or(|c| c.roots.is_none())
        {
            return;
        }
        let Some(roots) = self.router.roots().filter(|r| r.accepts_client_roots()) else { return };
        self.roots_read.store(true, Ordering::Release);
        match tokio::time::timeout(std::time::Duration::from_secs(5), context.peer.list_roots()).await {
            Ok(Ok(list)) => {
                let uris: Vec<String> = list.roots.iter().map(|r| r.uri.clone()).collect();
                roots.set_client_roots(&uris);
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the client's roots/list failed; using the default roots")
            }
            Err(_) => tracing::warn!("the client did not answer roots/list in 5 s; using the default roots"),
        }
    }

    /// The rounds of a request whose client answers questions by retrying it (2026-07-28: no
    /// `initialize` session behind it); `None` for a 2025-11-25 session, which is asked directly.
    pub(crate) fn rounds(
        &self,
        context: &RequestContext<RoleServer>,
        method: &str,
        name: &str,
        arguments: &serde_json::Value,
        responses: Option<&rmcp::model::InputResponses>,
        state: Option<&str>,
    ) -> Result<Option<Arc<Rounds>>, McpError> {
        if !crate::mrtr::answers_by_retrying(context) {
            return Ok(None);
        }
        Rounds::open(&self.principal(context), method, name, arguments, responses, state)
            .map(|r| Some(Arc::new(r)))
    }

    /// `tools/call`; `task_requested`: a 2025-11-25 task-augmented call (its `task` parameter), a task at once.
    pub(crate) async fn call(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
        task_requested: bool,
    ) -> Result<CallToolResponse, McpError> {
        if let Some(answer) = toolsets::intercept(&self.router, &self.selection, &request, &context).await {
            return answer;
        }
        let support = mcp_tools::protocol::task_support(&request.name);
        let takes_tasks = task_requested || tasks::accepted(&context);
        if support == TaskSupport::Required && !takes_tasks {
            // Such a tool only answers as a task (SEP-2663): a client that cannot take one is refused.
            let needs = ClientCapabilities::builder().enable_tasks().build();
            return Err(McpError::missing_required_client_capability(needs));
        }
        let mut arguments = request.arguments.unwrap_or_default();
        if task_requested {
            arguments.insert("async_mode".into(), true.into());
        }
        let args = serde_json::Value::Object(arguments);
        let asked = args.clone();
        let rounds = self.rounds(
            &context,
            "tools/call",
            &request.name,
            &args,
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        )?;
        let token = context.meta.get_progress_token();
        let (tx, mut rx) = mpsc::unbounded_channel();
        // A call that is a task from its start (declared so, or `async_mode: true`) asks its questions as one.
        let task_first = takes_tasks
            && (support == TaskSupport::Immediate
                || args.get("async_mode") == Some(&serde_json::Value::Bool(true)));
        let bridge = Arc::new(PeerBridge::new(&context, rounds.clone()).task_first(task_first));
        let options = CallOptions {
            progress: token.is_some().then_some(tx),
            cancel: context.ct.clone(),
            inline_ms: task_first.then_some(0),
            client: Some(bridge.clone()),
        };
        let span = tracing::info_span!("mcp_call", mcp_session = self.session, tool = %request.name);
        let router = self.router_for(&context);
        self.read_client_roots(&request.name, &context).await;
        let call = router.call(&request.name, args, options).instrument(span);
        tokio::pin!(call);
        let notify = |update: tool_metadata::ProgressUpdate| {
            let peer = context.peer.clone();
            let token = token.clone();
            async move {
                let Some(token) = token else { return };
                let mut p = ProgressNotificationParam::new(token, update.current as f64);
                p.total = update.total.map(|t| t as f64);
                p.message = update.message;
                if let Err(e) = peer.notify_progress(p).await {
                    tracing::debug!(error = %e, "progress notification not delivered");
                }
            }
        };
        let outcome = loop {
            tokio::select! {
                out = &mut call => break out,
                Some(update) = rx.recv() => notify(update).await,
            }
        };
        // Every progress report goes out before the result, so clients never lose the last ones.
        while let Ok(update) = rx.try_recv() {
            notify(update).await;
        }
        // Likewise the call's log messages.
        logging::flush(self.session).await;
        // A round that asked the client something ends with what it asked (2026-07-28).
        if !matches!(outcome, Ok(CallOutcome::Job(_)))
            && let Some(asked) = rounds.as_ref().and_then(|r| r.outcome())
        {
            return asked.map(CallToolResponse::InputRequired);
        }
        match outcome {
            Ok(CallOutcome::Done(value)) => Ok(done_result(&request.name, &asked, value).into()),
            // A client that speaks Tasks gets its job as a task (task id = job id).
            Ok(CallOutcome::Job(ticket)) if takes_tasks => {
                bridge.became_task(&ticket.job_id);
                Ok(tasks::created(&router, &ticket, &context))
            }
            Ok(job @ CallOutcome::Job(_)) => Ok(done_result(&request.name, &asked, job.into_value()).into()),
            Err(e) if e.kind == ErrorKind::UnknownTool => Err(McpError::invalid_params(
                Cow::Owned(e.message.clone()),
                Some(serde_json::to_value(&e).unwrap_or_default()),
            )),
            Err(e) => Ok(error_result(&e).into()),
        }
    }

    /// The router, acting for the request's principal.
    pub(crate) fn router_for(&self, context: &RequestContext<RoleServer>) -> Router {
        self.router.acting_for(self.principal(context))
    }

    /// This handler's session tag (logs and subscriptions are kept per session).
    pub fn session(&self) -> u64 {
        self.session
    }

    /// The router behind the server.
    pub fn router(&self) -> &Router {
        &self.router
    }
}

impl ServerHandler for PipetteServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_prompts()
            .enable_completions()
            .enable_logging()
            .enable_tasks()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("pipette", env!("CARGO_PKG_VERSION")).with_title("pipette"))
            .with_instructions(
                "pipette: PubMed, ClinicalTrials.gov, mutation→trial matching, biomolecules, articles' full text \
                 and citations (the fulltext toolset), a local full-text index and a structured test runner. Long calls answer {job_id}; follow them with job_status \
                 (or as MCP tasks). Every tool also accepts async_mode: true (start as a job at once). Tools come in \
                 toolsets: toolsets_list shows them all, toolset_enable adds one to this session. Read-only views \
                 are resources (resources/templates/list: pubmed://, trial://, pmc://, article://, index://, job://); ready-made \
                 workflows are prompts (prompts/list).",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let listed = self.tools.listed(toolsets::current(&self.selection));
        Ok(ListToolsResult::with_all_items(listed.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.get(name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        self.call(request, context, false).await
    }

    async fn on_roots_list_changed(&self, _context: rmcp::service::NotificationContext<RoleServer>) {
        self.roots_read.store(false, Ordering::Release);
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        logging::set_level(self.session, context.peer.clone(), request.level);
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(prompts::list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let args =
            request.arguments.clone().map(serde_json::Value::Object).unwrap_or(serde_json::Value::Null);
        let rounds = self.rounds(
            &context,
            "prompts/get",
            &request.name,
            &args,
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        )?;
        let bridge = Arc::new(PeerBridge::new(&context, rounds.clone()));
        let got =
            mcp_tools::protocol::with_client(bridge, prompts::get(&self.router_for(&context), request)).await;
        if let Some(asked) = rounds.as_ref().and_then(|r| r.outcome()) {
            return asked.map(GetPromptResponse::InputRequired);
        }
        got.map(Into::into)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        resources::list(&self.router_for(&context)).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let rounds = self.rounds(
            &context,
            "resources/read",
            &request.uri,
            &serde_json::Value::Null,
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        )?;
        let bridge = Arc::new(PeerBridge::new(&context, rounds.clone()));
        let read = mcp_tools::protocol::with_client(
            bridge,
            resources::read(&self.router_for(&context), &request.uri),
        )
        .await;
        if let Some(asked) = rounds.as_ref().and_then(|r| r.outcome()) {
            return asked.map(ReadResourceResponse::InputRequired);
        }
        read.map(Into::into)
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions.subscribe(
            &self.router_for(&context),
            self.session,
            resources::Target::Peer(context.peer.clone()),
            &request.uri,
        )
    }

    fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        // 2026-07-28 sessions: resource updates for the subscribable resources asked for (job://...).
        let mut accepted = SubscriptionFilter::new();
        let asked = requested.resource_subscriptions.as_deref().unwrap_or_default();
        accepted.resource_subscriptions = Some(resources::Subscriptions::listenable(asked));
        // And changes of the server-wide tool list.
        accepted.tools_list_changed = requested.tools_list_changed.filter(|asked| *asked);
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        static NEXT_LISTEN: AtomicU64 = AtomicU64::new(1 << 62);
        let id = NEXT_LISTEN.fetch_add(1, Ordering::Relaxed);
        let uris = context.accepted().resource_subscriptions.clone().unwrap_or_default();
        let router = self.router_for(context.request_context());
        for uri in &uris {
            let target = resources::Target::Listen(context.sink().clone());
            self.subscriptions.subscribe(&router, id, target, uri)?;
        }
        let mut tools =
            context.accepted().tools_list_changed.unwrap_or(false).then(mcp_tools::protocol::tools_changes);
        loop {
            tokio::select! {
                () = context.cancelled() => break,
                Some(heard) = async { match tools.as_mut() { Some(rx) => Some(rx.recv().await), None => None } } => {
                    let sent = match heard {
                        Ok(()) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            context.sink().notify_tool_list_changed().await.map_err(|e| e.to_string())
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => Err("no more changes".to_owned()),
                    };
                    if let Err(e) = sent {
                        tracing::debug!(error = %e, "a tools/list_changed notification was not delivered");
                        tools = None;
                    }
                }
            }
        }
        for uri in &uris {
            self.subscriptions.unsubscribe(id, uri);
        }
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions.unsubscribe(self.session, &request.uri);
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        completion::complete(&self.router_for(&context), request).await
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        tasks::get(&self.router_for(&context), &request.task_id)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        tasks::cancel(&self.router_for(&context), &request.task_id).await
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        tasks::update(&self.router_for(&context), request)
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        tasks::custom(self, &self.router_for(&context), request, context).await
    }
}
