//! Canonical JSON: owns the strict JSON parser ([`json`], RFC 8259 with the
//! I-JSON rules of RFC 7493) and the JSON Canonicalization Scheme writer
//! ([`jcs`], RFC 8785) that every hash and signature check of audit-verify is
//! computed over. Policy decisions (integers beyond 2^53, duplicate member
//! names, lone surrogates, invalid UTF-8) are documented in
//! `docs/canonicalization.md`.
//!
//! The two halves are kept apart on purpose: the parser keeps each number's
//! exact token text and each member's byte span, so a caller can both
//! canonicalize a record and point at the exact bytes a problem came from.
//! [`pyjson`] adds the other dialects the producers really hash with
//! (asqav's JCS variant and the Python `json.dumps` families).

pub mod jcs;
pub mod json;
pub mod pyjson;

pub use jcs::{CanonError, write_es6_number, write_jcs, write_jcs_object_excluding};
pub use json::{Limits, Member, Number, ParseError, ParseErrorKind, Value, parse, parse_python};
pub use pyjson::Dialect;
