//! Public keys as trust input: loading PEM `SubjectPublicKeyInfo` (RFC 7468,
//! RFC 5280), JWK and JWK Sets (RFC 7517, 7518, 8037, draft-ietf-cose-dilithium
//! AKP), the asqav key directory and the `aat-verify` keystore, plus raw hex
//! keys; deriving key ids (RFC 7638 thumbprints, the AKP thumbprint, and
//! base64url(SHA-256(raw key)) as `aat-verify` computes ML-DSA kids); and the
//! [`KeyRing`] that resolves a record's kid to a key.
//!
//! Formats are detected by content, never by extension. Private keys are
//! refused, files are bounded to 1 MiB, and every error names the file.

mod json;
mod spki;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::bounded::ReadError;
use crate::crypto::{CryptoError, KeyAlg, PublicKey};
use spki::{SpkiProblem, shown};

/// A table of the key ring: an ordered map, not a hash table. Every entry comes from the auditor's
/// own key files and an export's kids are only looked up, so no export can make it slow; an
/// ordered map lays its entries out by their order alone, the same on every run, and every insert
/// or lookup compares keys, so no path through it depends on whether two hashes happen to collide.
type KeyTable<K, V> = BTreeMap<K, V>;
/// A set of the key ring, ordered as [`KeyTable`] is.
type KeySet<T> = BTreeSet<T>;

/// The largest key file read, in bytes (1 MiB).
pub const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// Most key files taken from one directory.
pub const MAX_KEY_DIR_FILES: usize = 10_000;

/// Most keys in one ring, all files together.
pub const MAX_KEYS: usize = 100_000;

/// How a kid was matched to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KidRule {
    /// RFC 7638 JWK thumbprint (EC and OKP keys).
    Rfc7638,
    /// RFC 7638 thumbprint of the AKP JWK `{"alg","kty":"AKP","pub"}` (ML-DSA).
    AkpRfc7638,
    /// base64url(SHA-256(raw public key)), as `aat-verify` derives ML-DSA kids.
    Sha256Raw,
    /// The kid the key file declares; not derivable from the key.
    Declared,
}

impl fmt::Display for KidRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KidRule::Rfc7638 => "RFC 7638 thumbprint",
            KidRule::AkpRfc7638 => "RFC 7638 thumbprint of the AKP JWK",
            KidRule::Sha256Raw => "base64url(SHA-256(raw public key))",
            KidRule::Declared => "declared kid (not derivable from the key)",
        })
    }
}

/// One trusted public key and what its file says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The checked key.
    pub public: PublicKey,
    /// The `kid` the file gives (JWK `kid`, keystore map key), if any.
    pub declared_kid: Option<String>,
    /// The file path plus `#<kid>` or `#<index in the file>`.
    pub source: String,
    /// Key-directory status (`active`, `revoked`, …), verbatim.
    pub status: Option<String>,
    /// Key-directory `revoked_at`, verbatim.
    pub revoked_at: Option<String>,
    /// Key-directory bindings (asqav: `issuer_id`, `org_id`, `agent_id`).
    pub binding: KeyBinding,
}

/// What a key directory says the key signs for (asqav `formats/asqav.md` 6.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyBinding {
    /// `issuer_id`.
    pub issuer_id: Option<String>,
    /// `org_id`.
    pub org_id: Option<String>,
    /// `agent_id`.
    pub agent_id: Option<String>,
    /// `revocation_reason`.
    pub revocation_reason: Option<String>,
}

