//! Which tools support MCP tasks and how (SEP-2663's `taskSupport`). Every pipette tool may continue as a
//! job, so every tool supports tasks optionally unless it declares otherwise here, through `inventory`:
//! `Required` tools are refused to clients that do not accept tasks (they cannot answer inline), and
//! `Immediate` tools become a task at once (no inline budget) for clients that accept tasks.

/// How a tool takes part in MCP tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSupport {
    /// A task when the call outlives its inline budget (or asks for `async_mode`); the default.
    Optional,
    /// A task at once for a client that accepts tasks; an inline answer (or a job ticket) for others.
    Immediate,
    /// Only as a task: a client that does not accept tasks is refused.
    Required,
}

/// One tool's declared task support.
#[derive(Debug)]
pub struct TaskSupportDecl {
    /// The tool's name.
    pub tool: &'static str,
    /// Its support.
    pub support: TaskSupport,
}

inventory::collect!(TaskSupportDecl);

/// The task support of `tool` ([`TaskSupport::Optional`] unless declared).
pub fn task_support(tool: &str) -> TaskSupport {
    inventory::iter::<TaskSupportDecl>
        .into_iter()
        .find(|d| d.tool == tool)
        .map_or(TaskSupport::Optional, |d| d.support)
}
