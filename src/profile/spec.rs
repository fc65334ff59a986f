//! Profile descriptions: the declarative form of an audit-trail format (`docs/profiles.md`, profile
//! file format version 1). A profile says where a record keeps its chain id, link, sequence
//! number, time, hash and signature, which canonicalization dialect its hashes use, what the hash
//! covers, and known-answer tests that are checked when the profile is loaded. Built-in profiles
//! are written in the same TOML (`src/profile/builtin/`), plus named extensions for what a
//! declaration cannot say (asqav's key directory rules, AGT's CloudEvents mapping, bundle-level
//! digests and Merkle roots).
//!
//! Paths are member names joined by `.` (`payload.previousReceiptHash`); a member whose name
//! contains a dot cannot be addressed.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::canon::Dialect;

/// The profile file format version this module reads.
pub const FORMAT_VERSION: u32 = 1;

/// A parsed, validated profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Profile file format version (1).
    pub format: u32,
    /// The profile name (`--profile NAME`).
    pub name: String,
    /// One line saying what it reads.
    pub title: String,
    /// The specification or producer version it follows.
    pub follows: String,
    /// `aat` for the built-in AAT engine (the rest of the file is then descriptive).
    #[serde(default)]
    pub engine: Option<String>,
    /// Built-in behaviours the declaration cannot express.
    #[serde(default)]
    pub extensions: Vec<Extension>,
    /// How a record of this profile is recognised.
    #[serde(default)]
    pub detect: Detect,
    /// How records are grouped into chains.
    #[serde(default)]
    pub chain: ChainSpec,
    /// The record's own id.
    #[serde(default)]
    pub record_id: Option<RecordIdSpec>,
    /// What is hashed, and how.
    pub hash: HashSpec,
    /// The link to the previous record.
    #[serde(default)]
    pub link: Option<LinkSpec>,
    /// The sequence number.
    #[serde(default)]
    pub sequence: Option<SeqSpec>,
    /// The record's time.
    #[serde(default)]
    pub time: Option<TimeSpec>,
    /// The signature.
    #[serde(default)]
    pub signature: Option<SigSpec>,
    /// A member that marks the last record of a chain.
    #[serde(default)]
    pub terminal: Option<TerminalSpec>,
    /// Report top-level members outside the hash (default true).
    #[serde(default = "yes")]
    pub report_uncovered: bool,
    /// Known-answer tests, checked at load.
    #[serde(default, rename = "known_answer")]
    pub known_answers: Vec<KnownAnswer>,
}

fn yes() -> bool {
    true
}

/// Built-in behaviours a profile may switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Extension {
    /// asqav key directory resolution (thumbprint, kid, agent and issuer) and issuer binding.
    #[serde(rename = "asqav.keys")]
    AsqavKeys,
    /// asqav `payload_digest` and `action_ref` recomputed from `context`.
    #[serde(rename = "asqav.payload_digest")]
    AsqavPayloadDigest,
    /// asqav Audit Pack outer copies compared with their signed twins.
    #[serde(rename = "asqav.outer_copies")]
    AsqavOuterCopies,
    /// asqav legacy flat hash-mode receipts (no envelope, no chain).
    #[serde(rename = "asqav.flat_receipts")]
    AsqavFlatReceipts,
    /// asqav Audit Pack: `receipt_count`, `bundle_digest`, `bundle_signature`.
    #[serde(rename = "asqav.audit_pack")]
    AsqavAuditPack,
    /// asqav ComplianceBundle: `receipt_hashes` and `merkle_root`.
    #[serde(rename = "asqav.compliance_bundle")]
    AsqavComplianceBundle,
    /// asqav receipt structure: the `type` registry, the wire version `v` and `mode`, the shape
    /// of `anchors`.
    #[serde(rename = "asqav.structure")]
    AsqavStructure,
    /// asqav `counterparty_binding`: checked against the originating receipt in the same export.
    #[serde(rename = "asqav.counterparty")]
    AsqavCounterparty,
    /// AGT `AuditLog.export()`: `entry_count` and the incremental Merkle root.
    #[serde(rename = "agt.export")]
    AgtExport,
    /// AGT `AuditLog.get_proof()`: the inclusion proof folded to `merkle_root`.
    #[serde(rename = "agt.proof")]
    AgtProof,
}

