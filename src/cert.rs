//! The signed verification certificate: a DSSE v1 envelope (`payloadType:
//! application/vnd.in-toto+json`, PAE as in the DSSE protocol) around an in-toto Statement v1 whose
//! subjects are the input files with their SHA-256 and whose predicate (documented in
//! `docs/certificate.md`) records what a run established per chain: counts, first/last sequence and
//! time, the head hash the next record must link to, the Merkle compact range over the chain's
//! records, the guarantees, the findings summary and the verdict.
//!
//! The payload is the RFC 8785 canonical form of the statement, so the same inputs, keys and
//! `--now` give the same payload bytes. ES256 signatures are DER (as most DSSE tooling expects;
//! raw `r‖s` is accepted when verifying), ML-DSA-65 signatures are FIPS 204 pure with an empty
//! context, both over the PAE bytes. Shard certificates of one export merge into one certificate
//! when every chain's head in shard k is linked from shard k+1's start and the Merkle ranges are
//! adjacent.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::canon::{jcs, json as cjson};
use crate::compact::CompactRange;
use crate::crypto::{KeyAlg, Provider, PublicKey, Signature};
use crate::finding::{Code, Severity};
use crate::keys::{Key, KeyRing};
use crate::report::{ChainSummary, Report, Status, Verdict};

/// DSSE payload type of an in-toto Statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of our certificates.
pub const PREDICATE_TYPE: &str = "urn:audit-verify:predicate:verification:v1";
/// How a record becomes a Merkle leaf (AAT §8).
pub const LEAF_RULE: &str = "rfc9162-sha256(0x00 || jcs(record without batch))";
/// Largest certificate file read.
pub const MAX_CERT_BYTES: u64 = 64 * 1024 * 1024;

/// Errors of certificate handling.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CertError {
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    #[diagnostic(code(audit_verify::cert::io))]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The signing key cannot be used.
    #[error("{path}: {why}")]
    #[diagnostic(
        code(audit_verify::cert::sign_key),
        help(
            "give a PKCS#8 PEM private key (P-256 or ML-DSA-65), e.g. one written by `audit-verify keygen`"
        )
    )]
    SignKey {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// This build cannot sign.
    #[error("signing certificates needs the aws-lc feature, which this build lacks")]
    #[diagnostic(code(audit_verify::cert::no_signer))]
    NoSigner,
    /// The envelope or statement is malformed.
    #[error("{path}: not a verification certificate: {why}")]
    #[diagnostic(
        code(audit_verify::cert::malformed),
        help("a certificate is the DSSE JSON envelope written by --certificate")
    )]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// No signature verifies under the supplied keys.
    #[error("{path}: the certificate's signature does not verify under the supplied key(s): {why}")]
    #[diagnostic(
        code(audit_verify::cert::signature),
        help("the certificate was altered after signing, or it was signed by another key")
    )]
    BadSignature {
        /// The file.
        path: String,
        /// Details.
        why: String,
    },
    /// The target file exists.
    #[error("{path} exists; refusing to overwrite it")]
    #[diagnostic(code(audit_verify::cert::exists))]
    Exists {
        /// The file.
        path: String,
    },
}

/// An in-toto Statement v1 with our predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// `https://in-toto.io/Statement/v1`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// The input files.
    pub subject: Vec<Subject>,
    /// [`PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// What was verified.
    pub predicate: Predicate,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The file as named on the command line.
    pub name: String,
    /// `{"sha256": hex}`.
    pub digest: BTreeMap<String, String>,
}

/// The predicate: what one verification (or a merge of shard verifications) established.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    /// Tool name and version.
    pub tool: Tool,
    /// The `now` of the run (RFC 3339, seconds).
    pub verified_at: String,
    /// The profile used.
    pub profile: String,
    /// Policy flags.
    pub policy: PolicyFlags,
    /// Fingerprints of the keys used to verify the records.
    pub keys: Vec<KeyRef>,
    /// The verdict.
    pub verdict: String,
    /// Counts.
    pub summary: Summary,
    /// Per chain.
    pub chains: Vec<ChainCert>,
    /// For a merged certificate: the shard certificates, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardRef>,
}

/// Tool identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// `audit-verify`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Policy flags of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFlags {
    /// `--require-signatures`.
    pub require_signatures: bool,
    /// `--require-complete`.
    pub require_complete: bool,
}

/// A key used to verify records.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyRef {
    /// `sha256:` of the SPKI DER.
    pub fingerprint: String,
    /// Algorithm.
    pub alg: String,
}

/// Counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Chains.
    pub chains: u64,
    /// Records.
    pub records: u64,
    /// Error findings.
    pub errors: u64,
    /// Warning findings.
    pub warnings: u64,
    /// Findings per code.
    pub findings_by_code: BTreeMap<String, u64>,
}

