//! Background jobs: calls that outlive their inline budget (or were detached), recorded durably so they
//! survive a restart, and queued for any process on the data dir to run.

mod manager;
mod markdown;
mod queue;
mod redis;
mod secrets;
mod store;
mod watch;

pub use manager::{JobManager, JobTicket};
pub(crate) use markdown::list_markdown;
pub(crate) use store::Claimed;
pub(crate) use store::now as now_string;
pub use store::{JobRecord, JobStatus, ProgressJson};
pub use watch::WATCH_FALLBACK;