impl Extension {
    /// The name used in profile files.
    pub fn as_str(self) -> &'static str {
        match self {
            Extension::AsqavKeys => "asqav.keys",
            Extension::AsqavPayloadDigest => "asqav.payload_digest",
            Extension::AsqavOuterCopies => "asqav.outer_copies",
            Extension::AsqavFlatReceipts => "asqav.flat_receipts",
            Extension::AsqavAuditPack => "asqav.audit_pack",
            Extension::AsqavComplianceBundle => "asqav.compliance_bundle",
            Extension::AsqavStructure => "asqav.structure",
            Extension::AsqavCounterparty => "asqav.counterparty",
            Extension::AgtExport => "agt.export",
            Extension::AgtProof => "agt.proof",
        }
    }
}

/// How a record is recognised: every `require` path present, no `forbid` path present.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detect {
    /// Paths that must be present.
    #[serde(default)]
    pub require: Vec<String>,
    /// Paths that must be absent.
    #[serde(default)]
    pub forbid: Vec<String>,
    /// Alternative shapes: the record also matches when every path of one of these is present.
    #[serde(default)]
    pub or_require: Vec<Vec<String>>,
}

/// What a chain restarting at genesis means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// A genesis link inside a running chain is a failure (a second chain spliced in).
    #[default]
    Fail,
    /// A genesis link starts a new, unlinked segment (e.g. log rotation): a warning.
    Segment,
}

/// How records are grouped into chains.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// Paths tried in order; the first string found is the chain id. Empty: one chain.
    #[serde(default)]
    pub id: Vec<String>,
    /// The chain's name when `id` is empty (default: the profile name).
    #[serde(default)]
    pub name: Option<String>,
    /// What a genesis link inside a chain means.
    #[serde(default)]
    pub restart: Restart,
}

/// The record's own id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordIdSpec {
    /// Its path.
    pub field: String,
    /// Two records with the same id fail.
    #[serde(default)]
    pub unique: bool,
}

/// A re-rendering applied to a member before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Render {
    /// Parse a datetime as written by Python (`str()`, `isoformat()`, pydantic `Z`, CloudEvents
    /// `+00:00Z`) and print it as `datetime.isoformat()`.
    PyIsoformat,
}

/// A built-in transform of the whole record before the hash projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// AGT CloudEvents: rebuild the `AuditEntry` members from the event (`formats/agt.md` 3.7).
    AgtCloudevent,
}

/// How a digest is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestEncoding {
    /// 64 lowercase hex digits.
    #[default]
    Hex,
    /// `sha256:` and 64 lowercase hex digits.
    Sha256Hex,
}

/// What is hashed. Exactly one of `member`, `members`, `exclude` says what.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashSpec {
    /// The canonicalization dialect.
    pub dialect: Dialect,
    /// Hash the value at this path.
    #[serde(default)]
    pub member: Option<String>,
    /// Hash an object of exactly these top-level members (each must be present).
    #[serde(default)]
    pub members: Option<Vec<String>>,
    /// `members` in the dialect's name order (derived when the profile is loaded, so that records
    /// are written without sorting).
    #[serde(skip)]
    pub(crate) members_sorted: Vec<String>,
    /// With `members`: leave these out when they are null or absent.
    #[serde(default)]
    pub omit_null: Vec<String>,
    /// Hash the record without these top-level members.
    #[serde(default)]
    pub exclude: Option<Vec<String>>,
    /// With `exclude`: remove members whose value is null, at any depth...
    #[serde(default)]
    pub drop_null: bool,
    /// ...except at these paths.
    #[serde(default)]
    pub keep_null: Vec<String>,
    /// A built-in transform applied to the record first.
    #[serde(default)]
    pub view: Option<View>,
    /// Top-level members re-rendered before hashing.
    #[serde(default)]
    pub render: BTreeMap<String, Render>,
    /// How the hash is written (in `claimed` and in the next record's link).
    #[serde(default)]
    pub encoding: DigestEncoding,
    /// The member that carries the record's own hash, checked against the recomputed one.
    #[serde(default)]
    pub claimed: Option<String>,
}