/// What the first record of a chain links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    /// Its `record_id`.
    pub record_id: Option<String>,
    /// Its `prev_hash` (null for a genesis).
    pub prev_hash: Option<String>,
    /// Its `parent_record_id` (null for a genesis).
    pub parent_record_id: Option<String>,
    /// Its `sequence_number`.
    pub sequence: Option<u64>,
}

/// The end of a chain, as the next record must continue it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// `H(last record)`, lowercase hex.
    pub hash: Option<String>,
    /// The last record's id.
    pub record_id: Option<String>,
    /// The highest sequence number.
    pub sequence: Option<u64>,
    /// Whether the chain ended in a close record.
    pub closed: bool,
}

/// The Merkle state of a chain: the compact range `[begin, end)` of its leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleState {
    /// [`LEAF_RULE`].
    pub leaf_rule: String,
    /// Position of the first record in its chain.
    pub begin: u64,
    /// One past the last.
    pub end: u64,
    /// The perfect subtrees, left to right, lowercase hex.
    pub range: Vec<String>,
    /// RFC 9162 tree head of `[0, end)` when `begin` is 0.
    pub root: Option<String>,
}

/// One guarantee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuaranteeCert {
    /// `established`, `failed` or `not_established`.
    pub status: String,
    /// Whether the verdict required it.
    pub required: bool,
    /// How or why.
    pub detail: String,
}

/// One chain as certified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCert {
    /// Chain id.
    pub id: String,
    /// Its verdict.
    pub verdict: String,
    /// Records.
    pub records: u64,
    /// First sequence number.
    pub first_sequence: Option<u64>,
    /// Highest sequence number.
    pub last_sequence: Option<u64>,
    /// First timestamp.
    pub first_timestamp: Option<String>,
    /// Latest timestamp.
    pub last_timestamp: Option<String>,
    /// The first record's links.
    pub start: Start,
    /// The head.
    pub head: Head,
    /// The Merkle state; null when positions are unknown.
    pub merkle: Option<MerkleState>,
    /// `integrity`, `authenticity`, `head`, `tail`.
    pub guarantees: BTreeMap<String, GuaranteeCert>,
    /// Finding counts per code.
    pub findings: BTreeMap<String, u64>,
}

/// A shard certificate inside a merged one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRef {
    /// The certificate file as named.
    pub name: String,
    /// SHA-256 of its payload.
    pub payload_sha256: String,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// [`PAYLOAD_TYPE`].
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Standard base64 of the payload.
    pub payload: String,
    /// Signatures.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// The signer's key id (RFC 7638 thumbprint for P-256, AKP thumbprint for ML-DSA-65).
    pub keyid: String,
    /// Standard base64 of the signature.
    pub sig: String,
}

/// DSSE v1 pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

fn hex32(h: &[u8; 32]) -> String {
    hex::encode(h)
}

fn status(s: &Status, required: bool) -> GuaranteeCert {
    GuaranteeCert {
        status: s.as_str().into(),
        required,
        detail: s.detail().into(),
    }
}

fn merkle_state(range: &CompactRange) -> MerkleState {
    MerkleState {
        leaf_rule: LEAF_RULE.into(),
        begin: range.begin(),
        end: range.end(),
        range: range.nodes().iter().map(|n| hex32(&n.hash)).collect(),
        root: range.root().map(|r| hex32(&r)),
    }
}

fn chain_cert(c: &ChainSummary) -> ChainCert {
    let mut guarantees = BTreeMap::new();
    guarantees.insert("integrity".into(), status(&c.integrity, true));
    guarantees.insert(
        "authenticity".into(),
        status(&c.authenticity, c.authenticity_required),
    );
    guarantees.insert("head".into(), status(&c.head, c.completeness_required));
    guarantees.insert("tail".into(), status(&c.tail, c.completeness_required));
    ChainCert {
        id: c.id.clone(),
        verdict: c.verdict().as_str().into(),
        records: c.records,
        first_sequence: c.first_seq,
        last_sequence: c.last_seq,
        first_timestamp: c.first_time.clone(),
        last_timestamp: c.last_time.clone(),
        start: Start {
            record_id: c.first_record_id.clone(),
            prev_hash: c.start_prev_hash.as_ref().map(hex32),
            parent_record_id: c.start_parent_record_id.clone(),
            sequence: c.first_seq,
        },
        head: Head {
            hash: c.head_hash.as_ref().map(hex32),
            record_id: c.head_record_id.clone(),
            sequence: c.last_seq,
            closed: c.closed,
        },
        merkle: c.range.as_ref().map(merkle_state),
        guarantees,
        findings: c
            .findings
            .iter()
            .map(|(code, n)| (code.as_str().to_string(), *n))
            .collect(),
    }
}