impl Key {
    /// Every key id derivable from the key itself, with its rule: the RFC 7638
    /// thumbprint for P-256 and Ed25519; the AKP thumbprint and the SHA-256 of
    /// the raw key for ML-DSA-65.
    #[must_use]
    pub fn derived_kids(&self) -> Vec<(KidRule, String)> {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let thumb = |json: String| b64(&Sha256::digest(json.as_bytes()));
        let raw = self.public.bytes();
        match self.public.alg() {
            KeyAlg::P256 => {
                // Stored uncompressed: 0x04 ‖ x ‖ y (PublicKey::new guarantees 65 bytes).
                let x = raw.get(1..33).unwrap_or_default();
                let y = raw.get(33..65).unwrap_or_default();
                vec![(
                    KidRule::Rfc7638,
                    thumb(format!(
                        "{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{}\",\"y\":\"{}\"}}",
                        b64(x),
                        b64(y)
                    )),
                )]
            }
            KeyAlg::Ed25519 => vec![(
                KidRule::Rfc7638,
                thumb(format!(
                    "{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{}\"}}",
                    b64(raw)
                )),
            )],
            KeyAlg::MlDsa65 => vec![
                (
                    KidRule::AkpRfc7638,
                    thumb(format!(
                        "{{\"alg\":\"ML-DSA-65\",\"kty\":\"AKP\",\"pub\":\"{}\"}}",
                        b64(raw)
                    )),
                ),
                (KidRule::Sha256Raw, b64(&Sha256::digest(raw))),
            ],
        }
    }

    /// `sha256:` and the hex SHA-256 of the key's DER `SubjectPublicKeyInfo`
    /// (as `openssl pkey -pubin -outform DER | sha256sum` prints it).
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(self.spki_der())))
    }

    /// The key's DER `SubjectPublicKeyInfo` (uncompressed point for P-256).
    #[must_use]
    pub fn spki_der(&self) -> Vec<u8> {
        spki::encode_spki(self.public.alg(), self.public.bytes())
    }

    /// A short label for messages: the start of the first derived kid.
    fn short(&self) -> String {
        let first = self
            .derived_kids()
            .into_iter()
            .next()
            .map(|(_, k)| k)
            .unwrap_or_default();
        format!("{}…", first.chars().take(8).collect::<String>())
    }
}

