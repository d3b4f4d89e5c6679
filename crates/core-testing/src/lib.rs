//! Runs a project's test suites and linters as safe child processes and returns one structured result.