/// The statement certifying a report.
pub fn statement(report: &Report, now: jiff::Timestamp) -> Statement {
    let mut keys: Vec<KeyRef> = report
        .keys
        .iter()
        .map(|k| KeyRef {
            fingerprint: k.fingerprint.clone(),
            alg: k.alg.clone(),
        })
        .collect();
    keys.sort();
    keys.dedup();
    Statement {
        type_: STATEMENT_TYPE.into(),
        subject: report
            .inputs
            .iter()
            .map(|i| Subject {
                name: i.file.clone(),
                digest: BTreeMap::from([("sha256".to_string(), i.sha256.clone())]),
            })
            .collect(),
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Predicate {
            tool: Tool {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            verified_at: format_now(now),
            profile: report.profile.clone(),
            policy: PolicyFlags {
                require_signatures: report.require_signatures,
                require_complete: report.require_complete,
            },
            keys,
            verdict: report.verdict().as_str().into(),
            summary: Summary {
                chains: report.chains.len() as u64,
                records: report.records(),
                errors: report.count(Severity::Error),
                warnings: report.count(Severity::Warning),
                findings_by_code: report
                    .counts
                    .iter()
                    .map(|(c, n)| (c.as_str().to_string(), *n))
                    .collect(),
            },
            chains: report.chains.iter().map(chain_cert).collect(),
            shards: Vec::new(),
        },
    }
}

/// `now` as RFC 3339 UTC with whole seconds.
pub fn format_now(now: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(now.as_second())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now.to_string())
}

/// The canonical (RFC 8785) payload bytes of a statement.
pub fn payload(statement: &Statement) -> Vec<u8> {
    let text = serde_json::to_vec(statement).unwrap_or_default();
    let mut out = Vec::with_capacity(text.len());
    match cjson::parse(&text, &cjson::Limits::default()) {
        Ok(v) if jcs::write_jcs(&v, &mut out).is_ok() => out,
        _ => text,
    }
}

/// An auditor's signing key.
pub struct SigningKey {
    public: PublicKey,
    inner: signer::Inner,
}