/// Errors in loading keys. Each names the file it concerns.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum KeyError {
    /// The file or directory could not be read.
    #[error("cannot read key file {path}: {source}")]
    #[diagnostic(
        code(audit_verify::keys::io),
        help("check the path and its permissions")
    )]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is over [`MAX_KEY_FILE_BYTES`].
    #[error("key file {path} is over the {limit}-byte limit (found {size} bytes or more)")]
    #[diagnostic(
        code(audit_verify::keys::too_large),
        help("a key file holds public keys only; point at the key file, not at an export")
    )]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// Bytes found (at least).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A directory with more than [`MAX_KEY_DIR_FILES`] files.
    #[error("directory {path} holds more than {limit} files")]
    #[diagnostic(
        code(audit_verify::keys::too_many_files),
        help(
            "point at the directory of key files, not at a folder of exports or a home directory"
        )
    )]
    TooManyFiles {
        /// The directory.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// More than [`MAX_KEYS`] keys in all.
    #[error("more than {limit} keys supplied")]
    #[diagnostic(
        code(audit_verify::keys::too_many_keys),
        help("supply the keys of the signers of this export only")
    )]
    TooManyKeys {
        /// The limit.
        limit: usize,
    },
    /// A directory without any key file.
    #[error("directory {path} holds no key files")]
    #[diagnostic(
        code(audit_verify::keys::empty_dir),
        help("put PEM, JWK or JWKS files in it; hidden files and README* are skipped")
    )]
    EmptyDir {
        /// The directory.
        path: PathBuf,
    },
    /// A key file that parses but holds no key (e.g. `{"keys":[]}`).
    #[error("{path} holds no public keys")]
    #[diagnostic(
        code(audit_verify::keys::no_keys),
        help("supply a file with at least one public key")
    )]
    NoKeys {
        /// The path.
        path: PathBuf,
    },
    /// Content that is no key format we read.
    #[error(
        "{path} is not a PEM, JWK, JWK Set, asqav key directory, aat-verify keystore or hex key file"
    )]
    #[diagnostic(
        code(audit_verify::keys::unknown_format),
        help(
            "supply a PEM \"PUBLIC KEY\" file or a JWK/JWKS; convert binary DER with `openssl pkey -pubin -inform DER`"
        )
    )]
    UnknownFormat {
        /// The path.
        path: PathBuf,
    },
    /// JSON that does not parse (including duplicate members).
    #[error("{path} is not valid JSON: {detail}")]
    #[diagnostic(
        code(audit_verify::keys::json),
        help("fix the JSON; duplicate members are refused because readers disagree on them")
    )]
    Json {
        /// The path.
        path: PathBuf,
        /// serde_json's message with line and column.
        detail: String,
    },
    /// A private key where a public key belongs.
    #[error("{path} holds a private key ({what}); supply the public key")]
    #[diagnostic(
        code(audit_verify::keys::private_key),
        help(
            "never hand private keys to a verifier; export the public half, e.g. `openssl pkey -pubout`"
        )
    )]
    PrivateKey {
        /// The path.
        path: PathBuf,
        /// What gave it away.
        what: String,
    },
    /// A malformed PEM file.
    #[error("malformed PEM in {path}: {detail}")]
    #[diagnostic(
        code(audit_verify::keys::pem),
        help("each block needs matching BEGIN/END lines and base64 content")
    )]
    Pem {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A PEM block that is not a public key.
    #[error("unsupported PEM block \"{label}\" in {path}")]
    #[diagnostic(
        code(audit_verify::keys::pem_label),
        help(
            "supply \"PUBLIC KEY\" blocks; for a certificate, extract its key with `openssl x509 -pubkey -noout`"
        )
    )]
    PemLabel {
        /// The path.
        path: PathBuf,
        /// The block label.
        label: String,
    },
    /// A malformed `SubjectPublicKeyInfo`.
    #[error("malformed SubjectPublicKeyInfo in {path} ({at}): {detail}")]
    #[diagnostic(
        code(audit_verify::keys::spki),
        help("the key must be strict DER; re-export it with `openssl pkey -pubin -pubout`")
    )]
    Spki {
        /// The path.
        path: PathBuf,
        /// Which block.
        at: String,
        /// What is wrong.
        detail: String,
    },
    /// An SPKI algorithm OID we do not verify.
    #[error("unsupported key algorithm {oid} in {path} ({at})")]
    #[diagnostic(
        code(audit_verify::keys::unsupported_oid),
        help(
            "supported: P-256 (1.2.840.10045.2.1), Ed25519 (1.3.101.112), ML-DSA-65 (2.16.840.1.101.3.4.3.18)"
        )
    )]
    UnsupportedOid {
        /// The path.
        path: PathBuf,
        /// Which block.
        at: String,
        /// The OID, dotted, with its name when known.
        oid: String,
    },
    /// An EC or OKP key on another curve.
    #[error("unsupported curve {curve} in {path} ({at})")]
    #[diagnostic(
        code(audit_verify::keys::unsupported_curve),
        help("supported curves: P-256 (ES256) and Ed25519")
    )]
    UnsupportedCurve {
        /// The path.
        path: PathBuf,
        /// Which entry.
        at: String,
        /// The curve name or OID.
        curve: String,
    },
    /// A JWK `kty` we do not verify.
    #[error("unsupported key type \"{kty}\" in {path} ({at})")]
    #[diagnostic(
        code(audit_verify::keys::unsupported_kty),
        help("supported: kty EC (P-256), OKP (Ed25519), AKP (ML-DSA-65)")
    )]
    UnsupportedKty {
        /// The path.
        path: PathBuf,
        /// Which entry.
        at: String,
        /// The `kty`.
        kty: String,
    },
    /// An `alg` we do not verify.
    #[error("unsupported algorithm \"{alg}\" in {path} ({at})")]
    #[diagnostic(
        code(audit_verify::keys::unsupported_alg),
        help("supported: ES256, Ed25519/EdDSA, ML-DSA-65")
    )]
    UnsupportedAlg {
        /// The path.
        path: PathBuf,
        /// Which entry.
        at: String,
        /// The `alg`.
        alg: String,
    },
    /// An `alg` that contradicts the key.
    #[error("{path} ({at}): alg \"{alg}\" does not fit a {key_alg} key")]
    #[diagnostic(
        code(audit_verify::keys::alg_mismatch),
        help("P-256 keys take ES256, Ed25519 keys EdDSA or Ed25519, AKP keys ML-DSA-65")
    )]
    AlgMismatch {
        /// The path.
        path: PathBuf,
        /// Which entry.
        at: String,
        /// The declared `alg`.
        alg: String,
        /// The key's algorithm.
        key_alg: KeyAlg,
    },
    /// A required member is absent.
    #[error("{path} ({at}): member \"{member}\" is missing")]
    #[diagnostic(
        code(audit_verify::keys::missing_member),
        help("see RFC 7517/7518 for the members each key type needs")
    )]
    MissingMember {
        /// The path.
        path: PathBuf,
        /// Which entry.
        at: String,
        /// The member.
        member: &'static str,
    },
    /// A member with a wrong type or encoding.
    #[error("{path} ({at}): member \"{member}\" {detail}")]
    #[diagnostic(
        code(audit_verify::keys::bad_member),
        help(
            "JWK binary members are base64url without padding (RFC 7515, 2); asqav public_key is standard base64"
        )
    )]
    BadMember {
        /// The path.
        path: PathBuf,
        /// Which entry.
        at: String,
        /// The member.
        member: String,
        /// What is wrong.
        detail: String,
    },
    /// Well-formed bytes that are not an acceptable key.
    #[error("{path} ({at}): {source}")]
    #[diagnostic(
        code(audit_verify::keys::invalid_key),
        help("the key is corrupted or not of the declared type")
    )]
    InvalidKey {
        /// The path.
        path: PathBuf,
        /// Which entry.
        at: String,
        /// Why the key was refused.
        #[source]
        source: CryptoError,
    },
    /// A hex file whose length fits no algorithm.
    #[error("{path} holds {len} hex-encoded bytes, which fits no supported key")]
    #[diagnostic(
        code(audit_verify::keys::hex_length),
        help(
            "raw hex keys: 32 bytes (Ed25519), 33 or 65 bytes (P-256 SEC1), 1952 bytes (ML-DSA-65)"
        )
    )]
    HexLength {
        /// The path.
        path: PathBuf,
        /// Decoded length.
        len: usize,
    },
    /// One kid naming two different keys in one set.
    #[error("{path}: kid \"{kid}\" names two different keys")]
    #[diagnostic(
        code(audit_verify::keys::duplicate_kid),
        help("each kid in a key set must name one key")
    )]
    DuplicateKid {
        /// The path.
        path: PathBuf,
        /// The kid.
        kid: String,
    },
    /// One kid naming different keys in two files.
    #[error("kid \"{kid}\" names different keys in {first} and {second}")]
    #[diagnostic(
        code(audit_verify::keys::conflicting_kid),
        help("remove one of the files, or supply them in separate runs")
    )]
    ConflictingKid {
        /// The kid.
        kid: String,
        /// The first key's source (path#kid).
        first: String,
        /// The second key's source (path#kid).
        second: String,
    },
}

