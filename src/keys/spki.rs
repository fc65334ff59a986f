//! PEM blocks (RFC 7468) and a minimal strict-DER reader and writer for
//! `SubjectPublicKeyInfo` (RFC 5280, 4.1.2.7) holding a P-256 key
//! (id-ecPublicKey with prime256v1, RFC 5480), an Ed25519 key (RFC 8410) or
//! an ML-DSA-65 key (id-ml-dsa-65, draft-ietf-lamps-dilithium-certificates /
//! RFC 9881). Only definite, minimal lengths and single-byte tags are
//! accepted, and nothing may follow the structure.

use crate::crypto::KeyAlg;

/// DER of OID 1.2.840.10045.2.1 (id-ecPublicKey).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER of OID 1.2.840.10045.3.1.7 (prime256v1 / secp256r1).
const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of OID 1.3.101.112 (id-Ed25519).
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// DER of OID 2.16.840.1.101.3.4.3.18 (id-ml-dsa-65).
const OID_ML_DSA_65: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];

const TAG_SEQUENCE: u8 = 0x30;
const TAG_OID: u8 = 0x06;
const TAG_BIT_STRING: u8 = 0x03;

/// Why an SPKI was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpkiProblem {
    /// Not well-formed strict DER, or not the SPKI shape.
    Malformed(String),
    /// An algorithm OID we do not verify (dotted form, with a name if known).
    UnsupportedAlgorithm(String),
    /// id-ecPublicKey on a curve other than P-256.
    UnsupportedCurve(String),
}

/// Reads one `SubjectPublicKeyInfo`: the algorithm and the raw key bytes
/// (SEC1 point, 32-byte Ed25519 key, or 1952-byte ML-DSA-65 key).
pub(crate) fn parse_spki(der: &[u8]) -> Result<(KeyAlg, Vec<u8>), SpkiProblem> {
    let malformed = |s: &str| SpkiProblem::Malformed(s.to_string());
    let mut top = Reader::new(der);
    let spki = top.expect_tag(TAG_SEQUENCE, "SubjectPublicKeyInfo SEQUENCE")?;
    top.finish("data after the SubjectPublicKeyInfo")?;

    let mut spki = Reader::new(spki);
    let alg_id = spki.expect_tag(TAG_SEQUENCE, "AlgorithmIdentifier SEQUENCE")?;
    let bits = spki.expect_tag(TAG_BIT_STRING, "subjectPublicKey BIT STRING")?;
    spki.finish("data after the subjectPublicKey")?;

    let mut alg_id = Reader::new(alg_id);
    let oid = alg_id.expect_tag(TAG_OID, "algorithm OID")?;
    let params = if alg_id.is_empty() {
        None
    } else {
        Some(alg_id.read()?)
    };
    alg_id.finish("data after the algorithm parameters")?;

    let (&unused, key) = bits
        .split_first()
        .ok_or_else(|| malformed("empty BIT STRING"))?;
    if unused != 0 {
        return Err(malformed("BIT STRING with unused bits"));
    }

    let alg = match oid {
        OID_EC_PUBLIC_KEY => match params {
            Some((TAG_OID, OID_PRIME256V1)) => KeyAlg::P256,
            Some((TAG_OID, curve)) => {
                return Err(SpkiProblem::UnsupportedCurve(describe_oid(curve)));
            }
            _ => return Err(malformed("EC key without a named-curve OID")),
        },
        OID_ED25519 | OID_ML_DSA_65 => {
            if params.is_some() {
                return Err(malformed("algorithm parameters must be absent"));
            }
            if oid == OID_ED25519 {
                KeyAlg::Ed25519
            } else {
                KeyAlg::MlDsa65
            }
        }
        other => return Err(SpkiProblem::UnsupportedAlgorithm(describe_oid(other))),
    };
    Ok((alg, key.to_vec()))
}