impl SigningKey {
    /// Loads a PKCS#8 PEM private key (P-256 or ML-DSA-65).
    ///
    /// # Errors
    /// [`CertError`] when the file cannot be read or is not such a key.
    pub fn load(path: &Path) -> Result<Self, CertError> {
        let name = path.display().to_string();
        let bytes = read_limited(path, crate::keys::MAX_KEY_FILE_BYTES, None, |why| {
            CertError::SignKey {
                path: name.clone(),
                why,
            }
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let der = pem_decode(&text, "PRIVATE KEY").ok_or_else(|| CertError::SignKey {
            path: name.clone(),
            why: "no PEM block \"PRIVATE KEY\" (PKCS#8)".into(),
        })?;
        signer::from_pkcs8(&der).map_err(|why| CertError::SignKey { path: name, why })
    }

    /// Generates a key pair; returns the key and its PKCS#8 DER.
    ///
    /// # Errors
    /// [`CertError::NoSigner`] in builds without aws-lc.
    pub fn generate(alg: KeyAlg) -> Result<(Self, Vec<u8>), CertError> {
        signer::generate(alg)
    }

    /// The public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The key id written in the envelope: the RFC 7638 thumbprint (P-256) or the AKP thumbprint
    /// (ML-DSA-65).
    pub fn keyid(&self) -> String {
        key_of(&self.public)
            .derived_kids()
            .into_iter()
            .next()
            .map(|(_, k)| k)
            .unwrap_or_default()
    }

    /// Signs `msg`.
    ///
    /// # Errors
    /// [`CertError::NoSigner`] when signing fails.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CertError> {
        signer::sign(&self.inner, msg)
    }
}

fn key_of(public: &PublicKey) -> Key {
    Key {
        public: public.clone(),
        declared_kid: None,
        source: "auditor key".into(),
        status: None,
        revoked_at: None,
        binding: Default::default(),
    }
}

/// The public key as SPKI PEM.
pub fn public_pem(public: &PublicKey) -> String {
    pem_encode("PUBLIC KEY", &key_of(public).spki_der())
}

/// PEM armour.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end)? + start;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

/// Wraps a statement in a signed DSSE envelope (pretty JSON with a final newline).
///
/// # Errors
/// [`CertError`] when signing fails.
pub fn sign(statement: &Statement, key: &SigningKey) -> Result<String, CertError> {
    let body = payload(statement);
    let sig = key.sign(&pae(PAYLOAD_TYPE, &body))?;
    let env = Envelope {
        payload_type: PAYLOAD_TYPE.into(),
        payload: STANDARD.encode(&body),
        signatures: vec![EnvelopeSignature {
            keyid: key.keyid(),
            sig: STANDARD.encode(sig),
        }],
    };
    let mut text = serde_json::to_string_pretty(&env).unwrap_or_default();
    text.push('\n');
    Ok(text)
}

/// A certificate whose signature verified.
#[derive(Debug, Clone)]
pub struct Certified {
    /// The statement.
    pub statement: Statement,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// Which supplied key verified it, `ALG fingerprint`.
    pub signer: String,
}

/// Reads, authenticates and parses a certificate. Every signature whose key id names a supplied
/// key must verify, and at least one must; the envelope is parsed strictly (duplicate members are
/// refused) before anything is trusted.
///
/// # Errors
/// [`CertError`] on any failure: unreadable, malformed, or not signed by a supplied key.
pub fn read_certificate(
    path: &Path,
    keys: &KeyRing,
    provider: &dyn Provider,
) -> Result<Certified, CertError> {
    let name = path.display().to_string();
    let malformed = |why: String| CertError::Malformed {
        path: name.clone(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| CertError::Io {
        path: name.clone(),
        source: e,
    })?;
    if meta.len() > MAX_CERT_BYTES {
        return Err(malformed(format!("larger than {MAX_CERT_BYTES} bytes")));
    }
    // Bounded again while reading: a FIFO or device reports no size in advance.
    let bytes = read_limited(path, MAX_CERT_BYTES, Some(b'{'), malformed)?;
    let value = cjson::parse(bytes.trim_ascii(), &cjson::Limits::default())
        .map_err(|e| malformed(e.to_string()))?;
    let Some(members) = value.as_object() else {
        return Err(malformed("the envelope is not a JSON object".into()));
    };
    for m in members {
        if !["payloadType", "payload", "signatures"].contains(&m.key.as_str()) {
            return Err(malformed(format!("unexpected envelope member {:?}", m.key)));
        }
    }
    let env: Envelope = serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(malformed(format!(
            "payloadType is {:?}, not {PAYLOAD_TYPE}",
            env.payload_type
        )));
    }
    let body = STANDARD
        .decode(&env.payload)
        .map_err(|e| malformed(format!("payload is not base64: {e}")))?;
    if env.signatures.is_empty() {
        return Err(CertError::BadSignature {
            path: name,
            why: "the envelope has no signature".into(),
        });
    }
    let message = pae(&env.payload_type, &body);
    let mut signer = None;
    let mut problems = Vec::new();
    for s in &env.signatures {
        let sig = STANDARD
            .decode(&s.sig)
            .map_err(|e| malformed(format!("signature is not base64: {e}")))?;
        let named: Vec<&Key> = keys
            .keys()
            .iter()
            .filter(|k| {
                k.derived_kids().iter().any(|(_, kid)| *kid == s.keyid)
                    || k.declared_kid.as_deref() == Some(&s.keyid)
                    || k.fingerprint() == s.keyid
            })
            .collect();
        if named.is_empty() {
            problems.push(format!("no supplied key has key id {}", s.keyid));
            continue;
        }
        for key in named {
            let prepared = provider
                .prepare(&key.public)
                .map_err(|e| malformed(e.to_string()))?;
            let form = match key.public.alg() {
                KeyAlg::P256 if sig.len() == 64 => Signature::EcdsaP1363(&sig),
                KeyAlg::P256 => Signature::EcdsaDer(&sig),
                KeyAlg::MlDsa65 => Signature::MlDsa65 {
                    sig: &sig,
                    ctx: b"",
                },
                KeyAlg::Ed25519 => Signature::Ed25519(&sig),
            };
            if prepared.verify(form, &message) {
                signer.get_or_insert_with(|| format!("{} {}", key.public.alg(), key.fingerprint()));
            } else {
                return Err(CertError::BadSignature {
                    path: name,
                    why: format!("the signature with key id {} does not verify", s.keyid),
                });
            }
        }
    }
    let Some(signer) = signer else {
        return Err(CertError::BadSignature {
            path: name,
            why: problems.join("; "),
        });
    };
    // The payload is parsed strictly too, then typed.
    cjson::parse(&body, &cjson::Limits::default())
        .map_err(|e| malformed(format!("payload: {e}")))?;
    let statement: Statement =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("payload: {e}")))?;
    if statement.type_ != STATEMENT_TYPE || statement.predicate_type != PREDICATE_TYPE {
        return Err(malformed(format!(
            "statement type {:?} / predicate type {:?} is not an audit-verify certificate",
            statement.type_, statement.predicate_type
        )));
    }
    Ok(Certified {
        statement,
        payload: body,
        signer,
    })
}