/// Keys parsed from one file, and what is worth a warning.
#[derive(Debug, Default)]
struct Parsed {
    keys: Vec<Key>,
    warnings: Vec<String>,
}

/// The trusted keys, indexed by derived and declared kid.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Vec<Key>,
    warnings: Vec<String>,
    by_derived: KeyTable<String, (usize, KidRule)>,
    by_declared: KeyTable<String, usize>,
}

impl KeyRing {
    /// Loads key files and directories. A directory contributes every regular
    /// file in it (not recursively), in name order, skipping hidden files and
    /// `README*`. A kid that names different keys in two files is an error.
    ///
    /// # Errors
    /// [`KeyError`] for the first file that cannot be read or parsed, an empty
    /// directory, or a conflicting kid.
    pub fn load(paths: &[PathBuf]) -> Result<KeyRing, KeyError> {
        let mut all = Parsed::default();
        for path in paths {
            let meta = fs::metadata(path).map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })?;
            if meta.is_dir() {
                let files = key_files_in(path)?;
                if files.is_empty() {
                    return Err(KeyError::EmptyDir { path: path.clone() });
                }
                for file in files {
                    load_file(&file, &mut all)?;
                    if all.keys.len() > MAX_KEYS {
                        return Err(KeyError::TooManyKeys { limit: MAX_KEYS });
                    }
                }
            } else {
                load_file(path, &mut all)?;
            }
            if all.keys.len() > MAX_KEYS {
                return Err(KeyError::TooManyKeys { limit: MAX_KEYS });
            }
        }
        if let Some((kid, first, second)) = conflicting_kid(&all.keys) {
            return Err(KeyError::ConflictingKid { kid, first, second });
        }
        Ok(Self::build(all.keys, all.warnings))
    }

    /// Parses one key file already in memory (e.g. a key set embedded in an
    /// export); `origin` names it in errors and in each key's `source`.
    ///
    /// # Errors
    /// [`KeyError`] as for [`KeyRing::load`].
    pub fn parse(bytes: &[u8], origin: &Path) -> Result<KeyRing, KeyError> {
        let mut parsed = Parsed::default();
        parse_key_file(bytes, origin, &mut parsed)?;
        Ok(Self::build(parsed.keys, parsed.warnings))
    }

    /// A ring of already checked keys. Repeated keys are merged (see
    /// [`KeyRing::len`]); a kid
    /// declared for different keys resolves to the first (with a warning).
    #[must_use]
    pub fn from_keys(keys: Vec<Key>) -> KeyRing {
        let mut warnings = Vec::new();
        if let Some((kid, first, second)) = conflicting_kid(&keys) {
            warnings.push(format!(
                "kid \"{kid}\" names different keys in {first} and {second}; using {first}"
            ));
        }
        Self::build(keys, warnings)
    }

    fn build(keys: Vec<Key>, mut warnings: Vec<String>) -> KeyRing {
        let mut ring_keys: Vec<Key> = Vec::with_capacity(keys.len());
        // Entries of each public key, in ring order: a ring of many keys builds in linear time.
        let mut entries: KeyTable<PublicKey, Vec<usize>> = KeyTable::default();
        for key in keys {
            // The same key again, under the same kid or where one side has none
            // (a PEM and a JWKS of one key), is one entry.
            let same = entries.get(&key.public).and_then(|list| {
                list.iter().copied().find(|&i| {
                    let k = &ring_keys[i];
                    k.declared_kid == key.declared_kid
                        || k.declared_kid.is_none()
                        || key.declared_kid.is_none()
                })
            });
            let Some(i) = same else {
                entries
                    .entry(key.public.clone())
                    .or_default()
                    .push(ring_keys.len());
                ring_keys.push(key);
                continue;
            };
            let first = &mut ring_keys[i];
            let has_status = |k: &Key| k.status.is_some() || k.revoked_at.is_some();
            if has_status(first)
                && has_status(&key)
                && (first.status != key.status || first.revoked_at != key.revoked_at)
            {
                warnings.push(format!(
                    "key {} in {}: status or revoked_at differs from {}; using {}",
                    key.short(),
                    shown(&key.source),
                    shown(&first.source),
                    shown(&first.source)
                ));
            }
            // The first status seen wins; the entry that names the key is kept.
            let (status, revoked_at) = if has_status(first) {
                (first.status.take(), first.revoked_at.take())
            } else {
                (key.status.clone(), key.revoked_at.clone())
            };
            if first.declared_kid.is_none() && key.declared_kid.is_some() {
                *first = key;
            }
            first.status = status;
            first.revoked_at = revoked_at;
        }
        let mut by_derived = KeyTable::default();
        let mut by_declared = KeyTable::default();
        for (i, key) in ring_keys.iter().enumerate() {
            for (rule, kid) in key.derived_kids() {
                by_derived.entry(kid).or_insert((i, rule));
            }
            if let Some(kid) = &key.declared_kid {
                by_declared.entry(kid.clone()).or_insert(i);
            }
        }
        for key in &ring_keys {
            let Some(kid) = &key.declared_kid else {
                continue;
            };
            let derived = key.derived_kids();
            if derived.iter().any(|(_, d)| d == kid) {
                continue;
            }
            warnings.push(format!(
                "key {} in {}: declared kid differs from every derivable id",
                key.short(),
                shown(&key.source)
            ));
            if let Some((other, _)) = by_derived.get(kid) {
                warnings.push(format!(
                    "key {} in {}: declared kid \"{}\" is the derived id of {}; that key is used for it",
                    key.short(),
                    shown(&key.source),
                    shown(kid),
                    shown(&ring_keys[*other].source)
                ));
            }
        }
        KeyRing {
            keys: ring_keys,
            warnings,
            by_derived,
            by_declared,
        }
    }

    /// Number of key entries (one key declared under two kids counts twice).
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the ring holds no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in load order.
    #[must_use]
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Finds the key a record's kid designates: first by derived kids
    /// (returning the rule that matched), then by declared kid
    /// ([`KidRule::Declared`]).
    #[must_use]
    pub fn find(&self, kid: &str) -> Option<(&Key, KidRule)> {
        self.position(kid)
            .and_then(|(i, rule)| self.keys.get(i).map(|k| (k, rule)))
    }

    /// As [`KeyRing::find`], the key's place in [`KeyRing::keys`].
    #[must_use]
    pub fn position(&self, kid: &str) -> Option<(usize, KidRule)> {
        self.by_derived
            .get(kid)
            .copied()
            .or_else(|| self.by_declared.get(kid).map(|&i| (i, KidRule::Declared)))
    }

    /// Every key of one algorithm, in load order.
    #[must_use]
    pub fn by_alg(&self, alg: KeyAlg) -> Vec<&Key> {
        self.keys.iter().filter(|k| k.public.alg() == alg).collect()
    }

    /// Things worth telling the user about the keys (none are errors).
    #[must_use]
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// First kid declared for two different keys: (kid, first source, second source).
fn conflicting_kid(keys: &[Key]) -> Option<(String, String, String)> {
    let mut seen: KeyTable<&str, &Key> = KeyTable::default();
    for key in keys {
        let Some(kid) = key.declared_kid.as_deref() else {
            continue;
        };
        match seen.get(kid) {
            Some(first) if first.public != key.public => {
                return Some((shown(kid), shown(&first.source), shown(&key.source)));
            }
            Some(_) => {}
            None => {
                seen.insert(kid, key);
            }
        }
    }
    None
}

