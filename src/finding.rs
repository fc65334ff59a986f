//! Findings: facts about the evidence, decided by the checks and rendered by the reports.
//!
//! Every finding has a stable code (`chain.link_mismatch`, `sig.invalid`, …) that appears in JSON
//! reports and is documented in `docs/findings.md`; renaming one is a breaking change. Each code
//! has one default severity and names the guarantee it bears on, from which the verdict follows
//! (see [`crate::report::Verdict`]).

use std::ops::Range;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Positive evidence that the records are not as recorded or signed: the verdict is `failed`.
    Error,
    /// Something was not established, or is non-conformant but not evidence of tampering.
    Warning,
    /// A fact worth knowing.
    Info,
}

impl Severity {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The guarantee a finding bears on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Guarantee {
    /// The input could be read as records at all.
    Input,
    /// Hashes and links: nothing edited, dropped, replayed or reordered inside the chain.
    Integrity,
    /// Signatures: the records were signed by the supplied keys.
    Authenticity,
    /// Head and tail: nothing missing before the first or after the last record.
    Completeness,
}

macro_rules! codes {
    ($( $variant:ident => $code:literal, $sev:ident, $guarantee:ident, $title:literal, $help:literal; )*) => {
        /// Every finding code the tool can emit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( #[doc = $title] $variant, )* }

        impl Code {
            /// All codes, in catalogue order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable identifier, e.g. `chain.link_mismatch`.
            pub fn as_str(self) -> &'static str { match self { $( Code::$variant => $code, )* } }

            /// The default severity.
            pub fn severity(self) -> Severity { match self { $( Code::$variant => Severity::$sev, )* } }

            /// The guarantee this finding bears on.
            pub fn guarantee(self) -> Guarantee { match self { $( Code::$variant => Guarantee::$guarantee, )* } }

            /// Whether the code says that part of the export was not checked at all because a
            /// limit was reached: the run is then at best inconclusive.
            pub fn limits_run(self) -> bool { matches!(self, Code::LimitChains | Code::LimitEpochs) }

            /// A short title, lower case.
            pub fn title(self) -> &'static str { match self { $( Code::$variant => $title, )* } }

            /// What the finding means for the auditor and what to do next.
            pub fn help(self) -> &'static str { match self { $( Code::$variant => $help, )* } }
        }
    };
}

codes! {
    InputLineTooLong => "input.line_too_long", Error, Input,
        "line longer than the line-length limit",
        "the line was skipped unread; a record this large is not a valid record of the format (AAT caps records at 256 KB)";
    InputBlankLine => "input.blank_line", Info, Input,
        "blank line in a JSONL export",
        "blank lines carry no record and are ignored; a producer should not write them";
    InputBom => "input.bom", Info, Input,
        "UTF-8 byte order mark at the start of the file",
        "the BOM is removed before parsing; it is not part of any record";
    InputCrlf => "input.crlf", Info, Input,
        "CRLF line endings",
        "lines end in CR LF; the CR is removed before parsing and hashes are unaffected";
    ContainerMalformed => "container.malformed", Error, Input,
        "the container cannot deliver a record here",
        "a syslog frame, CSV row or JSON array element is broken (truncated, merged, wrong octet count, unbalanced quote): data was damaged or cut. Also a bundle object's file that could not be read again, or changed while it was verified, when its bundle-level checks read its records again (`docs/limits.md`)";
    ContainerLossy => "container.lossy", Warning, Integrity,
        "the container cannot carry everything the hashes cover",
        "the records are rebuilt from the container's fields only (e.g. CSV columns); links and signatures that cover other members cannot be recomputed, so what they protect is reported as not established, not as tampered";
    SyslogLegacy => "syslog.legacy", Warning, Input,
        "RFC 3164 syslog lines",
        "legacy syslog has no structured header; the JSON object in each message was taken as the record. Prefer RFC 5424 exports";
    RecordMalformed => "record.malformed", Error, Input,
        "record line is not valid JSON",
        "the line cannot be read as a record: it was corrupted, truncated or edited by hand";
    RecordInvalidUtf8 => "record.invalid_utf8", Error, Input,
        "record line is not valid UTF-8",
        "the bytes were corrupted or re-encoded; a canonical hash cannot be computed over invalid UTF-8";
    RecordLoneSurrogate => "record.lone_surrogate", Error, Input,
        "string escape encodes a lone UTF-16 surrogate",
        "lone surrogates are not valid I-JSON and have no canonical form; the record cannot be hashed";
    RecordDuplicateKey => "record.duplicate_key", Error, Input,
        "duplicate member name in a JSON object",
        "duplicate names let two readers see two different records; the record is rejected, never normalised";
    RecordTooDeep => "record.too_deep", Error, Input,
        "record nested deeper than the nesting limit",
        "no genuine record nests this deep; the line is rejected to keep memory and stack bounded";
    RecordNotObject => "record.not_object", Error, Input,
        "record line is JSON but not an object",
        "each line of a JSONL export must hold one JSON object";
    RecordFieldMissing => "record.field_missing", Error, Integrity,
        "a member the chain needs is missing",
        "without this member the record cannot be placed in its chain; the export is not as the producer wrote it";
    RecordFieldInvalid => "record.field_invalid", Error, Integrity,
        "a member has the wrong type or form",
        "the member does not have the type or format the profile requires (for example prev_hash as 64 lowercase hex)";
    CanonUnsupported => "canon.unsupported_value", Warning, Integrity,
        "value outside the canonicalization domain",
        "the record holds a value RFC 8785 cannot represent exactly (an integer beyond 2^53 or a non-finite number); its hash and signature could not be recomputed, so integrity is not established. Also a bundle-level digest or signature (Audit Pack, ComplianceBundle, AGT export root) that cannot be recomputed because one of the bundle's records does not parse or is over the record limit (the record itself is reported at its line)";
    LimitChains => "limit.chains", Warning, Integrity,
        "more chains than the limit on chains",
        "the export has more chains (sessions) than --max-chains allows: records of the chains beyond the limit were read, hashed and signature-checked, but not linked, sequenced or timed against their chains, and those chains are not listed, so integrity is not established (inconclusive). Raise --max-chains (each chain costs about 1 KiB of memory) or split the export";
    LimitEpochs => "limit.epochs", Warning, Completeness,
        "more batch epochs than the limit on epochs",
        "the export declares more AAT batch epochs than the verifier tracks (100,000): the records of the epochs met after that are still hashed, linked and signature-checked and their inclusion proofs checked against the root they name, but those epochs are not checked for missing leaves and not listed, so the run is at best inconclusive";
    LimitRecordIds => "limit.record_ids", Warning, Integrity,
        "record ids past the limit not checked for uniqueness",
        "the export has more than 268,435,456 records with ids, or the temporary file that holds their fingerprints (in TMPDIR, 40 bytes a record past the first 16,384) could not be written or read back: the later ids are not checked against earlier ids anywhere in the export (a replayed record in another chain would not be found this way); every record is still hashed, linked, sequenced and signature-checked within its chain";
    ChainLinkMismatch => "chain.link_mismatch", Error, Integrity,
        "link (prev_hash) does not match the previous record",
        "the previous record of this chain was altered, or a record between them was removed, inserted or moved";
    ChainLinkUnverifiable => "chain.link_unverifiable", Warning, Integrity,
        "prev_hash cannot be recomputed from this container",
        "the container did not carry every member of the previous record (e.g. its signature), so its hash cannot be recomputed; the link is not established, which is not evidence of tampering";
    ChainParentMismatch => "chain.parent_mismatch", Error, Integrity,
        "parent_record_id does not name the previous record",
        "a record was removed, inserted or moved, or the link was edited";
    ChainReplayed => "chain.replayed_record", Error, Integrity,
        "record repeats the previous record",
        "the same record appears twice in a row: a replay or a duplicated line";
    ChainUnexpectedGenesis => "chain.unexpected_genesis", Error, Integrity,
        "genesis record in the middle of a chain",
        "a record with a null prev_hash restarts a session that already has records: a second chain was spliced in";
    ChainGenesisInvalid => "chain.genesis_invalid", Error, Integrity,
        "genesis record breaks the genesis rules",
        "a record with a null prev_hash must also have a null parent_record_id";
    ChainAgentChanged => "chain.agent_changed", Error, Integrity,
        "agent_id changes within a session",
        "one session is one agent's chain; records of another agent were mixed in";
    ChainHeadUnanchored => "chain.head_unanchored", Warning, Completeness,
        "export starts mid-session",
        "the first record of this chain is not its genesis; records before it are not present, so head completeness is not established";
    ChainTailOpen => "chain.tail_open", Warning, Completeness,
        "session has no close record",
        "the chain does not end in a close or terminal record (AAT session_end), and the format has no length commitment: records after the last one could have been removed without trace";
    SeqGap => "seq.gap", Error, Integrity,
        "sequence number skips values",
        "records between the two numbers are missing: they were removed or withheld";
    SeqDuplicate => "seq.duplicate", Error, Integrity,
        "sequence number repeats",
        "two records claim the same position: a replay or a duplicate";
    SeqRegression => "seq.regression", Error, Integrity,
        "sequence number goes backwards",
        "records were reordered or replayed";
    SeqMissing => "seq.missing", Error, Integrity,
        "sequence number missing in a numbered chain",
        "the other records of this chain are numbered; this one is not";
    SeqGenesisNotZero => "seq.genesis_not_zero", Error, Integrity,
        "genesis sequence_number is not 0",
        "a numbered chain starts at 0";
    TimeInvalid => "time.invalid", Error, Integrity,
        "timestamp is not an RFC 3339 instant",
        "the timestamp cannot be parsed, so record order in time cannot be checked";
    TimeBackwards => "time.backwards", Error, Integrity,
        "timestamp earlier than the previous record's",
        "records were reordered or a timestamp was backdated (instants are compared, not strings)";
    SessionRecordAfterClose => "session.record_after_close", Error, Integrity,
        "record after the session's close record",
        "a closed session cannot grow: records were appended after the close";
    SessionCountMismatch => "session.count_mismatch", Error, Integrity,
        "record_count does not match the records present",
        "records of this session were removed or added";
    SessionHashMismatch => "session.hash_mismatch", Error, Integrity,
        "session_hash does not match the records present",
        "the close record's digest over all links disagrees: records were removed, added or altered";
    SessionHashMissing => "session.hash_missing", Warning, Completeness,
        "close record without session_hash",
        "the producer does not commit to the session's content at close (AAT -04 and later require session_hash); the close record still ends the chain";
    SessionHashUnverifiable => "session.hash_unverifiable", Warning, Completeness,
        "session_hash cannot be recomputed from a partial export",
        "the export starts mid-session, so the links before its first record are not present";
    SigMissing => "sig.missing", Error, Authenticity,
        "unsigned record",
        "this record has no signature although the others in its chain are signed (or --require-signatures is set): it may have been inserted or re-forged";
    SigInvalid => "sig.invalid", Error, Authenticity,
        "signature does not verify",
        "the signed content was altered after signing, or the record was signed by another key";
    SigClassicalInvalid => "sig.classical_invalid", Error, Authenticity,
        "classical half of a hybrid signature does not verify",
        "both halves of a hybrid signature must verify; the ES256 half was altered or made by another key";
    SigClassicalMissing => "sig.classical_missing", Error, Authenticity,
        "hybrid signature without its classical half",
        "the record names a classical key but carries no classical signature, or the chain's other records are hybrid: a downgrade";
    SigUnsupportedAlg => "sig.unsupported_alg", Error, Authenticity,
        "signature algorithm not allowed",
        "only ES256 and ML-DSA-65 (optionally hybrid with ES256) are defined; anything else, none included, is never skipped";
    SigMalformed => "sig.malformed", Error, Authenticity,
        "signature is not well-formed",
        "the signature is not base64url without padding, or has the wrong length for its algorithm";
    SigDerEncoding => "sig.der_encoding", Error, Authenticity,
        "ES256 signature is DER-encoded",
        "AAT requires IEEE P1363 r||s (64 bytes); DER is non-conformant and is rejected, not tried";
    SigHighS => "sig.high_s", Warning, Authenticity,
        "ES256 signature has a high S value",
        "the signature is valid, but s > n/2 means someone could swap it for a second valid signature (n - s); on the last record that changes its hash unnoticed";
    SigUnknownKey => "sig.unknown_key", Warning, Authenticity,
        "signed with a key that was not supplied",
        "no supplied key matches signer_kid; supply the producer's public key with --keys (keys embedded in records are never trusted)";
    SigKeyAlgMismatch => "sig.key_alg_mismatch", Error, Authenticity,
        "signer_kid names a key of another algorithm",
        "the record's sig_alg does not fit the key its kid designates, so the signature cannot be valid";
    SigChainUnsigned => "sig.chain_unsigned", Warning, Authenticity,
        "no record of the chain is signed",
        "anyone can recompute an unsigned hash chain after editing it: integrity holds only against accidental damage";
    SigAlgDefaulted => "sig.alg_defaulted", Info, Authenticity,
        "sig_alg absent, ES256 assumed",
        "AAT defines ES256 as the default when sig_alg is absent";
    KeyKidNotDerived => "key.kid_not_derived", Warning, Authenticity,
        "kid matched only as declared in the key file",
        "signer_kid is not the thumbprint of the key under any recognised rule; the key binding rests on the key file's own label";
    KeyNote => "key.note", Info, Authenticity,
        "note about a supplied key",
        "a key file entry was skipped or is unusual (for example a kid that is not the key's thumbprint); check the key files you supplied";
    AnchorMismatch => "anchor.mismatch", Error, Integrity,
        "the export does not continue the certified head",
        "the previous certificate (--anchor) recorded this chain's head; the export either links to something else or holds a different record at that position: records were removed, inserted or rewritten since";
    AnchorTruncated => "anchor.truncated", Error, Completeness,
        "the export ends before the certified head",
        "the previous certificate (--anchor) covered more records of this chain than the export holds: records it certified are gone";
    AnchorChainAbsent => "anchor.chain_absent", Info, Completeness,
        "a certified chain has no record in this export",
        "nothing new was recorded for this chain since the certificate, or this export omits it";
    AatSelfRecorded => "aat.self_recorded", Info, Authenticity,
        "self-recorded session",
        "the genesis declares recording_mode self: the agent signs its own audit trail, no independent recorder vouches for it";
    MerkleBatchInvalid => "merkle.batch_invalid", Error, Integrity,
        "batch member is malformed",
        "batch must hold epoch_id (string), merkle_root (64 lowercase hex), leaf_index (integer below tree_size), inclusion_proof (array of {hash, side: left|right}) and optionally tree_size (integer > 0); a malformed batch cannot be checked";
    MerkleProofInvalid => "merkle.proof_invalid", Error, Integrity,
        "inclusion proof does not lead to merkle_root",
        "folding the record's leaf hash with its proof gives another root: the record (its leaf covers everything but batch, signatures included), a proof hash or the epoch root was altered after the batch was computed";
    MerkleProofLength => "merkle.proof_length", Error, Integrity,
        "inclusion proof has the wrong length for leaf_index and tree_size",
        "RFC 9162 fixes the number of proof steps for a leaf position; a proof element was added or removed, or leaf_index or tree_size was changed";
    MerkleSideMismatch => "merkle.side_mismatch", Error, Integrity,
        "proof side label disagrees with the leaf position",
        "with tree_size, the side of every sibling follows from leaf_index (RFC 9162 section 2.1.3.2); a side label or the leaf_index was edited";
    MerkleEpochInconsistent => "merkle.epoch_inconsistent", Error, Integrity,
        "records of one epoch disagree on merkle_root or tree_size",
        "every record of an epoch carries the same root and size; this one was edited or belongs to another epoch";
    MerkleLeafDuplicate => "merkle.leaf_duplicate", Error, Integrity,
        "two records claim the same leaf of an epoch",
        "a record was replayed or a leaf_index was edited";
    MerkleLeafMissing => "merkle.leaf_missing", Error, Completeness,
        "leaves of a batch epoch are missing",
        "an epoch's leaf indexes must be exactly 0 to tree_size-1: records of the epoch were removed or withheld, or the export does not hold the whole epoch";
    MerkleRootMismatch => "merkle.root_mismatch", Error, Integrity,
        "root over the epoch's records differs from merkle_root",
        "the RFC 6962 tree over the epoch's records in leaf order does not give the root they claim: a record was altered, added or moved";
    MerkleEpochUnverifiable => "merkle.epoch_unverifiable", Warning, Integrity,
        "batch epoch root cannot be recomputed",
        "a record of the epoch could not be parsed or canonicalized, or its leaves are too far out of order, so the epoch root is not established";
    MerkleEpochUnanchored => "merkle.epoch_unanchored", Warning, Completeness,
        "batch epoch root is consistent but unanchored",
        "batch is neither signed nor chained: whoever truncates or re-forges the records can recompute a consistent epoch, so the root proves nothing by itself; supply the signed checkpoint that anchors it with --checkpoint";
    CheckpointSignatureInvalid => "checkpoint.signature_invalid", Error, Completeness,
        "checkpoint signature does not verify",
        "a signature by a supplied key does not verify: the checkpoint was altered or forged; it is not trusted and anchors nothing";
    CheckpointUnknownKey => "checkpoint.unknown_key", Warning, Completeness,
        "checkpoint signed by no supplied key",
        "supply the log's verifier key (--checkpoint-key for signed notes, --keys for JSON checkpoints); until then the checkpoint is not trusted and anchors nothing";
    CheckpointUnsigned => "checkpoint.unsigned", Warning, Completeness,
        "checkpoint carries no signature",
        "anyone can write an unsigned tree head; it is not trusted and anchors nothing";
    CheckpointTruncated => "checkpoint.truncated", Error, Completeness,
        "fewer records than the checkpoint's tree size",
        "the log held more records when the checkpoint was signed: records after the last one present were removed or withheld";
    CheckpointRootMismatch => "checkpoint.root_mismatch", Error, Integrity,
        "records do not reproduce the checkpoint root",
        "the Merkle tree over the first records (as many as the checkpoint's size) differs from the signed root: a record in that range was altered, removed, inserted or moved";
    CheckpointInconsistent => "checkpoint.inconsistent", Error, Integrity,
        "checkpoints contradict each other",
        "two trusted checkpoints are not consistent (one size with two roots, or a consistency proof that fails): the log forked, or a checkpoint belongs to another log";
    CheckpointUnverifiable => "checkpoint.unverifiable", Warning, Completeness,
        "checkpoint root cannot be recomputed",
        "a record inside the checkpoint's range could not be parsed or canonicalized, so its leaf hash and the root are unknown";
    CheckpointPrefix => "checkpoint.prefix", Info, Completeness,
        "checkpoint covers only the first records",
        "the records up to the checkpoint's size reproduce its root; the records after them are not covered by it";
    CheckpointMatched => "checkpoint.matched", Info, Completeness,
        "checkpoint root reproduced",
        "the records (or the batch epoch named) reproduce the signed root at its size: nothing in that range was altered, removed or reordered since it was signed";
    RecordHashMismatch => "record.hash_mismatch", Error, Integrity,
        "the record's stated hash does not match its content",
        "the hash the record carries (entry_hash, content_hash, payload_hash, …) was recomputed from the members it covers and differs: a covered member was edited after the hash was written";
    RecordDuplicateId => "record.duplicate_id", Error, Integrity,
        "record id repeats",
        "two records carry the same id, which the format requires to be unique: a replayed or duplicated record. Reported at every record after the first with that id, with the first as the related record";
    ProfileFieldsNotCovered => "profile.fields_not_covered", Warning, Integrity,
        "members outside the hash",
        "the format's hash (and signature) does not cover these members: their values are not protected and an edit to them cannot be detected. Do not rely on them as verified";
    ProfileNotRecomputable => "profile.not_recomputable", Warning, Integrity,
        "hash input cannot be rebuilt from this record",
        "the record's form loses information the hash covers (e.g. a CloudEvents data member shadowing a top-level one), so its hash cannot be recomputed; integrity of this record is not established";
    ChainSegmentRestart => "chain.segment_restart", Warning, Completeness,
        "chain restarts at genesis: a new, unlinked segment",
        "the format restarts its chain (e.g. on log rotation); segments are not linked to each other, so whole segments before this one could be missing or reordered without trace";
    SeqBadStart => "seq.bad_start", Error, Integrity,
        "counted chain does not start at its first number",
        "the chain's genesis record carries a sequence number other than the format's first value: records were removed or the counter was reset";
    SigLenientEncoding => "sig.lenient_encoding", Warning, Authenticity,
        "signature written in a non-contract encoding",
        "the signature uses the other base64 alphabet or padding; it was decoded and checked, but the producer's contract encoding is base64url without padding";
    SigEmbeddedKeyUntrusted => "sig.embedded_key_untrusted", Warning, Authenticity,
        "signed by a key embedded in the record that no supplied key matches",
        "the record carries its own public key; anyone can re-sign a chain with a new key, so embedded keys are never trusted. Supply the producer's public key with --keys";
    SigHmacKeyMissing => "sig.hmac_key_missing", Warning, Authenticity,
        "HMAC not checked: no secret supplied",
        "the records are authenticated with HMAC-SHA256 under a shared secret; give it with --hmac-key-file to check them. Without it only the unkeyed hashes are checked, which anyone can recompute";
    SigHmacSharedSecret => "sig.hmac_shared_secret", Info, Authenticity,
        "HMAC authenticity rests on a shared secret",
        "HMAC-SHA256 proves the records were written by a holder of the secret; whoever can verify can also forge, so this is weaker than a public-key signature";
    KeyRevoked => "key.revoked", Error, Authenticity,
        "signed at or after its key's revocation",
        "the key directory says the key was revoked (or suspended) at or before the record's signing time: the signature does not count";
    KeyCompromised => "key.compromised", Error, Authenticity,
        "signed by a compromised key",
        "the key directory marks the key compromised: nothing it signed can be trusted, whatever the time";
    KeyStatusUnverifiable => "key.status_unverifiable", Warning, Authenticity,
        "the key's status does not allow verification",
        "the key is decommissioned, of unknown status, or revoked after the record's issuer-asserted time without a verified time anchor; the signature is not taken as established";
    KeyIssuerMismatch => "key.issuer_mismatch", Error, Authenticity,
        "the key is bound to another issuer",
        "the key directory binds this key to a different issuer or organisation than the record claims: a key substitution";
    KeyThumbprintMismatch => "key.thumbprint_mismatch", Error, Authenticity,
        "signed key thumbprint names another key",
        "the record's signed key_thumbprint does not match the key that verified it: a key substitution";
    AsqavPayloadDigestMismatch => "asqav.payload_digest_mismatch", Error, Integrity,
        "payload_digest or action_ref does not match context",
        "the signed digest of the receipt's context was recomputed from context and differs, or is malformed: context was edited";
    AsqavPayloadDigestNotChecked => "asqav.payload_digest_not_checked", Info, Integrity,
        "payload_digest not recomputable",
        "context is absent (redacted or hash mode) or the digest is keyed (HMAC under holder material): the digest cannot be recomputed from the receipt";
    AsqavOuterCopyMismatch => "asqav.outer_copy_mismatch", Error, Integrity,
        "unsigned outer copy differs from its signed twin",
        "an Audit Pack entry repeats signed members outside the payload; this copy differs from the signed value, so tools reading the copy see something the issuer did not sign";
    AsqavFlatReceipt => "asqav.flat_receipt", Info, Completeness,
        "legacy flat hash-mode receipt",
        "a single signed statement without an envelope or chain member: it cannot be placed in a chain, so nothing shows what came before or after it";
    AsqavAnchorsNotChecked => "asqav.anchors_not_checked", Info, Completeness,
        "time anchors present but not checked",
        "RFC 3161 and OpenTimestamps anchors need pinned TSA keys or Bitcoin headers; without them the receipts' times are issuer-asserted only";
    AsqavBundleCountMismatch => "asqav.bundle_count_mismatch", Error, Integrity,
        "receipt_count does not match the receipts present",
        "receipts were removed from or added to the bundle after it was made";
    AsqavRegimeMappingUnresolved => "asqav.regime_mapping_unresolved", Error, Integrity,
        "regime_mapping names a receipt the pack does not hold exactly once",
        "every signature_id that regime_mapping lists for a regime must be the signature_id of exactly one receipt of the pack; a missing one means a mapped receipt was withheld (asqav's own verifier calls such a pack invalid), a repeated one that the mapping is ambiguous";
    AsqavBundleDigestMismatch => "asqav.bundle_digest_mismatch", Error, Integrity,
        "bundle_digest does not match the bundle",
        "bundle_digest was recomputed over the signed projection of the pack (receipts included) and differs: the pack was edited";
    AsqavBundleSignatureInvalid => "asqav.bundle_signature_invalid", Error, Authenticity,
        "bundle signature does not verify",
        "the Audit Pack's bundle_signature does not verify over its projection: the pack was edited or signed by another key";
    AsqavBundleKeyUntrusted => "asqav.bundle_key_untrusted", Warning, Authenticity,
        "bundle key not among the supplied keys",
        "the pack is self-consistent under the key it carries, but that key is not anchored to a key you supplied: anyone could have made the pack";
    AsqavBundleMerkleMismatch => "asqav.bundle_merkle_mismatch", Error, Integrity,
        "ComplianceBundle receipt hash or Merkle root does not match",
        "a receipt hash or the Merkle root over the receipts was recomputed and differs: the bundle was edited";
    AsqavBundleUnsigned => "asqav.bundle_unsigned", Info, Authenticity,
        "ComplianceBundle is unsigned",
        "its merkle_root proves only internal consistency; authenticity rests on the receipts' own signatures";
    AsqavTypeInvalid => "asqav.type_invalid", Error, Integrity,
        "receipt type is malformed or unregistered in the protectmcp namespace",
        "the signed type is not a string, or claims the reserved protectmcp: namespace with a name no registry carries: the receipt does not conform to the profile it claims, whatever its signature says";
    AsqavTypeUnsupported => "asqav.type_unsupported", Warning, Integrity,
        "receipt type not implemented or outside the known namespace",
        "the signed type is registered but not implemented by asqav 0.10.14 (protectmcp:lifecycle:oversight_ruling), or belongs to a foreign namespace: the receipt's meaning cannot be judged, so it is not established (never read as verified)";
    AsqavVersionUnsupported => "asqav.version_unsupported", Warning, Integrity,
        "receipt wire version or mode missing or not recognised",
        "the signed payload has no v member, a v other than the integers 1 or 2, or no recognised mode (payload, hash): it is not a compliance receipt of a version this verifier knows, and absence is never read as version 1";
    AsqavAnchorsMalformed => "asqav.anchors_malformed", Warning, Integrity,
        "anchors member is not an array",
        "anchors is null or not an array; absent or [] are the conformant spellings of no anchors. A malformed envelope is not established (asqav reports it unverifiable), although the signed payload may be intact";
    AsqavCounterpartyInvalid => "asqav.counterparty_invalid", Error, Integrity,
        "counterparty binding is malformed or does not match its originating receipt",
        "the signed counterparty_binding is malformed (missing or non-base64 receipt_ref/envelope_hash, terms not matching terms_digest), its envelope_hash differs from the SHA-256 of the originating receipt's payload and signature, or the acknowledgment is not signed by the party the binding expects: the claimed corroboration is false";
    AsqavCounterpartyUnverifiable => "asqav.counterparty_unverifiable", Warning, Integrity,
        "counterparty binding cannot be checked",
        "the binding omits its digest scope (legacy), names a scope or profile version this verifier does not implement, or refers to an originating receipt (receipt_ref, matched by signature_id) that is not in the export: the corroboration is not established. Verify the acknowledgment together with the originating receipt";
    AgtEntryCountMismatch => "agt.entry_count_mismatch", Error, Integrity,
        "entry_count does not match the entries present",
        "entries were removed from or added to the export after it was made";
    AgtMerkleRootMismatch => "agt.merkle_root_mismatch", Error, Integrity,
        "merkle_root does not match the entries",
        "the export holds the whole log (its first entry is the genesis) but the Merkle root recomputed over the entries (AGT's incremental rule) differs: entries were edited, removed or reordered";
    AgtMerkleRootUnverifiable => "agt.merkle_root_unverifiable", Warning, Completeness,
        "merkle_root cannot be recomputed from a partial export",
        "the export starts mid-log (AGT exports keep only the last 10,000 entries) while merkle_root covers the whole log, so the root cannot be checked from this file";
    AgtProofInvalid => "agt.proof_invalid", Error, Integrity,
        "Merkle inclusion proof does not fold to the root",
        "the proof's siblings do not lead from the entry's hash to merkle_root: the entry, the proof or the root was edited (the producer's own `verified` member is ignored)";
    AgtTimeQuirk => "agt.time_quirk", Info, Input,
        "producer quirk in a timestamp",
        "AGT CloudEvents write the time with an offset and a Z (+00:00Z); the final Z is dropped before hashing, as the producer hashed it. Not tampering";
}

/// A place in the input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Index of the input file in the run's list of sources.
    pub source: usize,
    /// 1-based physical line (blank lines count).
    pub line: u64,
    /// 0-based index of the record within its file (lines that hold a record).
    pub record: u64,
}

