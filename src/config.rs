//! Resolved configuration: plain data, no clap types. Built from [`crate::cli::Cli`] by the
//! binary, or directly by library users and tests.

use std::path::PathBuf;

use crate::ingest::{InputFormat, Source};
use crate::report::human::HumanStyle;

/// Report formats.
#[derive(Debug, Clone, Copy)]
pub enum OutputFormat {
    /// Text for people.
    Human(HumanStyle),
    /// `audit-verify/report/v1` JSON.
    Json,
}

/// Everything `verify` needs.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// Inputs in order.
    pub inputs: Vec<Source>,
    /// Key files and directories.
    pub keys: Vec<PathBuf>,
    /// Forced container (default: detected from the content).
    pub input_format: Option<InputFormat>,
    /// Forced profile: a built-in name or a profile file path.
    pub profile: Option<String>,
    /// The HMAC secret file for HMAC-chained formats.
    pub hmac_key_file: Option<PathBuf>,
    /// Unsigned records are failures.
    pub require_signatures: bool,
    /// Open head or tail makes the verdict inconclusive.
    pub require_complete: bool,
    /// Report format.
    pub format: OutputFormat,
    /// Worker threads (`None`: all cores).
    pub jobs: Option<usize>,
    /// Crypto provider name (`aws-lc-rs` or `rustcrypto`).
    pub provider: String,
    /// Findings stored per code (the JSON report lists at most this many of each code).
    pub max_stored_per_code: usize,
}

impl VerifyConfig {
    /// A configuration with defaults for the given inputs and keys.
    pub fn new(inputs: Vec<PathBuf>, keys: Vec<PathBuf>) -> Self {
        VerifyConfig {
            inputs: inputs.iter().map(|p| Source::from_path(p)).collect(),
            keys,
            input_format: None,
            profile: None,
            hmac_key_file: None,
            require_signatures: false,
            require_complete: false,
            format: OutputFormat::Json,
            jobs: None,
            provider: crate::crypto::default_provider().name().to_string(),
            max_stored_per_code: 1000,
        }
    }
}
