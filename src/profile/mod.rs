//! Input profiles: how a producer's records are laid out, canonicalized, chained and signed.
//!
//! Built in: `aat` (IETF draft-sharif-agent-audit-trail -04 … -06).

pub mod aat;
