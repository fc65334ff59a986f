//! C2SP signed notes (c2sp.org/signed-note@v1.0.0) carrying tlog checkpoints
//! (c2sp.org/tlog-checkpoint@v1.0.0), their verifier keys (vkeys), and signature verification for
//! the Ed25519 types: `0x01` note signatures over the note text, and `0x04` timestamped witness
//! cosignatures (c2sp.org/tlog-cosignature, Ed25519 over `cosignature/v1\ntime <t>\n` ‖ text).
//!
//! Key ids follow the C2SP rule `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`, and a vkey whose
//! id does not match its key is refused. Per the spec, signatures by unknown (name, id) pairs are
//! ignored, a known key's signature must verify (one failure rejects the note), and a note with no
//! verified signature is not trusted. ECDSA (`0x02`), RFC 6962 tree-head (`0x05`) and ML-DSA-44
//! (`0x06`) keys are not supported and are refused when supplied.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use crate::crypto::{KeyAlg, Provider, PublicKey, Signature};
use crate::merkle::Hash;

use super::Trust;

/// Most signature lines read from one note (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// Signature type of an Ed25519 note signature.
const TYPE_ED25519: u8 = 0x01;
/// Signature type of a timestamped Ed25519 cosignature.
const TYPE_COSIGNATURE: u8 = 0x04;
/// Length of an Ed25519 signature.
const ED25519_SIG_LEN: usize = 64;

/// What a note key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKeyKind {
    /// `0x01`: Ed25519 over the note text (a log's key).
    Ed25519,
    /// `0x04`: timestamped Ed25519 cosignature (a witness's key).
    Cosignature,
}

/// A trusted note verifier key.
#[derive(Debug, Clone)]
pub struct NoteKey {
    /// The key name.
    pub name: String,
    /// The 4-byte key id.
    pub id: u32,
    /// The signature type.
    pub kind: NoteKeyKind,
    /// The Ed25519 public key.
    pub key: PublicKey,
}

impl NoteKey {
    /// `name (Ed25519 note key 530d903a)`.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            NoteKeyKind::Ed25519 => "Ed25519 note key",
            NoteKeyKind::Cosignature => "Ed25519 cosignature key",
        };
        format!("{} ({kind} {:08x})", self.name, self.id)
    }
}

/// The C2SP key id: `SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]`, big-endian.
pub fn key_id(name: &str, kind: u8, key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, kind]);
    h.update(key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// Parses a vkey `<name>+<8 hex key id>+<base64(type ‖ public key)>`.
///
/// # Errors
/// A message saying what is wrong: the shape, an unsupported type, a key that is not a valid
/// Ed25519 key, or a key id that does not match the key.
pub fn parse_vkey(text: &str) -> Result<NoteKey, String> {
    let text = text.trim();
    let (name, rest) = text
        .split_once('+')
        .ok_or("a vkey has the form <name>+<key id>+<key>")?;
    let (id_hex, key_b64) = rest
        .split_once('+')
        .ok_or("a vkey has the form <name>+<key id>+<key>")?;
    if !valid_name(name) {
        return Err(format!(
            "key name {name:?} is empty or holds a space or '+'"
        ));
    }
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("key id {id_hex:?} is not 8 hex digits"));
    }
    let id = u32::from_str_radix(id_hex, 16).map_err(|e| e.to_string())?;
    let raw = STANDARD
        .decode(key_b64)
        .map_err(|e| format!("key is not standard base64: {e}"))?;
    let (&type_byte, key) = raw.split_first().ok_or("the key is empty")?;
    let kind = match type_byte {
        TYPE_ED25519 => NoteKeyKind::Ed25519,
        TYPE_COSIGNATURE => NoteKeyKind::Cosignature,
        other => {
            return Err(format!(
                "signature type 0x{other:02x} is not supported (0x01 Ed25519 and 0x04 Ed25519 cosignatures are)"
            ));
        }
    };
    let public = PublicKey::new(KeyAlg::Ed25519, key.to_vec()).map_err(|e| e.to_string())?;
    let derived = key_id(name, type_byte, key);
    if derived != id {
        return Err(format!(
            "key id {id:08x} does not match the key (the C2SP rule gives {derived:08x})"
        ));
    }
    Ok(NoteKey {
        name: name.to_string(),
        id,
        kind,
        key: public,
    })
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id (first 4 bytes).
    pub id: u32,
    /// The signature bytes after the key id.
    pub sig: Vec<u8>,
}

/// A signed note: its text (with the final newline) and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

