//! Checkpoints: signed tree heads that the export's records are held against (`--checkpoint`).
//!
//! Two forms are read, told apart by content: C2SP tlog-checkpoint signed notes
//! (c2sp.org/tlog-checkpoint@v1.0.0 over c2sp.org/signed-note@v1.0.0, see [`note`]) and the JSON
//! form of audit-verify ([`json`], `docs/checkpoints.md`). Both give a tree size and an RFC 6962
//! root over the export's Merkle tree — leaves are the AAT leaf hashes
//! `SHA-256(0x00 ‖ JCS(record without batch))` of every record of the export in file order (the
//! log *is* the export) — or, failing that, over one AAT batch epoch. Checkpoints are parsed and
//! their signatures verified before any record is read; only a checkpoint with a verified
//! signature is trusted ([`anchor`] holds the records against the trusted ones).
//!
//! An unreadable or malformed checkpoint file, or a malformed verifier key, is a usage error
//! ([`CheckpointError`], exit 2); an unsigned or badly signed checkpoint is a finding.

pub mod anchor;
pub mod json;
pub mod note;

use std::path::{Path, PathBuf};

use crate::bounded::ReadError;
use crate::crypto::Provider;
use crate::finding::{Code, Finding};
use crate::keys::KeyRing;
use crate::merkle::Hash;

use note::NoteKey;

/// The largest checkpoint or verifier-key file read (1 MiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// An RFC 9162 consistency proof from an earlier size to the checkpoint's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The earlier tree size.
    pub from_size: u64,
    /// The proof.
    pub proof: Vec<Hash>,
}

/// Whether a checkpoint's signature makes it trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// At least one supplied key's signature verified and none failed.
    Verified {
        /// The keys that verified, described.
        signers: Vec<String>,
    },
    /// A supplied key's signature does not verify (or uses a disallowed algorithm).
    Invalid {
        /// The key, described, and why.
        signer: String,
    },
    /// Signed, but by no supplied key.
    UnknownKey {
        /// The names (or kids) of the signatures present.
        names: Vec<String>,
    },
    /// No signature at all.
    Unsigned,
}

impl Trust {
    /// `verified`, `invalid`, `unknown_key` or `unsigned`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Trust::Verified { .. } => "verified",
            Trust::Invalid { .. } => "invalid",
            Trust::UnknownKey { .. } => "unknown_key",
            Trust::Unsigned => "unsigned",
        }
    }
}

/// The form a checkpoint came in, with what its signature check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// A C2SP signed note.
    Note(note::SignedNote),
    /// The JSON form.
    Json(json::JsonCheckpoint),
}

/// A parsed checkpoint, its signature not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The file as given.
    pub source: String,
    /// The origin, if the form has one.
    pub origin: Option<String>,
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
    /// Consistency proofs to this checkpoint (JSON form only).
    pub consistency: Vec<ConsistencyProof>,
    /// The form.
    pub form: Form,
}

impl Checkpoint {
    /// `c2sp-note` or `json`.
    pub fn format(&self) -> &'static str {
        match self.form {
            Form::Note(_) => "c2sp-note",
            Form::Json(_) => "json",
        }
    }
}

/// A checkpoint with its signature verdict.
#[derive(Debug, Clone)]
pub struct CheckedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its signature verdict.
    pub trust: Trust,
}

impl CheckedCheckpoint {
    /// Whether it may be used as an anchor.
    pub fn trusted(&self) -> bool {
        matches!(self.trust, Trust::Verified { .. })
    }
}

/// Why checkpoints or their keys could not be used at all.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CheckpointError {
    /// The file could not be read.
    #[error("cannot read checkpoint {path}: {source}")]
    #[diagnostic(code(audit_verify::checkpoint::io))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{path} is larger than {MAX_FILE_BYTES} bytes")]
    #[diagnostic(
        code(audit_verify::checkpoint::too_large),
        help("a checkpoint or key file is a few hundred bytes; check that this is the right file")
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is neither a C2SP checkpoint note nor a JSON checkpoint.
    #[error("{path} is not a valid {form}: {detail}")]
    #[diagnostic(
        code(audit_verify::checkpoint::malformed),
        help(
            "give a C2SP tlog-checkpoint signed note or an audit-verify/checkpoint/v1 JSON object (see docs/checkpoints.md)"
        )
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The form tried.
        form: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A `--checkpoint-key` is neither a vkey nor a file of vkeys.
    #[error("checkpoint key {key}: {detail}")]
    #[diagnostic(
        code(audit_verify::checkpoint::key),
        help(
            "give a C2SP verifier key <name>+<8 hex key id>+<base64(0x01 or 0x04, Ed25519 key)>, or a file with one per line"
        )
    )]
    Key {
        /// The argument (or file and line).
        key: String,
        /// What is wrong.
        detail: String,
    },
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    crate::bounded::read_file(path, MAX_FILE_BYTES).map_err(|e| match e {
        ReadError::Io(source) => CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        },
        ReadError::TooLarge(_) => CheckpointError::TooLarge {
            path: path.to_path_buf(),
        },
    })
}

