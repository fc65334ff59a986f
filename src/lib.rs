//! audit-verify: offline verification of AI agent audit-trail exports.
#![forbid(unsafe_code)]
pub mod canon;
