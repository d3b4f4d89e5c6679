//! The typed errors of every upstream call, each naming the service and what to do.
