//! The top-level error: a failure of the tool to verify at all (exit 2), never a finding.

use crate::checkpoint::CheckpointError;
use crate::ingest::IngestError;
use crate::keys::KeyError;

/// Why a run could not verify.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    /// An input could not be read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Ingest(#[from] IngestError),

    /// Keys could not be loaded.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Keys(#[from] KeyError),

    /// A checkpoint or checkpoint key could not be read or parsed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Checkpoint(#[from] CheckpointError),

    /// The inputs hold no record at all.
    #[error("{name}: no records (the input is empty or holds only blank lines)")]
    #[diagnostic(
        code(audit_verify::input::empty),
        help("give an export with at least one record")
    )]
    NoRecords {
        /// The input(s).
        name: String,
    },

    /// No record of the input could be read.
    #[error("{name} is not {what}: line {line}: {detail}")]
    #[diagnostic(code(audit_verify::input::not_jsonl))]
    NotAnExport {
        /// The input.
        name: String,
        /// The container it was read as, e.g. "a JSON Lines export".
        what: &'static str,
        /// The first line tried.
        line: u64,
        /// The parser's complaint.
        detail: String,
        /// What the container should hold.
        #[help]
        help: &'static str,
    },

    /// The records match no known profile.
    #[error("{name}: line {line}: the records match no known profile (tried: {candidates})")]
    #[diagnostic(
        code(audit_verify::input::unrecognised),
        help(
            "`audit-verify profiles NAME` shows what each profile expects; force one with --profile NAME, or describe the format in a profile file (docs/profiles.md) and pass --profile FILE"
        )
    )]
    Unrecognised {
        /// The input.
        name: String,
        /// The line looked at.
        line: u64,
        /// Profiles tried.
        candidates: String,
    },

    /// The first record matches more than one profile.
    #[error("{name}: line {line}: the records match several profiles ({candidates})")]
    #[diagnostic(
        code(audit_verify::input::ambiguous),
        help("choose one with --profile NAME")
    )]
    Ambiguous {
        /// The input.
        name: String,
        /// The line looked at.
        line: u64,
        /// Profiles that matched.
        candidates: String,
    },

    /// `--profile` names no built-in profile and no profile file.
    #[error("unknown profile {0:?}: neither a built-in profile nor a readable profile file")]
    #[diagnostic(
        code(audit_verify::usage::profile),
        help(
            "built-in profiles: aat, asqav, agt-audit, agt-cloudevents, agt-filesink, agt-mcp (`audit-verify profiles`); or the path of a profile file"
        )
    )]
    UnknownProfile(String),

    /// A profile file could not be loaded (syntax, validation or a known-answer test).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Profile(#[from] crate::profile::spec::ProfileError),

    /// The HMAC secret file could not be read.
    #[error("cannot read the HMAC secret file {path}: {source}")]
    #[diagnostic(
        code(audit_verify::keys::hmac),
        help("--hmac-key-file takes a file holding the exact secret bytes")
    )]
    HmacKey {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The crypto provider is not available in this build.
    #[error("crypto provider {0:?} is not available in this build")]
    #[diagnostic(
        code(audit_verify::usage::crypto),
        help("build with the default features for aws-lc-rs, or use --crypto rustcrypto")
    )]
    Provider(String),

    /// A key could not be prepared by the crypto provider.
    #[error("{0}")]
    #[diagnostic(code(audit_verify::keys::prepare))]
    KeyPrepare(String),

    /// The `--anchor` certificate cannot be used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Anchor(#[from] crate::cert::CertError),

    /// The worker pool could not start.
    #[error("cannot start worker threads: {0}")]
    #[diagnostic(code(audit_verify::threads))]
    Threads(String),
}
