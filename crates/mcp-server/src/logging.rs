//! Logging: stderr (tracing's fmt) and, for clients that asked with `logging/setLevel`, MCP
//! `notifications/message` fed from the same tracing events, filtered by each client's level.
//!
//! Events inside a tool call (the `mcp_call` span, which the router carries into the call's tasks)
//! go to the calling session only; other events go to every session that set a level.

// Logging and sampling are deprecated for 2026-07-28 peers (SEP-2577) and current for 2025-11-25 ones.
#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use rmcp::RoleServer;
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::Peer;
use tokio::sync::{mpsc, oneshot};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Only pipette's own events reach clients (never the transport's, which would loop on themselves).
const TARGETS: [&str; 8] =
    ["mcp_tools", "mcp_server", "core_", "tool_metadata", "pipette", "cli", "xtask", "tests"];

enum Item {
    Message(LoggingMessageNotificationParam),
    Flush(oneshot::Sender<()>),
}

struct Session {
    level: LoggingLevel,
    tx: mpsc::UnboundedSender<Item>,
}

fn sessions() -> &'static Mutex<HashMap<u64, Session>> {
    static SESSIONS: OnceLock<Mutex<HashMap<u64, Session>>> = OnceLock::new();
    SESSIONS.get_or_init(Default::default)
}

/// The rank of the most verbose level any session wants (`NOBODY` when none does): a lock-free check
/// that keeps unwanted events from being built at all.
static MIN_RANK: AtomicU8 = AtomicU8::new(NOBODY);
const NOBODY: u8 = u8::MAX;

fn update_min_rank(map: &HashMap<u64, Session>) {
    let min = map.values().map(|s| rank(s.level)).min().unwrap_or(NOBODY);
    MIN_RANK.store(min, Ordering::Relaxed);
}

fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

fn from_tracing(level: &Level) -> LoggingLevel {
    match *level {
        Level::ERROR => LoggingLevel::Error,
        Level::WARN => LoggingLevel::Warning,
        Level::INFO => LoggingLevel::Info,
        _ => LoggingLevel::Debug,
    }
}

/// `logging/setLevel` from `session`: from now on it receives pipette's events at `level` and above.
pub(crate) fn set_level(session: u64, peer: Peer<RoleServer>, level: LoggingLevel) {
    let mut map = sessions().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = map.get_mut(&session) {
        s.level = level;
        update_min_rank(&map);
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Item>();
    tokio::spawn(async move {
        while let Some(item) = rx.recv().await {
            match item {
                Item::Message(m) => {
                    #[allow(deprecated)] // deprecated for 2026-07-28 peers (SEP-2577); current for 2025-11-25
                    if peer.notify_logging_message(m).await.is_err() {
                        break; // the client went away
                    }
                }
                Item::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
        let mut map = sessions().lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&session);
        update_min_rank(&map);
    });
    map.insert(session, Session { level, tx });
    update_min_rank(&map);
}

/// Waits until the messages queued for `session` so far have been handed to its transport.
pub(crate) async fn flush(session: u64) {
    if MIN_RANK.load(Ordering::Relaxed) == NOBODY {
        return; // nobody listens: nothing queued
    }
    let rx = {
        let map = sessions().lock().unwrap_or_else(|p| p.into_inner());
        let Some(s) = map.get(&session) else { return };
        let (tx, rx) = oneshot::channel();
        if s.tx.send(Item::Flush(tx)).is_err() {
            return;
        }
        rx
    };
    let _ = rx.await;
}

/// The tracing layer that feeds clients.
pub(crate) struct McpLogLayer;

struct SessionTag(u64);

#[derive(Default)]
struct Fields {
    message: Option<String>,
    rest: serde_json::Map<String, serde_json::Value>,
    session: Option<u64>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.rest.insert(field.name().to_owned(), text.into());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.rest.insert(field.name().to_owned(), value.into());
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "mcp_session" {
            self.session = Some(value);
        }
        self.rest.insert(field.name().to_owned(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rest.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rest.insert(field.name().to_owned(), value.into());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for McpLogLayer {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        if attrs.metadata().name() != "mcp_call" {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(session), Some(span)) = (fields.session, ctx.span(id)) {
            span.extensions_mut().insert(SessionTag(session));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !TARGETS.iter().any(|t| meta.target().starts_with(t)) {
            return;
        }
        let map = sessions().lock().unwrap_or_else(|p| p.into_inner());
        if map.is_empty() {
            return;
        }
        let level = from_tracing(meta.level());
        let target_session = ctx.event_scope(event).and_then(|scope| {
            scope.from_root().find_map(|s| s.extensions().get::<SessionTag>().map(|t| t.0))
        });
        let mut fields = Fields::default();
        event.record(&mut fields);
        let data = if fields.rest.is_empty() {
            serde_json::Value::String(fields.message.unwrap_or_default())
        } else {
            let mut obj = fields.rest;
            if let Some(m) = fields.message {
                obj.insert("message".into(), m.into());
            }
            serde_json::Value::Object(obj)
        };
        for (id, s) in map.iter() {
            if target_session.is_some_and(|t| t != *id) || rank(level) < rank(s.level) {
                continue;
            }
            let param = LoggingMessageNotificationParam::new(level, data.clone()).with_logger(meta.target());
            let _ = s.tx.send(Item::Message(param));
        }
    }
}

fn ours(meta: &tracing::Metadata<'_>) -> bool {
    TARGETS.iter().any(|t| meta.target().starts_with(t))
}

fn enabled<S>(meta: &tracing::Metadata<'_>, _cx: &tracing_subscriber::layer::Context<'_, S>) -> bool {
    let min = MIN_RANK.load(Ordering::Relaxed);
    if meta.is_span() {
        // The call's span only matters while some client listens: otherwise it is never built.
        return meta.name() == "mcp_call" && min != NOBODY;
    }
    ours(meta) && rank(from_tracing(meta.level())) >= min
}

fn interest(meta: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
    if ours(meta) || (meta.is_span() && meta.name() == "mcp_call") {
        tracing::subscriber::Interest::sometimes()
    } else {
        tracing::subscriber::Interest::never()
    }
}

/// The layer's filter: the `mcp_call` spans, and pipette's events at a level some session wants —
/// decided per event (levels change at run time), but only for pipette's own callsites.
pub(crate) fn filter<S>() -> tracing_subscriber::filter::DynFilterFn<S> {
    let enabled: fn(&tracing::Metadata<'_>, &tracing_subscriber::layer::Context<'_, S>) -> bool =
        enabled::<S>;
    let interest: fn(&'static tracing::Metadata<'static>) -> tracing::subscriber::Interest = interest;
    tracing_subscriber::filter::DynFilterFn::new(enabled).with_callsite_filter(interest)
}
