//! Durable tantivy indexes that agents create, fill, search, optimize and measure.