/// How the first record of a chain marks itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Genesis {
    /// The link is `null` or absent.
    Null,
    /// The link is `""`.
    Empty,
    /// The link is 64 × `0`.
    Zeros,
}

/// The link to the previous record: its hash, written in `encoding`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// The path of the link.
    pub field: String,
    /// The genesis marker.
    pub genesis: Genesis,
    /// How the previous hash is written.
    #[serde(default)]
    pub encoding: DigestEncoding,
}

/// A per-chain counter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeqSpec {
    /// Its path.
    pub field: String,
    /// The value at genesis, if the format fixes one.
    #[serde(default)]
    pub start: Option<u64>,
    /// Records without it pass (the chain is then not counted).
    #[serde(default)]
    pub optional: bool,
}

/// How a time is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeFormat {
    /// RFC 3339 with an offset.
    Rfc3339,
    /// A Python datetime rendering (see [`Render::PyIsoformat`]); naive times are taken as UTC.
    PyDatetime,
    /// Seconds since the epoch as a JSON number.
    EpochSeconds,
}

/// The record's time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    /// Its path.
    pub field: String,
    /// Its form.
    pub format: TimeFormat,
}

/// Signature algorithms a profile may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SigAlg {
    /// ECDSA P-256 / SHA-256, raw `r‖s`.
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519 (RFC 8032).
    #[serde(rename = "Ed25519")]
    Ed25519,
    /// ML-DSA-65 (FIPS 204, pure, empty context).
    #[serde(rename = "ML-DSA-65")]
    MlDsa65,
    /// HMAC-SHA256 under the `--hmac-key-file` secret.
    #[serde(rename = "HMAC-SHA256")]
    HmacSha256,
}

impl SigAlg {
    /// The name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SigAlg::Es256 => "ES256",
            SigAlg::Ed25519 => "Ed25519",
            SigAlg::MlDsa65 => "ML-DSA-65",
            SigAlg::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// Parses a record's algorithm name, case-insensitively (`EdDSA` is Ed25519).
    pub fn from_record(name: &str) -> Option<SigAlg> {
        match name.to_ascii_uppercase().as_str() {
            "ES256" => Some(SigAlg::Es256),
            "ED25519" | "EDDSA" => Some(SigAlg::Ed25519),
            "ML-DSA-65" | "MLDSA65" => Some(SigAlg::MlDsa65),
            "HMAC-SHA256" | "HS256" => Some(SigAlg::HmacSha256),
            _ => None,
        }
    }
}

/// How signature bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigEncoding {
    /// Lowercase hex.
    Hex,
    /// base64url without padding.
    Base64url,
    /// Standard base64 with padding.
    Base64,
    /// Multibase `u` + base64url without padding.
    Multibase,
}

/// What the signature signs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signs {
    /// The canonical bytes that are hashed.
    #[default]
    Canonical,
    /// The ASCII text of the hash as encoded (AGT FileAuditSink HMAC).
    HashText,
    /// The 32 raw bytes of the hash.
    Hash,
}

/// How a record's key id is matched to a supplied key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KidMatch {
    /// By the key ring's derived and declared kids (see `docs/keys.md`).
    #[default]
    Ring,
    /// `did:key` of a supplied Ed25519 key (the `#fragment` ignored), or a declared kid.
    DidKey,
}

