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
    /// JUnit XML.
    Junit,
    /// GitHub Actions workflow commands.
    Github,
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
    /// Worker threads (`None` or 0: all cores; at most [`crate::verify::MAX_JOBS`]).
    pub jobs: Option<usize>,
    /// Crypto provider name (`aws-lc-rs` or `rustcrypto`).
    pub provider: String,
    /// `--anchor`: a previous certificate whose chain heads the export must continue.
    pub anchor: Option<PathBuf>,
    /// Keys that may have signed the anchor certificate (default: `keys`).
    pub anchor_keys: Vec<PathBuf>,
    /// `--since`: records before it are hashed and linked, not signature-checked.
    pub since: Option<jiff::Timestamp>,
    /// `--until`: records after it are hashed and linked, not signature-checked.
    pub until: Option<jiff::Timestamp>,
    /// Compute every record's Merkle leaf and each chain's compact range (for certificates).
    pub merkle_state: bool,
    /// Findings stored per code (the JSON report lists at most this many of each code).
    pub max_stored_per_code: usize,
    /// Chains checked at most (`--max-chains`); records of further chains are counted only and
    /// make the run inconclusive (`limit.chains`).
    pub max_chains: usize,
    /// Checkpoint files (`--checkpoint`): C2SP signed notes or JSON checkpoints.
    pub checkpoints: Vec<PathBuf>,
    /// Note verifier keys (`--checkpoint-key`): vkeys, or files of vkeys.
    pub checkpoint_keys: Vec<String>,
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
            max_chains: crate::chain_table::DEFAULT_MAX_CHAINS,
            merkle_state: false,
            since: None,
            until: None,
            anchor: None,
            anchor_keys: Vec::new(),
            checkpoints: Vec::new(),
            checkpoint_keys: Vec::new(),
        }
    }
}

/// Parses `--since`/`--until`: an RFC 3339 instant, or a duration back from `now` written as a
/// whole number and a unit: `s`, `m`, `h`, `d` (24 hours) or `w` (7 days), e.g. `24h`, `7d`.
///
/// # Errors
/// A message saying what is accepted.
pub fn parse_instant_or_duration(
    text: &str,
    now: jiff::Timestamp,
) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| {
        format!("{text:?} is neither an RFC 3339 instant nor a duration like 24h or 7d")
    })?;
    let secs_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use s, m, h, d or w)"
            ));
        }
    };
    let secs = n
        .checked_mul(secs_per)
        .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    now.checked_sub(jiff::SignedDuration::from_secs(secs))
        .map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_count_back_from_now() {
        let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let at = |s: &str| parse_instant_or_duration(s, now).unwrap().to_string();
        assert_eq!(at("24h"), "2026-11-21T12:00:00Z");
        assert_eq!(at("7d"), "2026-11-15T12:00:00Z");
        assert_eq!(at("90m"), "2026-11-22T10:30:00Z");
        assert_eq!(at("2026-10-01T12:00:00+02:00"), "2026-10-01T10:00:00Z");
        for bad in ["", "h", "24y", "-3h", "99999999999999999w", "yesterday"] {
            assert!(parse_instant_or_duration(bad, now).is_err(), "{bad}");
        }
    }
}