/// Reads at most `limit` bytes of a file; more is the error `too_large` makes of a message.
fn read_limited(
    path: &Path,
    limit: u64,
    starts_with: Option<u8>,
    too_large: impl FnOnce(String) -> CertError,
) -> Result<Vec<u8>, CertError> {
    use std::io::Read as _;
    let name = path.display().to_string();
    let io = |e| CertError::Io {
        path: name.clone(),
        source: e,
    };
    // Grow in fixed steps rather than doubling, so that a stream that never ends (a device, a
    // FIFO) costs at most the limit plus one step.
    const STEP: usize = 1 << 20;
    let mut file = std::fs::File::open(path).map_err(io)?.take(limit + 1);
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let len = bytes.len();
        bytes.reserve_exact(STEP);
        bytes.resize(len + STEP, 0);
        let n = file.read(&mut bytes[len..]).map_err(io)?;
        bytes.truncate(len + n);
        if n == 0 {
            break;
        }
        // The file must begin as expected (`{` for a certificate): anything else is refused on
        // its first bytes, before a stream that never ends is read to the limit.
        if let (Some(want), Some(first)) =
            (starts_with, bytes.iter().find(|b| !b.is_ascii_whitespace()))
        {
            if *first != want {
                return Err(too_large(format!(
                    "starts with byte 0x{first:02x}, not a JSON object"
                )));
            }
        }
    }
    if bytes.len() as u64 > limit {
        return Err(too_large(format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// The chain heads a certificate records, for `--anchor`.
pub fn anchors_of(
    c: &Certified,
    source: &str,
) -> crate::tables::HashMap<String, crate::chain::CertAnchor> {
    c.statement
        .predicate
        .chains
        .iter()
        .filter_map(|ch| {
            let hash = crate::profile::aat::parse_hex32(ch.head.hash.as_deref()?)?;
            Some((
                ch.id.clone(),
                crate::chain::CertAnchor {
                    hash,
                    record_id: ch.head.record_id.clone(),
                    sequence: ch.head.sequence,
                    records: ch.records,
                    closed: ch.head.closed,
                    range: ch.merkle.as_ref().and_then(|m| range_of(m).ok()),
                    source: source.to_string(),
                },
            ))
        })
        .collect()
}

/// Why shard certificates do not compose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeProblem {
    /// The chain.
    pub chain: String,
    /// Between which shards (0-based index of the later one).
    pub shard: usize,
    /// What does not fit.
    pub message: String,
}

/// Merges certificates of consecutive shards of one export. Returns the merged statement, or every
/// place where the shards do not compose.
///
/// # Errors
/// The list of [`MergeProblem`]s.
pub fn merge(
    shards: &[(String, Certified)],
    now: jiff::Timestamp,
) -> Result<Statement, Vec<MergeProblem>> {
    let mut problems = Vec::new();
    let Some((_, first)) = shards.first() else {
        return Err(vec![MergeProblem {
            chain: String::new(),
            shard: 0,
            message: "no certificate to merge".into(),
        }]);
    };
    let base = &first.statement.predicate;
    let mut chains: Vec<ChainCert> = Vec::new();
    let mut subjects: Vec<Subject> = Vec::new();
    let mut keys: Vec<KeyRef> = Vec::new();
    for (k, (_, c)) in shards.iter().enumerate() {
        let p = &c.statement.predicate;
        if p.profile != base.profile || p.policy != base.policy {
            problems.push(MergeProblem {
                chain: String::new(),
                shard: k,
                message: format!(
                    "profile or policy differs from the first shard ({} vs {})",
                    p.profile, base.profile
                ),
            });
        }
        subjects.extend(c.statement.subject.iter().cloned());
        keys.extend(p.keys.iter().cloned());
        for chain in &p.chains {
            match chains.iter_mut().find(|x| x.id == chain.id) {
                None => chains.push(chain.clone()),
                Some(acc) => {
                    if let Err(message) = join(acc, chain) {
                        problems.push(MergeProblem {
                            chain: chain.id.clone(),
                            shard: k,
                            message,
                        });
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    keys.sort();
    keys.dedup();
    let mut findings_by_code: BTreeMap<String, u64> = BTreeMap::new();
    for c in &chains {
        for (code, n) in &c.findings {
            *findings_by_code.entry(code.clone()).or_insert(0) += n;
        }
    }
    // What a shard found about the run rather than a chain (an unreadable line, records past the
    // limit on chains) is not settled by the other shards: its findings are kept, and its verdict
    // is a floor for the merged one.
    let rank = |v: &str| match v {
        "failed" => 2,
        "inconclusive" => 1,
        _ => 0,
    };
    let mut floor = 0;
    for (_, c) in shards {
        let p = &c.statement.predicate;
        let of_chains = p
            .chains
            .iter()
            .map(|ch| rank(&ch.verdict))
            .max()
            .unwrap_or(0);
        if rank(&p.verdict) > of_chains {
            floor = floor.max(rank(&p.verdict));
        }
        for (code, total) in &p.summary.findings_by_code {
            let in_chains: u64 = p.chains.iter().filter_map(|ch| ch.findings.get(code)).sum();
            let run_level = total.saturating_sub(in_chains);
            if run_level > 0 {
                *findings_by_code.entry(code.clone()).or_insert(0) += run_level;
            }
        }
    }
    let count = |sev: Severity| {
        findings_by_code
            .iter()
            .filter(|(c, _)| {
                Code::ALL
                    .iter()
                    .any(|k| k.as_str() == *c && k.severity() == sev)
            })
            .map(|(_, n)| n)
            .sum()
    };
    let verdict = if floor == 2 || chains.iter().any(|c| c.verdict == "failed") {
        Verdict::Failed
    } else if floor == 1 || chains.iter().any(|c| c.verdict == "inconclusive") {
        Verdict::Inconclusive
    } else {
        Verdict::Verified
    };
    Ok(Statement {
        type_: STATEMENT_TYPE.into(),
        subject: subjects,
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Predicate {
            tool: Tool {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            verified_at: format_now(now),
            profile: base.profile.clone(),
            policy: base.policy,
            keys,
            verdict: verdict.as_str().into(),
            summary: Summary {
                chains: chains.len() as u64,
                records: chains.iter().map(|c| c.records).sum(),
                errors: count(Severity::Error),
                warnings: count(Severity::Warning),
                findings_by_code,
            },
            chains,
            shards: shards
                .iter()
                .map(|(name, c)| ShardRef {
                    name: name.clone(),
                    payload_sha256: hex::encode(crate::profile::aat::sha256(&c.payload)),
                })
                .collect(),
        },
    })
}

/// Appends a later shard's part of a chain to the earlier parts, checking that it continues them.
fn join(acc: &mut ChainCert, next: &ChainCert) -> Result<(), String> {
    if acc.head.closed {
        return Err(format!(
            "the chain was closed at {} but continues in a later shard",
            acc.head.record_id.as_deref().unwrap_or("?")
        ));
    }
    match (&acc.head.hash, &next.start.prev_hash) {
        (Some(h), Some(p)) if h == p => {}
        (Some(h), Some(p)) => {
            return Err(format!(
                "the later shard starts with prev_hash {p}, but the earlier one ends with a record whose hash is {h}: a record is missing, added or altered at the boundary"
            ));
        }
        (_, None) => return Err("the later shard restarts the chain with a genesis record".into()),
        (None, _) => return Err("the earlier shard's head hash is unknown".into()),
    }
    if acc.head.record_id.is_some() && next.start.parent_record_id != acc.head.record_id {
        return Err(format!(
            "the later shard's first parent_record_id {:?} does not name the earlier shard's last record {:?}",
            next.start.parent_record_id, acc.head.record_id
        ));
    }
    if let (Some(a), Some(b)) = (acc.head.sequence, next.start.sequence) {
        if a.checked_add(1) != Some(b) {
            return Err(format!(
                "sequence_number jumps from {a} to {b} at the boundary"
            ));
        }
    }
    acc.merkle = match (&acc.merkle, &next.merkle) {
        (Some(a), Some(b)) => {
            let ra = range_of(a)?;
            let rb = range_of(b)?;
            let mut r = ra;
            r.append(&rb)
                .map_err(|e| format!("Merkle ranges do not compose: {e}"))?;
            Some(merkle_state(&r))
        }
        _ => None,
    };
    acc.records += next.records;
    acc.last_sequence = next.last_sequence.or(acc.last_sequence);
    acc.last_timestamp = next.last_timestamp.clone().or(acc.last_timestamp.take());
    acc.head = next.head.clone();
    // What each shard could not see is settled by the join: its own open tail / unanchored head.
    let mut findings = acc.findings.clone();
    if let Some(n) = findings.get_mut(Code::ChainTailOpen.as_str()) {
        *n = n.saturating_sub(1);
    }
    // Findings about a chain as a whole are reported once per chain, whatever the shards.
    let once = [
        Code::SigChainUnsigned.as_str(),
        Code::ChainLinkUnverifiable.as_str(),
        Code::AatSelfRecorded.as_str(),
    ];
    for (code, n) in &next.findings {
        let e = findings.entry(code.clone()).or_insert(0);
        if once.contains(&code.as_str()) {
            *e = (*e).max(*n);
        } else if code == Code::ChainHeadUnanchored.as_str() {
            *e += n.saturating_sub(1);
        } else {
            *e += n;
        }
    }
    findings.retain(|_, n| *n > 0);
    acc.findings = findings;
    let worst = |a: &GuaranteeCert, b: &GuaranteeCert| -> GuaranteeCert {
        let rank = |s: &str| match s {
            "failed" => 2,
            "not_established" => 1,
            _ => 0,
        };
        if rank(&b.status) > rank(&a.status) {
            b.clone()
        } else {
            a.clone()
        }
    };
    for g in ["integrity", "authenticity"] {
        if let (Some(a), Some(b)) = (acc.guarantees.get(g), next.guarantees.get(g)) {
            let w = worst(a, b);
            acc.guarantees.insert(g.into(), w);
        }
    }
    if let Some(t) = next.guarantees.get("tail") {
        acc.guarantees.insert("tail".into(), t.clone());
    }
    acc.verdict = if acc.verdict == "failed" || next.verdict == "failed" {
        "failed"
    } else if acc
        .guarantees
        .values()
        .any(|g| g.required && g.status != "established")
    {
        "inconclusive"
    } else {
        "verified"
    }
    .into();
    Ok(())
}

/// The compact range a certificate records.
///
/// # Errors
/// A message when the hashes do not form the range.
pub fn range_of(m: &MerkleState) -> Result<CompactRange, String> {
    let hashes: Vec<[u8; 32]> = m
        .range
        .iter()
        .map(|h| crate::profile::aat::parse_hex32(h).ok_or_else(|| format!("bad Merkle hash {h}")))
        .collect::<Result<_, _>>()?;
    CompactRange::from_parts(m.begin, m.end, &hashes).map_err(|e| e.to_string())
}

/// Writes a new key pair into `dir`: `auditor-<alg>.key.pem` (PKCS#8, mode 0600) and
/// `auditor-<alg>.pub.pem` (SPKI). Existing files are never overwritten.
///
/// # Errors
/// [`CertError`] when a file exists or cannot be written.
pub fn keygen(
    alg: KeyAlg,
    dir: &Path,
) -> Result<(std::path::PathBuf, std::path::PathBuf), CertError> {
    let tag = match alg {
        KeyAlg::P256 => "es256",
        KeyAlg::MlDsa65 => "ml-dsa-65",
        KeyAlg::Ed25519 => return Err(CertError::NoSigner),
    };
    let io = |path: &Path, e| CertError::Io {
        path: path.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let private = dir.join(format!("auditor-{tag}.key.pem"));
    let public = dir.join(format!("auditor-{tag}.pub.pem"));
    for p in [&private, &public] {
        if p.exists() {
            return Err(CertError::Exists {
                path: p.display().to_string(),
            });
        }
    }
    let (key, der) = SigningKey::generate(alg)?;
    write_new(&private, pem_encode("PRIVATE KEY", &der).as_bytes(), true)
        .map_err(|e| io(&private, e))?;
    write_new(&public, public_pem(key.public()).as_bytes(), false).map_err(|e| io(&public, e))?;
    Ok((private, public))
}

/// Creates a file that must not exist yet; private files get mode 0600 from the start.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The result of re-checking one file against a certificate's subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputCheck {
    /// The file.
    pub file: String,
    /// Its SHA-256.
    pub sha256: String,
    /// The subject it matches, if any.
    pub subject: Option<String>,
}

/// Hashes each file and looks for a subject with that digest.
///
/// # Errors
/// [`CertError::Io`] when a file cannot be read.
pub fn check_inputs(
    statement: &Statement,
    files: &[std::path::PathBuf],
) -> Result<Vec<InputCheck>, CertError> {
    use sha2::{Digest as _, Sha256};
    use std::io::Read;
    let mut out = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let io = |e| CertError::Io {
            path: name.clone(),
            source: e,
        };
        let mut file = std::fs::File::open(f).map_err(io)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match file.read(&mut buf).map_err(io)? {
                0 => break,
                n => h.update(&buf[..n]),
            }
        }
        let digest = hex::encode(h.finalize());
        let subject = statement
            .subject
            .iter()
            .find(|s| s.digest.get("sha256") == Some(&digest))
            .map(|s| s.name.clone());
        out.push(InputCheck {
            file: name,
            sha256: digest,
            subject,
        });
    }
    Ok(out)
}

/// What `cert verify` prints for people.
pub fn render_certified(c: &Certified, inputs: &[InputCheck]) -> String {
    let p = &c.statement.predicate;
    let mut out = String::new();
    let bad_inputs = inputs.iter().filter(|i| i.subject.is_none()).count();
    if bad_inputs == 0 {
        out.push_str(&format!("CERTIFICATE AUTHENTIC: signed by {}\n", c.signer));
    } else {
        out.push_str(&format!(
            "CERTIFICATE AUTHENTIC, BUT {bad_inputs} INPUT(S) DIFFER: signed by {}\n",
            c.signer
        ));
    }
    out.push_str(&format!(
        "It certifies: verdict {} by {} {} at {}, profile {}, policy require_signatures={} require_complete={}; {} record(s) in {} chain(s), {} error(s), {} warning(s).\n",
        p.verdict.to_uppercase(),
        p.tool.name,
        p.tool.version,
        p.verified_at,
        p.profile,
        p.policy.require_signatures,
        p.policy.require_complete,
        p.summary.records,
        p.summary.chains,
        p.summary.errors,
        p.summary.warnings
    ));
    out.push_str("\nSubjects:\n");
    for s in &c.statement.subject {
        out.push_str(&format!(
            "  {}  {}\n",
            s.digest.get("sha256").map_or("?", String::as_str),
            s.name
        ));
    }
    if !p.shards.is_empty() {
        out.push_str("\nMerged from shards:\n");
        for s in &p.shards {
            out.push_str(&format!("  {}  {}\n", s.payload_sha256, s.name));
        }
    }
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(100)
        .set_header(vec![
            "chain",
            "records",
            "sequence",
            "head hash",
            "merkle root",
            "verdict",
            "integrity / authenticity / head / tail",
        ]);
    for ch in &p.chains {
        let g = |k: &str| {
            ch.guarantees
                .get(k)
                .map_or("?", |g| g.status.as_str())
                .to_string()
        };
        t.add_row(vec![
            ch.id.clone(),
            ch.records.to_string(),
            match (ch.first_sequence, ch.last_sequence) {
                (Some(a), Some(b)) => format!("{a}–{b}"),
                _ => "–".into(),
            },
            ch.head.hash.as_deref().map_or("–".into(), abbreviated),
            ch.merkle
                .as_ref()
                .and_then(|m| m.root.as_deref())
                .map_or("–".into(), abbreviated),
            ch.verdict.clone(),
            format!(
                "{} / {} / {} / {}",
                g("integrity"),
                g("authenticity"),
                g("head"),
                g("tail")
            ),
        ]);
    }
    out.push('\n');
    out.push_str(&t.to_string());
    out.push('\n');
    if !inputs.is_empty() {
        out.push_str("\nInputs re-checked:\n");
        for i in inputs {
            match &i.subject {
                Some(s) => out.push_str(&format!("  ok        {}  (subject {s})\n", i.file)),
                None => out.push_str(&format!(
                    "  DIFFERS   {}  sha256 {} matches no subject\n",
                    i.file, i.sha256
                )),
            }
        }
    }
    out
}

/// The first 16 characters of a hash, then an ellipsis: enough to tell
/// chains apart in a table. It counts characters, not bytes, because a
/// certificate's fields are whatever its signer wrote.
fn abbreviated(hash: &str) -> String {
    let head: String = hash.chars().take(16).collect();
    format!("{head}…")
}

/// What `cert verify --format json` prints.
pub fn render_certified_json(c: &Certified, inputs: &[InputCheck]) -> String {
    let v = serde_json::json!({
        "schema": "audit-verify/cert-check/v1",
        "authentic": true,
        "inputs_match": inputs.iter().all(|i| i.subject.is_some()),
        "signer": c.signer,
        "inputs": inputs.iter().map(|i| serde_json::json!({"file": i.file, "sha256": i.sha256, "subject": i.subject})).collect::<Vec<_>>(),
        "statement": c.statement,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(feature = "aws-lc")]
mod signer {
    //! Signing with aws-lc-rs.
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair, ML_DSA_65_SIGNING, PqdsaKeyPair,
    };

    use super::{CertError, SigningKey};
    use crate::crypto::{KeyAlg, PublicKey};

    pub enum Inner {
        Es256(EcdsaKeyPair),
        MlDsa65(PqdsaKeyPair),
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, String> {
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            let public = PublicKey::new(KeyAlg::P256, k.public_key().as_ref().to_vec())
                .map_err(|e| e.to_string())?;
            return Ok(SigningKey {
                public,
                inner: Inner::Es256(k),
            });
        }
        if let Ok(k) = PqdsaKeyPair::from_pkcs8(&ML_DSA_65_SIGNING, der) {
            let public = PublicKey::new(KeyAlg::MlDsa65, k.public_key().as_ref().to_vec())
                .map_err(|e| e.to_string())?;
            return Ok(SigningKey {
                public,
                inner: Inner::MlDsa65(k),
            });
        }
        Err("not a P-256 or ML-DSA-65 PKCS#8 private key".into())
    }

    pub fn generate(alg: KeyAlg) -> Result<(SigningKey, Vec<u8>), CertError> {
        let der = match alg {
            KeyAlg::P256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
            KeyAlg::MlDsa65 => PqdsaKeyPair::generate(&ML_DSA_65_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
            KeyAlg::Ed25519 => return Err(CertError::NoSigner),
        }
        .map_err(|_| CertError::NoSigner)?;
        let key = from_pkcs8(&der).map_err(|_| CertError::NoSigner)?;
        Ok((key, der))
    }

    pub fn sign(inner: &Inner, msg: &[u8]) -> Result<Vec<u8>, CertError> {
        match inner {
            Inner::Es256(k) => k
                .sign(&SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CertError::NoSigner),
            Inner::MlDsa65(k) => {
                let mut sig = vec![0u8; 3309];
                let n = k.sign(msg, &mut sig).map_err(|_| CertError::NoSigner)?;
                sig.truncate(n);
                Ok(sig)
            }
        }
    }
}

#[cfg(not(feature = "aws-lc"))]
mod signer {
    //! Builds without aws-lc cannot sign.
    use super::{CertError, SigningKey};
    use crate::crypto::KeyAlg;

    pub enum Inner {}

    pub fn from_pkcs8(_der: &[u8]) -> Result<SigningKey, String> {
        Err("signing certificates needs the aws-lc feature, which this build lacks".into())
    }

    pub fn generate(_alg: KeyAlg) -> Result<(SigningKey, Vec<u8>), CertError> {
        Err(CertError::NoSigner)
    }

    pub fn sign(inner: &Inner, _msg: &[u8]) -> Result<Vec<u8>, CertError> {
        match *inner {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn pem_round_trips() {
        let der: Vec<u8> = (0..=255u8).collect();
        assert_eq!(
            pem_decode(&pem_encode("PUBLIC KEY", &der), "PUBLIC KEY"),
            Some(der)
        );
    }
}