/// Reads and parses one checkpoint file; the form is decided by content (a JSON object or a note).
///
/// # Errors
/// [`CheckpointError`] when the file cannot be read or is not a valid checkpoint of either form.
pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let bytes = read_bounded(path)?;
    parse(&bytes, path)
}

/// Parses checkpoint bytes; `path` names them in errors and in the report.
///
/// # Errors
/// [`CheckpointError::Malformed`] saying what is wrong.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Checkpoint, CheckpointError> {
    let malformed = |form, detail| CheckpointError::Malformed {
        path: path.to_path_buf(),
        form,
        detail,
    };
    let source = path.display().to_string();
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let cp = json::parse(bytes).map_err(|d| malformed("JSON checkpoint", d))?;
        return Ok(Checkpoint {
            source,
            origin: cp.origin.clone(),
            size: cp.size,
            root: cp.root,
            consistency: cp.consistency.clone(),
            form: Form::Json(cp),
        });
    }
    let form = "C2SP checkpoint note";
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(form, e.to_string()))?;
    let signed = note::parse_note(text).map_err(|d| malformed(form, d))?;
    let body = note::parse_body(&signed.text).map_err(|d| malformed(form, d))?;
    Ok(Checkpoint {
        source,
        origin: Some(body.origin),
        size: body.size,
        root: body.root,
        consistency: Vec::new(),
        form: Form::Note(signed),
    })
}

/// Reads the `--checkpoint-key` arguments: each is a vkey, or else a file holding one vkey per
/// line (blank lines and lines starting with `#` ignored).
///
/// # Errors
/// [`CheckpointError`] for an argument that is neither, or a file line that is not a valid vkey.
pub fn load_note_keys(args: &[String]) -> Result<Vec<NoteKey>, CheckpointError> {
    let mut keys = Vec::new();
    for arg in args {
        match note::parse_vkey(arg) {
            Ok(k) => keys.push(k),
            Err(vkey_err) => {
                let path = Path::new(arg);
                if !path.is_file() {
                    return Err(CheckpointError::Key {
                        key: arg.clone(),
                        detail: format!("not a vkey ({vkey_err}) and not a file"),
                    });
                }
                let bytes = read_bounded(path)?;
                let text = String::from_utf8_lossy(&bytes);
                for (i, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    keys.push(
                        note::parse_vkey(line).map_err(|detail| CheckpointError::Key {
                            key: format!("{}:{}", path.display(), i + 1),
                            detail,
                        })?,
                    );
                }
            }
        }
    }
    Ok(keys)
}

/// Verifies a checkpoint's signatures: notes with the note keys, JSON checkpoints with the ring.
pub fn verify(
    cp: Checkpoint,
    ring: &KeyRing,
    note_keys: &[NoteKey],
    provider: &dyn Provider,
) -> CheckedCheckpoint {
    let trust = match &cp.form {
        Form::Note(n) => note::verify_note(n, note_keys, provider),
        Form::Json(j) => json::verify(j, ring, provider),
    };
    CheckedCheckpoint {
        checkpoint: cp,
        trust,
    }
}

/// The finding a checkpoint's signature verdict gives, if any.
pub fn trust_finding(c: &CheckedCheckpoint) -> Option<Finding> {
    let cp = &c.checkpoint;
    let what = format!("checkpoint {} (size {})", cp.source, cp.size);
    match &c.trust {
        Trust::Verified { .. } => None,
        Trust::Invalid { signer } => Some(Finding::new(
            Code::CheckpointSignatureInvalid,
            format!(
                "{what}: the signature of {signer} does not verify; the checkpoint is not trusted"
            ),
        )),
        Trust::UnknownKey { names } => Some(Finding::new(
            Code::CheckpointUnknownKey,
            format!(
                "{what}: signed by {}, none of them a supplied key; the checkpoint is not trusted",
                names.join(", ")
            ),
        )),
        Trust::Unsigned => Some(Finding::new(
            Code::CheckpointUnsigned,
            format!("{what} carries no signature; it is not trusted"),
        )),
    }
}