/// The offending line, kept (bounded) so the report can quote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The line as text (invalid UTF-8 replaced), cut to at most [`QUOTE_LIMIT`] bytes around the span.
    pub text: String,
    /// Byte range of the field at fault within `text`.
    pub span: Option<Range<usize>>,
}

/// How much of a line a finding keeps.
pub const QUOTE_LIMIT: usize = 4096;

/// One fact about the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stable code.
    pub code: Code,
    /// Where; `None` for findings about a chain or run as a whole.
    pub at: Option<Location>,
    /// The chain (session id) it concerns, if any.
    pub chain: Option<String>,
    /// What is wrong, with values.
    pub message: String,
    /// The field at fault, if any.
    pub field: Option<String>,
    /// Expected value, where it applies.
    pub expected: Option<String>,
    /// Found value, where it applies.
    pub found: Option<String>,
    /// Another place involved (e.g. the previous record).
    pub related: Option<Location>,
    /// The offending line.
    pub quote: Option<Quote>,
    /// Where the container says the record came from (e.g. a syslog header).
    pub context: Option<String>,
}

impl Finding {
    /// A finding with a code and message and nothing else.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Finding {
            code,
            at: None,
            chain: None,
            message: message.into(),
            field: None,
            expected: None,
            found: None,
            related: None,
            quote: None,
            context: None,
        }
    }

    /// Sets the location.
    pub fn at(mut self, at: Location) -> Self {
        self.at = Some(at);
        self
    }

    /// Sets the chain.
    pub fn chain(mut self, chain: impl Into<String>) -> Self {
        self.chain = Some(chain.into());
        self
    }

    /// Sets the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Sets the expected and found values.
    pub fn expected_found(mut self, expected: impl Into<String>, found: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.found = Some(found.into());
        self
    }

    /// Sets a related location.
    pub fn related(mut self, related: Location) -> Self {
        self.related = Some(related);
        self
    }

    /// Sets the quoted line.
    pub fn quote(mut self, quote: Quote) -> Self {
        self.quote = Some(quote);
        self
    }

    /// The severity (the code's default).
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// Cuts `line` to at most `limit` bytes around `span`, on character boundaries, and replaces
/// control characters with a visible one-byte placeholder so offsets stay valid and terminals
/// stay safe. Returns the text and the span within it.
pub fn make_quote(line: &[u8], span: Option<Range<usize>>, limit: usize) -> Quote {
    if line.len() <= limit {
        let text = quotable(line);
        // from_utf8_lossy may change byte lengths; clamp the span to the text.
        let span = span.map(|s| s.start.min(text.len())..s.end.min(text.len()));
        return Quote { text, span };
    }
    // Choose the window on the raw bytes and convert only it: a record may be megabytes long
    // and have many findings, so the cost of a quote must not grow with the line.
    let span = span.map(|s| s.start.min(line.len())..s.end.min(line.len()));
    let (centre_start, centre_end) = match &span {
        Some(s) => (s.start, s.end.min(s.start + limit / 2)),
        None => (0, 0),
    };
    let half = (limit.saturating_sub(centre_end - centre_start)) / 2;
    let mut start = centre_start.saturating_sub(half);
    let mut end = (centre_end + half).min(line.len());
    if end - start < limit {
        start = end.saturating_sub(limit);
        end = (start + limit).min(line.len());
    }
    // Do not cut a UTF-8 sequence (at most three continuation bytes follow its lead byte).
    let continuation = |i: usize| line.get(i).is_some_and(|b| b & 0xC0 == 0x80);
    for _ in 0..3 {
        if continuation(start) && start < end {
            start += 1;
        }
        if continuation(end) && end > start {
            end -= 1;
        }
    }
    let mut text = quotable(&line[start..end]);
    // Invalid UTF-8 widens (one byte becomes U+FFFD): cut again to the limit.
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    let span = span.map(|s| {
        let a = (s.start.clamp(start, end) - start).min(text.len());
        let b = (s.end.clamp(start, end) - start).min(text.len());
        a..b
    });
    Quote { text, span }
}