/// Parses a signed note.
///
/// # Errors
/// A message saying which rule of the format is broken.
pub fn parse_note(s: &str) -> Result<SignedNote, String> {
    if let Some(pos) = s.bytes().position(|b| b < 0x20 && b != b'\n') {
        return Err(format!(
            "control character 0x{:02x} at byte {pos} (a note allows only newline; CR LF line ends are not allowed)",
            s.as_bytes()[pos]
        ));
    }
    if !s.ends_with('\n') {
        return Err("the note does not end in a newline".into());
    }
    let sep = s
        .rfind("\n\n")
        .ok_or("no blank line separates the text from the signatures")?;
    let text = &s[..=sep];
    let block = &s[sep + 2..];
    if block.is_empty() {
        return Err("no signature lines after the blank line".into());
    }
    let mut signatures = Vec::new();
    for (i, line) in block.split_terminator('\n').enumerate() {
        if signatures.len() == MAX_SIGNATURES {
            return Err(format!("more than {MAX_SIGNATURES} signature lines"));
        }
        let rest = line.strip_prefix("\u{2014} ").ok_or_else(|| {
            format!(
                "signature line {} does not start with an em dash and a space",
                i + 1
            )
        })?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| format!("signature line {} has no signature after the name", i + 1))?;
        if !valid_name(name) {
            return Err(format!(
                "signature line {}: key name {name:?} is empty or holds a space or '+'",
                i + 1
            ));
        }
        let raw = STANDARD.decode(b64).map_err(|e| {
            format!(
                "signature line {}: signature is not standard base64: {e}",
                i + 1
            )
        })?;
        if raw.len() < 5 {
            return Err(format!(
                "signature line {}: {} bytes, too short for a key id and a signature",
                i + 1,
                raw.len()
            ));
        }
        signatures.push(NoteSignature {
            name: name.to_string(),
            id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            sig: raw[4..].to_vec(),
        });
    }
    Ok(SignedNote {
        text: text.to_string(),
        signatures,
    })
}

/// The checkpoint a note's text holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointBody {
    /// The origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
    /// Extension lines (not interpreted).
    pub extensions: Vec<String>,
}

/// Parses a tlog-checkpoint note text: origin, tree size, base64 root, optional extension lines.
///
/// # Errors
/// A message saying which line is wrong.
pub fn parse_body(text: &str) -> Result<CheckpointBody, String> {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect();
    if lines.len() < 3 {
        return Err(format!(
            "a checkpoint has at least three lines (origin, tree size, root), this one has {}",
            lines.len()
        ));
    }
    if let Some(i) = lines.iter().position(|l| l.is_empty()) {
        return Err(format!("line {} of the checkpoint is empty", i + 1));
    }
    let size_text = lines[1];
    if !size_text.bytes().all(|b| b.is_ascii_digit())
        || (size_text.len() > 1 && size_text.starts_with('0'))
    {
        return Err(format!(
            "tree size {size_text:?} is not a decimal number without leading zeros"
        ));
    }
    let size = size_text
        .parse::<u64>()
        .map_err(|_| format!("tree size {size_text:?} does not fit in 64 bits"))?;
    let root_raw = STANDARD
        .decode(lines[2])
        .map_err(|e| format!("root hash is not standard base64: {e}"))?;
    let root: Hash = root_raw
        .as_slice()
        .try_into()
        .map_err(|_| format!("root hash is {} bytes, not 32", root_raw.len()))?;
    Ok(CheckpointBody {
        origin: lines[0].to_string(),
        size,
        root,
        extensions: lines[3..].iter().map(|s| s.to_string()).collect(),
    })
}

/// Verifies a note's signatures with the supplied keys, by the C2SP rules.
pub fn verify_note(note: &SignedNote, keys: &[NoteKey], provider: &dyn Provider) -> Trust {
    let mut signers = Vec::new();
    let mut unknown = Vec::new();
    for s in &note.signatures {
        let Some(key) = keys.iter().find(|k| k.name == s.name && k.id == s.id) else {
            unknown.push(format!("{} ({:08x})", s.name, s.id));
            continue;
        };
        let ok = match key.kind {
            NoteKeyKind::Ed25519 => {
                s.sig.len() == ED25519_SIG_LEN
                    && verify_ed25519(provider, &key.key, &s.sig, note.text.as_bytes())
            }
            NoteKeyKind::Cosignature => verify_cosignature(provider, key, &s.sig, &note.text),
        };
        if !ok {
            return Trust::Invalid {
                signer: key.describe(),
            };
        }
        signers.push(match key.kind {
            NoteKeyKind::Cosignature => {
                let t = s
                    .sig
                    .get(..8)
                    .map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or_default()));
                format!("{}, time {t}", key.describe())
            }
            NoteKeyKind::Ed25519 => key.describe(),
        });
    }
    if signers.is_empty() {
        Trust::UnknownKey { names: unknown }
    } else {
        Trust::Verified { signers }
    }
}