fn key_files_in(dir: &Path) -> Result<Vec<PathBuf>, KeyError> {
    let io = |source| KeyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str.starts_with('.') || name_str.to_ascii_lowercase().starts_with("readme") {
            continue;
        }
        let path = entry.path();
        // Follows symlinks: a link to a regular file counts as one.
        let is_file = fs::metadata(&path)
            .map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })?
            .is_file();
        if is_file {
            files.push((name, path));
            if files.len() > MAX_KEY_DIR_FILES {
                return Err(KeyError::TooManyFiles {
                    path: dir.to_path_buf(),
                    limit: MAX_KEY_DIR_FILES,
                });
            }
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

fn load_file(path: &Path, out: &mut Parsed) -> Result<(), KeyError> {
    let bytes = crate::bounded::read_file(path, MAX_KEY_FILE_BYTES).map_err(|e| match e {
        ReadError::Io(source) => KeyError::Io {
            path: path.to_path_buf(),
            source,
        },
        ReadError::TooLarge(size) => KeyError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_KEY_FILE_BYTES,
        },
    })?;
    parse_key_file(&bytes, path, out)
}

/// Detects the format by content and appends the file's keys to `out`.
fn parse_key_file(bytes: &[u8], path: &Path, out: &mut Parsed) -> Result<(), KeyError> {
    let unknown = || KeyError::UnknownFormat {
        path: path.to_path_buf(),
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let before = out.keys.len();
    let text = std::str::from_utf8(bytes).map_err(|_| unknown())?;
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        json::parse_json(bytes, path, out)?;
    } else if text.contains("-----BEGIN ") {
        parse_pem_file(text, path, out)?;
    } else if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        parse_hex_file(trimmed, path, out)?;
    } else {
        return Err(unknown());
    }
    if out.keys.len() == before {
        return Err(KeyError::NoKeys {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn parse_pem_file(text: &str, path: &Path, out: &mut Parsed) -> Result<(), KeyError> {
    // Refuse private keys before anything else, even in a malformed or
    // encrypted block, so the message says what the real problem is.
    if let Some(label) = spki::private_key_label(text) {
        return Err(KeyError::PrivateKey {
            path: path.to_path_buf(),
            what: format!("PEM block \"{}\"", shown(label)),
        });
    }
    let blocks = spki::parse_pem(text).map_err(|detail| KeyError::Pem {
        path: path.to_path_buf(),
        detail,
    })?;
    for (i, block) in blocks.iter().enumerate() {
        if block.label != "PUBLIC KEY" {
            return Err(KeyError::PemLabel {
                path: path.to_path_buf(),
                label: shown(&block.label),
            });
        }
        let at = format!("PEM block {i}");
        let (alg, raw) = spki::parse_spki(&block.der).map_err(|problem| match problem {
            SpkiProblem::Malformed(detail) => KeyError::Spki {
                path: path.to_path_buf(),
                at: at.clone(),
                detail,
            },
            SpkiProblem::UnsupportedAlgorithm(oid) => KeyError::UnsupportedOid {
                path: path.to_path_buf(),
                at: at.clone(),
                oid,
            },
            SpkiProblem::UnsupportedCurve(curve) => KeyError::UnsupportedCurve {
                path: path.to_path_buf(),
                at: at.clone(),
                curve,
            },
        })?;
        let public = PublicKey::new(alg, raw).map_err(|source| KeyError::InvalidKey {
            path: path.to_path_buf(),
            at,
            source,
        })?;
        out.keys.push(Key {
            public,
            declared_kid: None,
            source: format!("{}#{i}", path.display()),
            status: None,
            revoked_at: None,
            binding: KeyBinding::default(),
        });
    }
    Ok(())
}

fn parse_hex_file(hex_text: &str, path: &Path, out: &mut Parsed) -> Result<(), KeyError> {
    let raw = hex::decode(hex_text).map_err(|_| KeyError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let alg = match raw.len() {
        32 => KeyAlg::Ed25519,
        33 | 65 => KeyAlg::P256,
        1952 => KeyAlg::MlDsa65,
        len => {
            return Err(KeyError::HexLength {
                path: path.to_path_buf(),
                len,
            });
        }
    };
    let public = PublicKey::new(alg, raw).map_err(|source| KeyError::InvalidKey {
        path: path.to_path_buf(),
        at: "hex key".into(),
        source,
    })?;
    out.keys.push(Key {
        public,
        declared_kid: None,
        source: format!("{}#0", path.display()),
        status: None,
        revoked_at: None,
        binding: KeyBinding::default(),
    });
    Ok(())
}

#[cfg(test)]
mod tests;