/// The signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigSpec {
    /// The path of the signature value.
    pub value: String,
    /// How it is written.
    pub encoding: SigEncoding,
    /// Also accept the other base64 alphabet and padding (reported as a warning).
    #[serde(default)]
    pub lenient_base64: bool,
    /// A fixed algorithm...
    #[serde(default)]
    pub algorithm: Option<SigAlg>,
    /// ...or the path of the record's algorithm name.
    #[serde(default)]
    pub algorithm_field: Option<String>,
    /// What is signed.
    #[serde(default)]
    pub signs: Signs,
    /// The path of the key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// How the key id is matched.
    #[serde(default)]
    pub kid_match: KidMatch,
    /// The path of a public key embedded in the record (hex): never trusted, it must equal a
    /// supplied key.
    #[serde(default)]
    pub embedded_key: Option<String>,
    /// Members that must hold these exact strings (e.g. `proof.type`).
    #[serde(default)]
    pub expect: BTreeMap<String, String>,
}

/// A member that marks the last record of a chain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalSpec {
    /// Its path.
    pub field: String,
    /// The value that marks the end (a boolean or a string).
    pub equals: toml::Value,
}

/// A known-answer test: a record and its expected canonical bytes and/or hash.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownAnswer {
    /// What it shows.
    pub name: String,
    /// A record, as JSON text.
    pub record: String,
    /// The expected canonical bytes of its hash input, as text.
    #[serde(default)]
    pub canonical: Option<String>,
    /// The expected hash, as the profile writes it.
    #[serde(default)]
    pub hash: Option<String>,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read profile file {path}: {source}")]
    #[diagnostic(code(audit_verify::profile::io))]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than any profile needs.
    #[error("profile file {path} is larger than {limit} bytes")]
    #[diagnostic(
        code(audit_verify::profile::too_large),
        help("a profile declares a format in a few kilobytes; is this the right file?")
    )]
    TooLarge {
        /// The path.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// Not valid TOML, or not a profile.
    #[error("{origin}: not a valid profile file: {detail}")]
    #[diagnostic(
        code(audit_verify::profile::syntax),
        help("see docs/profiles.md; `audit-verify profiles asqav` prints a complete example")
    )]
    Syntax {
        /// The file or built-in name.
        origin: String,
        /// The parser's message.
        detail: String,
    },
    /// Well-formed but inconsistent.
    #[error("{origin}: {detail}")]
    #[diagnostic(code(audit_verify::profile::invalid), help("see docs/profiles.md"))]
    Invalid {
        /// The file or built-in name.
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// A known-answer test failed: the profile does not describe the bytes it claims to.
    #[error("{origin}: known-answer test {name:?} failed: expected {expected}, computed {found}")]
    #[diagnostic(
        code(audit_verify::profile::known_answer),
        help(
            "the profile's dialect, coverage or encoding does not reproduce the producer's bytes; fix the profile before trusting any verdict it gives"
        )
    )]
    KnownAnswer {
        /// The file or built-in name.
        origin: String,
        /// The test.
        name: String,
        /// Expected value.
        expected: String,
        /// Computed value.
        found: String,
    },
}

