//! Background jobs: calls that outlive their inline budget, recorded durably so they survive a restart.

mod manager;
mod markdown;
mod secrets;
mod store;

pub use manager::{JobManager, JobTicket};
pub(crate) use markdown::list_markdown;
pub(crate) use store::now as now_string;
pub use store::{JobRecord, JobStatus, ProgressJson};
