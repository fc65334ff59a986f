//! audit-verify: offline verification of AI agent audit-trail exports.
#![forbid(unsafe_code)]
#![warn(missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod crypto;
pub mod keys;