/// The TOML parser's message with its position as line and column, without the quoted source
/// line (which may be megabytes long).
fn syntax_detail(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    let Some(span) = e.span() else {
        return message;
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {message}")
}

impl Spec {
    /// Parses and validates a profile file (known-answer tests are run by
    /// [`crate::profile::Profile::from_text`], which has the engine).
    ///
    /// # Errors
    /// [`ProfileError`] when the text is not a valid profile.
    pub fn from_toml(text: &str, origin: &str) -> Result<Spec, ProfileError> {
        let spec: Spec = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            origin: origin.into(),
            detail: syntax_detail(text, &e),
        })?;
        spec.validate(origin)?;
        let mut spec = spec;
        if let Some(names) = &spec.hash.members {
            let mut sorted = names.clone();
            sorted.sort_by(|a, b| crate::canon::pyjson::cmp_names(spec.hash.dialect, a, b));
            spec.hash.members_sorted = sorted;
        }
        Ok(spec)
    }

    fn validate(&self, origin: &str) -> Result<(), ProfileError> {
        let invalid = |detail: String| ProfileError::Invalid {
            origin: origin.into(),
            detail,
        };
        if self.format != FORMAT_VERSION {
            return Err(invalid(format!(
                "format = {} is not supported (this version reads {FORMAT_VERSION})",
                self.format
            )));
        }
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(invalid(format!(
                "name {:?} must be lower-case letters, digits, - and _",
                self.name
            )));
        }
        if let Some(engine) = &self.engine {
            if engine != "aat" {
                return Err(invalid(format!(
                    "engine {engine:?} is not a built-in engine (only \"aat\")"
                )));
            }
        }
        let h = &self.hash;
        let ways = [h.member.is_some(), h.members.is_some(), h.exclude.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if ways != 1 {
            return Err(invalid(
                "[hash] needs exactly one of member, members or exclude".into(),
            ));
        }
        if !h.omit_null.is_empty() && h.members.is_none() {
            return Err(invalid("[hash] omit_null needs members".into()));
        }
        if (h.drop_null || !h.keep_null.is_empty()) && h.exclude.is_none() {
            return Err(invalid(
                "[hash] drop_null and keep_null need exclude".into(),
            ));
        }
        if let Some(s) = &self.signature {
            if s.algorithm.is_some() == s.algorithm_field.is_some() {
                return Err(invalid(
                    "[signature] needs exactly one of algorithm and algorithm_field".into(),
                ));
            }
            if s.signs != Signs::Canonical && s.algorithm != Some(SigAlg::HmacSha256) {
                return Err(invalid(
                    "[signature] signs other than \"canonical\" is only defined for HMAC-SHA256"
                        .into(),
                ));
            }
        }
        if let Some(t) = &self.terminal {
            if !matches!(t.equals, toml::Value::Boolean(_) | toml::Value::String(_)) {
                return Err(invalid(
                    "[terminal] equals must be a boolean or a string".into(),
                ));
            }
        }
        let all_paths = self
            .detect
            .require
            .iter()
            .chain(&self.detect.forbid)
            .chain(&self.chain.id);
        for p in all_paths {
            if p.is_empty() || p.split('.').any(str::is_empty) {
                return Err(invalid(format!("path {p:?} is not a.b.c")));
            }
        }
        if self.detect.require.is_empty() && self.detect.or_require.is_empty() {
            return Err(invalid(
                "[detect] require must name at least one member".into(),
            ));
        }
        Ok(())
    }

    /// The chain name used when records carry no chain id.
    pub fn default_chain(&self) -> &str {
        self.chain.name.as_deref().unwrap_or(&self.name)
    }

    /// Whether an extension is on.
    pub fn has(&self, ext: Extension) -> bool {
        self.extensions.contains(&ext)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
format = 1
name = "demo"
title = "t"
follows = "f"
[detect]
require = ["id"]
[hash]
dialect = "jcs"
exclude = ["sig"]
"#;

    #[test]
    fn a_minimal_profile_loads() {
        let s = Spec::from_toml(MINIMAL, "demo.toml").unwrap();
        assert_eq!(s.name, "demo");
        assert_eq!(s.hash.dialect, Dialect::Jcs);
        assert!(s.report_uncovered);
    }

    #[test]
    fn unknown_members_and_bad_shapes_are_refused() {
        let e = Spec::from_toml(&format!("{MINIMAL}\nbogus = 1\n"), "x").unwrap_err();
        assert!(matches!(e, ProfileError::Syntax { .. }), "{e}");
        let e = Spec::from_toml(&MINIMAL.replace("exclude = [\"sig\"]", ""), "x").unwrap_err();
        assert!(e.to_string().contains("exactly one"), "{e}");
        let e = Spec::from_toml(&MINIMAL.replace("format = 1", "format = 2"), "x").unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
        let e = Spec::from_toml(&MINIMAL.replace("\"jcs\"", "\"xml\""), "x").unwrap_err();
        assert!(matches!(e, ProfileError::Syntax { .. }), "{e}");
    }
}