/// The bytes as text, invalid UTF-8 replaced and each byte of a control character shown as `?`
/// (so offsets into valid UTF-8 are kept).
fn quotable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .flat_map(|c| {
            let n = if c.is_control() { c.len_utf8() } else { 0 };
            std::iter::repeat_n('?', n).chain((n == 0).then_some(c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
            let (ns, name) = code.as_str().split_once('.').unwrap();
            assert!(!ns.is_empty() && !name.is_empty());
            assert!(
                code.as_str().bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'.'
                    || b == b'_')
            );
            assert!(!code.help().is_empty() && !code.title().ends_with('.'));
        }
    }

    #[test]
    fn quote_cuts_long_lines_around_the_span() {
        let mut line = vec![b'a'; 10_000];
        line[5000..5008].copy_from_slice(b"\"field\":");
        let q = make_quote(&line, Some(5000..5008), 100);
        assert!(q.text.len() <= 100);
        let s = q.span.unwrap();
        assert_eq!(&q.text[s], "\"field\":");
    }

    #[test]
    fn quote_replaces_control_characters() {
        let q = make_quote(b"a\x1b[31mb\x00", Some(0..1), 100);
        assert_eq!(q.text, "a?[31mb?");
    }

    #[test]
    fn quote_handles_multibyte_cut_points() {
        let line = "é".repeat(5000);
        let q = make_quote(line.as_bytes(), Some(4001..4003), 51);
        assert!(q.text.len() <= 51);
        assert!(q.text.chars().all(|c| c == 'é'));
    }

    #[test]
    fn quote_of_a_huge_line_costs_only_its_window() {
        // Four MiB with many findings must not mean many passes over four MiB.
        let mut line = "é".repeat(2 * 1024 * 1024).into_bytes();
        line.extend_from_slice(b"\"key\":\xff\x01");
        let at = line.len() - 8;
        let started = std::time::Instant::now();
        for _ in 0..200 {
            let q = make_quote(&line, Some(at..at + 5), 100);
            assert!(q.text.len() <= 100);
            assert_eq!(&q.text[q.span.clone().unwrap()], "\"key\"");
            // The replacement character widens the tail past the limit: it is cut, the span kept.
            assert!(q.text.ends_with("\"key\":"), "{}", q.text);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let invalid = vec![0xffu8; 10_000];
        let q = make_quote(&invalid, Some(5000..5001), 100);
        assert!(q.text.len() <= 100 && q.text.chars().all(|c| c == '\u{fffd}'));
        assert!(q.span.is_some());
    }
}
