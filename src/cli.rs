//! The command line, as typed: clap definitions only. [`crate::config`] turns them into checked
//! values. The man page and shell completions are generated from these definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const VERIFY_EXAMPLES: &str = "\
Examples:
  Verify an export with the producer's keys:
    audit-verify verify export.jsonl --keys vendor-jwks.json

  The same; verify is the default command:
    audit-verify export.jsonl --keys keys/

  Gate CI on a machine-readable report, failing on unsigned records:
    audit-verify verify today.jsonl --keys keys/ --format json --require-signatures

  Hold the export against the log's signed checkpoint (truncation then fails):
    audit-verify verify export.jsonl --keys keys/ --checkpoint log.checkpoint \
      --checkpoint-key 'log.example/audit+1a2b3c4d+AaBb...'

Exit codes: 0 verified, 1 failed, 2 error (could not verify), 3 inconclusive.

Environment:
  NO_COLOR  no colour in the human report (as --color never)
  TMPDIR    where the export-wide record-id check (asqav, AGT) writes its temporary file
            past 16,384 ids: 40 bytes a record, removed when the run ends";

/// Verify AI agent audit-trail exports offline: canonical hashes, chain links, sequence numbers,
/// timestamps and signatures, with a clear verdict and the exact failing record.
#[derive(Debug, Parser)]
#[command(
    name = "audit-verify",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_long_help = VERIFY_EXAMPLES
)]
pub struct Cli {
    /// The subcommand (default: verify).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Arguments of the default verify command.
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify one or more exports (the default command).
    ///
    /// Every record is parsed strictly, canonicalized (RFC 8785) and hashed; chain links,
    /// parent ids, sequence numbers, timestamps, session close records and signatures are
    /// recomputed; the verdict says which of integrity, authenticity and completeness were
    /// established for each chain.
    #[command(after_long_help = VERIFY_EXAMPLES)]
    Verify(Box<VerifyArgs>),

    /// Check a verification certificate and print what it certifies.
    #[command(subcommand)]
    Cert(CertCommand),

    /// Write an auditor's signing key pair (PKCS#8 private key, SPKI public key).
    ///
    /// The private key file is created with mode 0600; existing files are never overwritten.
    #[command(
        after_long_help = "Example:\n  audit-verify keygen --alg es256 --out ~/.audit-verify"
    )]
    Keygen {
        /// Algorithm.
        #[arg(long, value_enum)]
        alg: KeygenAlg,
        /// Directory to write the key pair into (created if absent).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },

    /// Merge the certificates of consecutive shards of one export into one certificate.
    ///
    /// Each shard certificate is authenticated with --key; then, per chain, the head of shard k
    /// must be linked from the start of shard k+1 (prev_hash, parent_record_id, sequence) and the
    /// Merkle ranges must be adjacent. Any boundary that does not fit fails the merge (exit 1) and
    /// no certificate is written.
    #[command(
        after_long_help = "Example:\n  audit-verify merge s1.cert.json s2.cert.json s3.cert.json --key auditor.pub.pem \\\n      --certificate export.cert.json --sign-key auditor.key.pem"
    )]
    Merge {
        /// Shard certificates, in export order.
        #[arg(required = true, value_name = "CERT")]
        certs: Vec<PathBuf>,
        /// Public key(s) that signed the shard certificates.
        #[arg(long = "key", required = true, value_name = "PUB")]
        keys: Vec<PathBuf>,
        /// Where to write the merged certificate.
        #[arg(long, value_name = "OUT")]
        certificate: PathBuf,
        /// The auditor's private key (PKCS#8 PEM).
        #[arg(long, value_name = "KEY")]
        sign_key: PathBuf,
        /// The instant recorded as verified_at (RFC 3339); default: the clock.
        #[arg(long, value_name = "T")]
        now: Option<String>,
    },

    /// List the built-in profiles, or print one as a profile file.
    ///
    /// Without NAME: one line per built-in profile (name, what it reads, the version it follows).
    /// With NAME: the profile file of that built-in, which is also a complete example of the
    /// profile file format (docs/profiles.md); a copy edited for another producer can be given to
    /// verify with --profile FILE. With a path to a profile file: loads it, runs its known-answer
    /// tests and prints it.
    #[command(
        after_long_help = "Examples:\n  audit-verify profiles\n  audit-verify profiles asqav > my-vendor.toml\n  audit-verify profiles my-vendor.toml   # check a profile file"
    )]
    Profiles {
        /// A built-in profile name or a profile file.
        #[arg(value_name = "NAME")]
        name: Option<String>,
    },

    /// Print shell completions to stdout.
    ///
    /// Pre-generated files are also shipped in man/completions/.
    #[command(
        after_long_help = "Example:\n  audit-verify completions bash > /etc/bash_completion.d/audit-verify"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `cert` subcommands.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Authenticate a certificate, print what it certifies, and optionally re-check its inputs.
    ///
    /// Exit 0 when the certificate is authentic (and the inputs match); 1 when it was altered, is
    /// not signed by the key, or an input's digest differs; 2 when it cannot be read.
    #[command(
        after_long_help = "Example:\n  audit-verify cert verify audit.cert.json --key auditor.pub.pem --inputs export.jsonl"
    )]
    Verify {
        /// The certificate (DSSE JSON envelope).
        #[arg(value_name = "CERT")]
        cert: PathBuf,
        /// The auditor's public key(s): PEM SPKI, JWK or JWKS.
        #[arg(long = "key", required = true, value_name = "PUB")]
        keys: Vec<PathBuf>,
        /// Re-check these files against the certificate's subjects (SHA-256).
        #[arg(long, num_args = 1.., value_name = "FILE")]
        inputs: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CertFormat::Human)]
        format: CertFormat,
    },
}