/// The DER `SubjectPublicKeyInfo` of a raw key in the form `parse_spki` returns.
pub(crate) fn encode_spki(alg: KeyAlg, key: &[u8]) -> Vec<u8> {
    let alg_id = match alg {
        KeyAlg::P256 => [
            tlv(TAG_OID, OID_EC_PUBLIC_KEY),
            tlv(TAG_OID, OID_PRIME256V1),
        ]
        .concat(),
        KeyAlg::Ed25519 => tlv(TAG_OID, OID_ED25519),
        KeyAlg::MlDsa65 => tlv(TAG_OID, OID_ML_DSA_65),
    };
    let bits = [&[0u8][..], key].concat();
    tlv(
        TAG_SEQUENCE,
        &[tlv(TAG_SEQUENCE, &alg_id), tlv(TAG_BIT_STRING, &bits)].concat(),
    )
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Dotted form of a DER OID body, with a name for the common ones.
pub(crate) fn describe_oid(body: &[u8]) -> String {
    let dotted = dotted_oid(body).unwrap_or_else(|| format!("(invalid OID {})", hex::encode(body)));
    let name = match dotted.as_str() {
        "1.2.840.113549.1.1.1" => Some("rsaEncryption"),
        "1.2.840.10045.3.1.7" => Some("P-256"),
        "1.3.132.0.34" => Some("P-384"),
        "1.3.132.0.35" => Some("P-521"),
        "1.3.132.0.10" => Some("secp256k1"),
        "1.3.101.110" => Some("X25519"),
        "1.3.101.111" => Some("X448"),
        "1.3.101.113" => Some("Ed448"),
        "2.16.840.1.101.3.4.3.17" => Some("ML-DSA-44"),
        "2.16.840.1.101.3.4.3.19" => Some("ML-DSA-87"),
        _ => None,
    };
    match name {
        Some(n) => format!("{dotted} ({n})"),
        None => dotted,
    }
}

fn dotted_oid(body: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    let mut fresh = true;
    for &b in body {
        if fresh && b == 0x80 {
            return None; // non-minimal arc
        }
        acc = acc.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        fresh = b & 0x80 == 0;
        if fresh {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    if !fresh || arcs.is_empty() {
        return None;
    }
    Some(
        arcs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// A strict DER TLV reader over a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Reader { rest }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn finish(&self, what: &str) -> Result<(), SpkiProblem> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(SpkiProblem::Malformed(what.to_string()))
        }
    }

    fn expect_tag(&mut self, tag: u8, what: &str) -> Result<&'a [u8], SpkiProblem> {
        match self.read()? {
            (t, content) if t == tag => Ok(content),
            (t, _) => Err(SpkiProblem::Malformed(format!(
                "expected {what} (tag 0x{tag:02x}), found tag 0x{t:02x}"
            ))),
        }
    }

    fn read(&mut self) -> Result<(u8, &'a [u8]), SpkiProblem> {
        let bad = |s: &str| SpkiProblem::Malformed(s.to_string());
        let (&tag, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| bad("truncated: missing tag"))?;
        if tag & 0x1f == 0x1f {
            return Err(bad("multi-byte tags are not used in SubjectPublicKeyInfo"));
        }
        let (&first, mut rest) = rest
            .split_first()
            .ok_or_else(|| bad("truncated: missing length"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 {
                return Err(bad("indefinite length (BER, not DER)"));
            }
            if n > 3 {
                return Err(bad("length field too long"));
            }
            let bytes = rest.get(..n).ok_or_else(|| bad("truncated length"))?;
            rest = &rest[n..];
            if bytes[0] == 0 {
                return Err(bad("non-minimal length encoding"));
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(bad("long-form length below 128 (not DER)"));
            }
            len
        };
        let content = rest
            .get(..len)
            .ok_or_else(|| bad("truncated: content shorter than its length"))?;
        self.rest = &rest[len..];
        Ok((tag, content))
    }
}

/// One PEM block: its label and decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Splits text into PEM blocks (RFC 7468 section 3; explanatory text between
/// blocks is ignored). Errors describe the first malformed block.
pub(crate) fn parse_pem(text: &str) -> Result<Vec<PemBlock>, String> {
    use base64::Engine as _;
    let mut blocks = Vec::new();
    let mut open: Option<(String, String, usize)> = None;
    for (i, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        let lineno = i + 1;
        match &mut open {
            None => {
                if let Some(label) = boundary(line, "BEGIN") {
                    open = Some((label.to_string(), String::new(), lineno));
                }
            }
            Some((label, body, start)) => {
                if let Some(end) = boundary(line, "END") {
                    if end != label {
                        return Err(format!(
                            "block \"{}\" opened on line {start} ends with \"{}\" on line {lineno}",
                            shown(label),
                            shown(end)
                        ));
                    }
                    let der = base64::engine::general_purpose::STANDARD
                        .decode(body.as_bytes())
                        .map_err(|e| {
                            format!(
                                "block \"{}\" on line {start}: invalid base64 ({e})",
                                shown(label)
                            )
                        })?;
                    blocks.push(PemBlock {
                        label: std::mem::take(label),
                        der,
                    });
                    open = None;
                } else if boundary(line, "BEGIN").is_some() {
                    return Err(format!(
                        "block \"{}\" opened on line {start} is not closed before line {lineno}",
                        shown(label)
                    ));
                } else if line.contains(':') {
                    return Err(format!(
                        "block \"{}\": encapsulated headers (line {lineno}) are not supported",
                        shown(label)
                    ));
                } else {
                    body.push_str(line);
                }
            }
        }
    }
    if let Some((label, _, start)) = open {
        return Err(format!(
            "block \"{}\" opened on line {start} is never closed",
            shown(&label)
        ));
    }
    Ok(blocks)
}

/// The label of the first `-----BEGIN …PRIVATE KEY-----` line, if any.
pub(crate) fn private_key_label(text: &str) -> Option<&str> {
    text.lines()
        .filter_map(|l| boundary(l.trim(), "BEGIN"))
        .find(|label| label.contains("PRIVATE KEY"))
}

fn boundary<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    line.strip_prefix("-----")?
        .strip_prefix(kind)?
        .strip_prefix(' ')?
        .strip_suffix("-----")
}

/// A string from the input, escaped and shortened for messages.
pub(crate) fn shown(s: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = s.chars().take(MAX).flat_map(char::escape_debug).collect();
    if s.chars().count() > MAX {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_are_described() {
        assert_eq!(describe_oid(OID_ML_DSA_65), "2.16.840.1.101.3.4.3.18");
        assert_eq!(describe_oid(OID_EC_PUBLIC_KEY), "1.2.840.10045.2.1");
        assert_eq!(
            describe_oid(&[0x2b, 0x81, 0x04, 0x00, 0x22]),
            "1.3.132.0.34 (P-384)"
        );
        assert_eq!(describe_oid(&[0x2b, 0x80, 0x01]), "(invalid OID 2b8001)");
        assert_eq!(describe_oid(&[0x2b, 0x81]), "(invalid OID 2b81)");
        assert_eq!(describe_oid(&[]), "(invalid OID )");
    }

    #[test]
    fn encode_then_parse_round_trips() {
        for (alg, len) in [
            (KeyAlg::P256, 65),
            (KeyAlg::Ed25519, 32),
            (KeyAlg::MlDsa65, 1952),
        ] {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let der = encode_spki(alg, &key);
            assert_eq!(parse_spki(&der), Ok((alg, key)));
        }
        // The Wycheproof ML-DSA-65 publicKeyDer prefix.
        let der = encode_spki(KeyAlg::MlDsa65, &[0; 1952]);
        assert_eq!(
            hex::encode(&der[..22]),
            "308207b2300b0609608648016503040312038207a100"
        );
    }

    #[test]
    fn rejects_non_der() {
        let good = encode_spki(KeyAlg::Ed25519, &[7; 32]);
        let malformed = |d: &[u8]| matches!(parse_spki(d), Err(SpkiProblem::Malformed(_)));
        assert!(malformed(&[]));
        assert!(malformed(&good[..good.len() - 1]));
        assert!(malformed(&[good.clone(), vec![0]].concat()));
        // Long-form length for a short body.
        let long = [vec![0x30, 0x81, good[1]], good[2..].to_vec()].concat();
        assert!(malformed(&long));
        // Indefinite length.
        let indef = [vec![0x30, 0x80], good[2..].to_vec(), vec![0, 0]].concat();
        assert!(malformed(&indef));
        // Unused bits in the BIT STRING.
        let mut unused = good.clone();
        unused[11] = 1;
        assert!(malformed(&unused));
        // NULL parameters on Ed25519.
        let with_null = tlv(
            TAG_SEQUENCE,
            &[
                tlv(
                    TAG_SEQUENCE,
                    &[tlv(TAG_OID, OID_ED25519), vec![0x05, 0x00]].concat(),
                ),
                tlv(TAG_BIT_STRING, &[0; 33]),
            ]
            .concat(),
        );
        assert!(malformed(&with_null));
        // A huge claimed length.
        assert!(malformed(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]));
        assert!(malformed(&[0x30, 0x83, 0xff, 0xff, 0xff]));
        assert!(malformed(&[0x1f, 0x01, 0x00]));
    }

    #[test]
    fn names_unsupported_algorithms_and_curves() {
        let p384 = tlv(
            TAG_SEQUENCE,
            &[
                tlv(
                    TAG_SEQUENCE,
                    &[
                        tlv(TAG_OID, OID_EC_PUBLIC_KEY),
                        tlv(TAG_OID, &[0x2b, 0x81, 0x04, 0x00, 0x22]),
                    ]
                    .concat(),
                ),
                tlv(TAG_BIT_STRING, &[0; 98]),
            ]
            .concat(),
        );
        assert_eq!(
            parse_spki(&p384),
            Err(SpkiProblem::UnsupportedCurve("1.3.132.0.34 (P-384)".into()))
        );
        let ed448 = tlv(
            TAG_SEQUENCE,
            &[
                tlv(TAG_SEQUENCE, &tlv(TAG_OID, &[0x2b, 0x65, 0x71])),
                tlv(TAG_BIT_STRING, &[0; 58]),
            ]
            .concat(),
        );
        assert_eq!(
            parse_spki(&ed448),
            Err(SpkiProblem::UnsupportedAlgorithm(
                "1.3.101.113 (Ed448)".into()
            ))
        );
    }

    #[test]
    fn pem_blocks() {
        let text = "intro text\n-----BEGIN PUBLIC KEY-----\nAAEC\nAw==\n-----END PUBLIC KEY-----\r\n\
                    -----BEGIN X-----\nBA==\n-----END X-----\n";
        let blocks = parse_pem(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].der, vec![0, 1, 2, 3]);
        assert_eq!(blocks[1].label, "X");
        assert!(parse_pem("-----BEGIN A-----\nAA==\n").is_err());
        assert!(parse_pem("-----BEGIN A-----\nAA==\n-----END B-----\n").is_err());
        assert!(parse_pem("-----BEGIN A-----\n!!\n-----END A-----\n").is_err());
        assert!(parse_pem("-----BEGIN A-----\nProc-Type: 4\n-----END A-----\n").is_err());
        assert!(parse_pem("-----BEGIN A-----\n-----BEGIN A-----\n").is_err());
        assert_eq!(parse_pem("no pem here").unwrap(), vec![]);
    }
}
