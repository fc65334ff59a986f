//! audit-verify: offline verification of AI agent audit-trail exports.
//!
//! The library does the work and the binary talks: nothing here prints, exits or reads the
//! environment. [`verify::verify`] reads the inputs of a [`config::VerifyConfig`] and returns a
//! [`report::Report`], whose verdict maps to the exit code; [`report::human`] and
//! [`report::json`] render it.
//!
//! ```text
//! bytes --ingest--> line --profile::aat--> facts + canonical hash + signature --chain--> findings --> report
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod bounded;
pub mod canon;
pub mod cert;
pub mod chain;
pub mod chain_table;
pub mod checkpoint;
#[doc(hidden)]
pub mod cli;
pub mod compact;
pub mod config;
pub mod crypto;
pub mod epoch;
pub mod error;
pub mod finding;
pub mod hexdigits;
pub mod hextree;
pub mod idledger;
pub mod ingest;
pub mod keys;
pub mod merkle;
pub mod profile;
pub mod report;
pub mod sig;
pub mod tables;
pub mod verify;

pub use error::Error;
pub use report::{Report, Verdict};