fn verify_ed25519(provider: &dyn Provider, key: &PublicKey, sig: &[u8], msg: &[u8]) -> bool {
    provider
        .prepare(key)
        .is_ok_and(|k| k.verify(Signature::Ed25519(sig), msg))
}

fn verify_cosignature(provider: &dyn Provider, key: &NoteKey, sig: &[u8], text: &str) -> bool {
    if sig.len() != 8 + ED25519_SIG_LEN {
        return false;
    }
    let (time, sig) = sig.split_at(8);
    let time = u64::from_be_bytes(time.try_into().unwrap_or_default());
    if time > i64::MAX as u64 {
        return false;
    }
    let msg = format!("cosignature/v1\ntime {time}\n{text}");
    verify_ed25519(provider, &key.key, sig, msg.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::all_providers;

    /// The example of c2sp.org/signed-note (quoted in shared/formats/other.md §5.1).
    const VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn more_than_a_hundred_signature_lines_are_refused() {
        let line = NOTE.split("\n\n").nth(1).unwrap();
        let body = "This is an example message.\n\n";
        let at_limit = format!("{body}{}", line.repeat(MAX_SIGNATURES));
        assert_eq!(parse_note(&at_limit).unwrap().signatures.len(), 100);
        let over = format!("{body}{}", line.repeat(MAX_SIGNATURES + 1));
        let e = parse_note(&over).unwrap_err();
        assert!(e.contains("more than 100 signature lines"), "{e}");
    }

    #[test]
    fn the_spec_example_verifies() {
        let key = parse_vkey(VKEY).unwrap();
        assert_eq!(key.id, 0x530d903a);
        assert_eq!(key.kind, NoteKeyKind::Ed25519);
        let note = parse_note(NOTE).unwrap();
        assert_eq!(note.text, "This is an example message.\n");
        assert_eq!(note.signatures.len(), 1);
        assert_eq!(note.signatures[0].id, 0x530d903a);
        for p in all_providers() {
            assert_eq!(
                verify_note(&note, std::slice::from_ref(&key), p),
                Trust::Verified {
                    signers: vec!["example.com/foo (Ed25519 note key 530d903a)".into()]
                }
            );
            // An altered text fails; a signature by an unknown name is ignored.
            let mut bad = note.clone();
            bad.text = "This is an example message!\n".into();
            assert!(matches!(
                verify_note(&bad, std::slice::from_ref(&key), p),
                Trust::Invalid { .. }
            ));
            let mut other = note.clone();
            other.signatures[0].name = "example.com/bar".into();
            assert!(matches!(
                verify_note(&other, std::slice::from_ref(&key), p),
                Trust::UnknownKey { .. }
            ));
        }
    }

    #[test]
    fn vkeys_are_checked() {
        // Wrong key id.
        let wrong = VKEY.replace("530d903a", "530d903b");
        assert!(parse_vkey(&wrong).unwrap_err().contains("does not match"));
        assert!(parse_vkey("example.com/foo+530d903a").is_err());
        assert!(
            parse_vkey("ex ample+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").is_err()
        );
        // Type 0x02 (ECDSA) is refused by name.
        let ecdsa = format!("a+00000000+{}", STANDARD.encode([2u8; 33]));
        assert!(parse_vkey(&ecdsa).unwrap_err().contains("0x02"));
    }

    #[test]
    fn notes_and_bodies_are_parsed_strictly() {
        assert!(parse_note("text\n\n\u{2014} a AAAAAAA=").is_err()); // no final newline
        assert!(parse_note("text\r\n\n\u{2014} a AAAAAAA=\n").is_err());
        assert!(parse_note("text\n\u{2014} a AAAAAAA=\n").is_err()); // no blank line
        assert!(parse_note("text\n\n- a AAAAAAA=\n").is_err());
        assert!(parse_note("text\n\n\u{2014} a AAAA\n").is_err()); // too short
        let body = parse_body(
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        )
        .unwrap();
        assert_eq!(body.size, 20852163);
        assert_eq!(body.origin, "example.com/behind-the-sofa");
        assert!(parse_body("o\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n").is_err());
        assert!(parse_body("o\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n").is_err());
        assert!(parse_body("o\n12\nCsUYapGG\n").is_err());
        assert!(parse_body("o\n12\n").is_err());
        assert_eq!(
            parse_body("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n")
                .unwrap()
                .extensions,
            vec!["ext".to_string()]
        );
    }
}