/// Output formats of `cert verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CertFormat {
    /// What the certificate certifies, as text and a table.
    Human,
    /// The check's result and the statement as JSON.
    Json,
}

/// Signing algorithms for auditor keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeygenAlg {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ML-DSA-65 (FIPS 204).
    #[value(name = "ml-dsa-65")]
    MlDsa65,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Verdict, a table per chain and each finding quoting its line.
    Human,
    /// One JSON object, schema audit-verify/report/v1 (see docs/report.md).
    Json,
    /// JUnit XML: one test case per chain (for CI test reports).
    Junit,
    /// GitHub Actions annotations (::error file=…,line=…::).
    Github,
}

/// When to colour the human report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When stdout is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Containers, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    /// JSON Lines.
    Jsonl,
    /// A JSON array or bundle object.
    Json,
    /// Syslog (RFC 5424, RFC 6587, RFC 3164).
    Syslog,
    /// CSV with a header row.
    Csv,
}

/// Crypto providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderName {
    /// aws-lc-rs (the fast default).
    AwsLc,
    /// The pure-Rust p256, ml-dsa and ed25519-dalek crates.
    Rustcrypto,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Exports to verify: files, directories (their files in name order) or - for stdin.
    ///
    /// Inputs are read in order as parts of one export, so a chain may continue from one file
    /// into the next. Gzip is decompressed transparently.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them.
    ///
    /// Repeatable. Keys are matched to records by signer_kid through recognised kid rules
    /// (RFC 7638 thumbprints; for ML-DSA-65 also the AKP thumbprint and SHA-256 of the raw key).
    /// Keys embedded in records are never trusted.
    #[arg(long = "keys", value_name = "PATH")]
    pub keys: Vec<PathBuf>,

    /// Container format; default: detected from the content.
    ///
    /// jsonl: one record per line. json: an array of records or an object with a "records" array.
    /// syslog: RFC 5424 (one message per line or RFC 6587 octet counting; the record in MSG or in
    /// a record= structured-data parameter), RFC 3164 with a warning. csv: header row, AAT §10.3
    /// columns. Gzip is decompressed transparently in every case.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// Input profile: a built-in name or a profile file; default: detected from the records.
    ///
    /// Built in: aat (IETF draft-sharif-agent-audit-trail -04 to -06), asqav (asqav 0.10.14
    /// receipts, Audit Pack, ComplianceBundle), agt-audit, agt-cloudevents, agt-filesink and
    /// agt-mcp (Microsoft Agent Governance Toolkit 5.0.0). `audit-verify profiles` lists them; a
    /// profile file (TOML, docs/profiles.md) declares a format that is not built in.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,

    /// Signed checkpoint (tree head) to hold the records against; repeatable.
    ///
    /// A C2SP tlog-checkpoint signed note, verified with --checkpoint-key, or a JSON checkpoint
    /// (audit-verify/checkpoint/v1), verified with a key from --keys. The export's Merkle tree
    /// has one RFC 6962 leaf per record, SHA-256(0x00 || JCS(record without batch)), in file
    /// order: fewer records than the checkpoint's size is truncation, another root a failure. A
    /// checkpoint whose root is that of an AAT batch epoch anchors that epoch. See
    /// docs/checkpoints.md.
    #[arg(long = "checkpoint", value_name = "PATH")]
    pub checkpoints: Vec<PathBuf>,

    /// C2SP verifier key for checkpoint notes, or a file with one per line; repeatable.
    ///
    /// The vkey form NAME+KEYID+KEY: the key name, the key id as 8 hex digits, and base64 of a
    /// type byte, 0x01 (Ed25519 note signature) or 0x04 (Ed25519 witness cosignature), followed
    /// by the 32-byte Ed25519 key. The key id must be the first four bytes of
    /// SHA-256(name || 0x0A || type || key).
    #[arg(long = "checkpoint-key", value_name = "VKEY|FILE")]
    pub checkpoint_keys: Vec<String>,
    /// File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink).
    ///
    /// The file's exact bytes are the key (no newline is stripped). The secret is never taken on
    /// the command line. Without it, HMAC-authenticated records are not established (inconclusive).
    #[arg(long, value_name = "PATH")]
    pub hmac_key_file: Option<PathBuf>,

    /// Treat unsigned records as failures.
    #[arg(long)]
    pub require_signatures: bool,

    /// Treat an unanchored head or open tail as inconclusive instead of a warning.
    #[arg(long)]
    pub require_complete: bool,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write a signed verification certificate (DSSE + in-toto) to OUT; needs --sign-key.
    #[arg(long, value_name = "OUT", requires = "sign_key")]
    pub certificate: Option<PathBuf>,

    /// The auditor's private key for --certificate (PKCS#8 PEM, P-256 or ML-DSA-65).
    #[arg(long, value_name = "KEY", requires = "certificate")]
    pub sign_key: Option<PathBuf>,

    /// A previous certificate: the export must continue the chain heads it records.
    ///
    /// For each chain in the certificate, the export either starts right after the certified head
    /// (its first record links to the head's hash) or holds the chain from its genesis again, in
    /// which case the record at the certified position must be the certified head. A chain that
    /// does neither, or that ends before the certified head, fails. The certificate itself must
    /// verify under --anchor-key (default: the --keys).
    #[arg(long, value_name = "CERT")]
    pub anchor: Option<PathBuf>,

    /// Public key(s) of the auditor who signed the --anchor certificate.
    #[arg(long, value_name = "PUB", requires = "anchor")]
    pub anchor_key: Vec<PathBuf>,

    /// Check signatures only of records at or after T (RFC 3339, or a duration back from --now: 24h, 7d).
    ///
    /// Records before the window are still parsed, hashed and linked, so the window is proven to
    /// continue what came before; only their signatures are skipped. The report says so per chain.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// Check signatures only of records at or before T (RFC 3339, or a duration back from --now).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,

    /// The instant taken as now (RFC 3339), recorded in certificates; default: the clock.
    #[arg(long, value_name = "T")]
    pub now: Option<String>,

    /// Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all
    /// cores).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub jobs: Option<u16>,

    /// Crypto provider.
    #[arg(long, value_enum, default_value_t = ProviderName::AwsLc)]
    pub crypto: ProviderName,

    /// Findings of one code shown in the human report before the rest are only counted.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_findings: usize,

    /// Chains (sessions) checked at most; each costs about 1 KiB of memory.
    ///
    /// Records of chains met after the first N are still read, hashed and signature-checked, but
    /// not checked against their chains: the report says so (limit.chains) and the verdict is at
    /// best inconclusive (exit 3). The bound keeps an export of very many chains from exhausting
    /// memory; raise it for an export that really has more chains.
    #[arg(long, value_name = "N", default_value_t = crate::chain_table::DEFAULT_MAX_CHAINS)]
    pub max_chains: usize,

    /// Print nothing but the report (no progress, no notes on stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Do not show the progress bar.
    ///
    /// The bar is drawn on stderr only when it is a terminal, and only once a run has lasted a
    /// second: bytes read, records/s and the time left.
    #[arg(long)]
    pub no_progress: bool,

    /// Colour in the human report.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn verify_is_the_default_command() {
        let cli = Cli::try_parse_from(["audit-verify", "a.jsonl", "--keys", "k.json"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.verify.inputs, vec![PathBuf::from("a.jsonl")]);
        let cli = Cli::try_parse_from(["audit-verify", "verify", "a.jsonl"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Verify(_))));
        assert!(Cli::try_parse_from(["audit-verify", "completions", "bash"]).is_ok());
        assert!(Cli::try_parse_from(["audit-verify", "profiles"]).is_ok());
        assert!(Cli::try_parse_from(["audit-verify", "profiles", "asqav"]).is_ok());
        assert!(Cli::try_parse_from(["audit-verify"]).is_err());
    }
}
