//! Input profiles: how a producer's records are laid out, canonicalized, chained and signed.
//!
//! Built in: `aat` (IETF draft-sharif-agent-audit-trail -04 … -06, the [`aat`] engine), `asqav`
//! (asqav 0.10.14 receipts), `agt-audit`, `agt-cloudevents`, `agt-filesink` and `agt-mcp`
//! (Microsoft Agent Governance Toolkit 5.0.0). Every built-in is a profile file
//! (`src/profile/builtin/*.toml`, printed by `audit-verify profiles NAME`); all but `aat` run on
//! the declarative [`engine`] and [`links`], and a profile file (`--profile FILE`) declares a
//! format that is not built in (`docs/profiles.md`).

pub mod aat;
pub mod agt;
pub mod asqav;
pub mod engine;
pub mod links;
pub mod record;
pub mod sigcheck;
pub mod spec;

use std::path::Path;
use std::sync::Arc;

use crate::bounded::ReadError;
use crate::canon::json::Value;
use crate::chain::{Chains, FindingSink, Policy};
use crate::finding::{Finding, Location};
use crate::ingest::Bundle;
use crate::report::{ChainSummary, Untracked};
use crate::sig::SigContext;
use sigcheck::Env;
use spec::{Extension, ProfileError, Spec};

/// The built-in profiles: name and profile file text.
pub const BUILTINS: &[(&str, &str)] = &[
    ("aat", include_str!("builtin/aat.toml")),
    ("asqav", include_str!("builtin/asqav.toml")),
    ("agt-audit", include_str!("builtin/agt-audit.toml")),
    (
        "agt-cloudevents",
        include_str!("builtin/agt-cloudevents.toml"),
    ),
    ("agt-filesink", include_str!("builtin/agt-filesink.toml")),
    ("agt-mcp", include_str!("builtin/agt-mcp.toml")),
];

/// A loaded profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The declaration.
    pub spec: Arc<Spec>,
    /// Its file text, as loaded.
    pub text: String,
    /// Where it came from (built-in name or file path).
    pub origin: String,
    /// Whether it is built in.
    pub builtin: bool,
}

impl Profile {
    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Whether the AAT engine runs this profile.
    pub fn is_aat(&self) -> bool {
        self.spec.engine.as_deref() == Some("aat")
    }

    /// Parses a profile file text, validates it and runs its known-answer tests.
    ///
    /// # Errors
    /// [`ProfileError`] when the text is not a valid profile or a known-answer test fails.
    pub fn from_text(text: &str, origin: &str, builtin: bool) -> Result<Profile, ProfileError> {
        let spec = Spec::from_toml(text, origin)?;
        for kat in &spec.known_answers {
            run_known_answer(&spec, kat, origin)?;
        }
        Ok(Profile {
            spec: Arc::new(spec),
            text: text.to_string(),
            origin: origin.to_string(),
            builtin,
        })
    }

    /// A built-in profile by name.
    ///
    /// # Errors
    /// [`ProfileError`] if the built-in does not load (a bug, caught by the tests).
    pub fn builtin(name: &str) -> Option<Result<Profile, ProfileError>> {
        BUILTINS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Profile::from_text(text, n, true))
    }

    /// Every built-in profile.
    ///
    /// # Errors
    /// [`ProfileError`] if a built-in does not load.
    pub fn builtins() -> Result<Vec<Profile>, ProfileError> {
        // Loaded (parsed and their known answers checked) once per process: a run loads them
        // once anyway, and callers that run many verifications (the fuzzers, the tests) need
        // not repeat it. A load that fails is not kept, so its error is given every time.
        static LOADED: std::sync::OnceLock<Vec<Profile>> = std::sync::OnceLock::new();
        if let Some(all) = LOADED.get() {
            return Ok(all.clone());
        }
        let all = BUILTINS
            .iter()
            .map(|(n, text)| Profile::from_text(text, n, true))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LOADED.get_or_init(|| all).clone())
    }

    /// `--profile NAME|FILE`: a built-in name, else a profile file path.
    ///
    /// # Errors
    /// [`ProfileError`]; `Ok(None)` when it is neither a built-in name nor a readable file.
    pub fn resolve(name_or_path: &str) -> Result<Option<Profile>, ProfileError> {
        if let Some(p) = Profile::builtin(name_or_path) {
            return p.map(Some);
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Ok(None);
        }
        let text = read_profile_file(path, name_or_path)?;
        Profile::from_text(&text, name_or_path, false).map(Some)
    }
}

/// The largest profile file read (the built-ins are 2–6 kB).
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

/// Reads a profile file, at most [`MAX_PROFILE_BYTES`] (also from pipes and devices, whose size
/// is not known in advance).
fn read_profile_file(path: &Path, name: &str) -> Result<String, ProfileError> {
    let io = |source| ProfileError::Io {
        path: name.to_string(),
        source,
    };
    let bytes = crate::bounded::read_file(path, MAX_PROFILE_BYTES).map_err(|e| match e {
        ReadError::Io(source) => io(source),
        ReadError::TooLarge(_) => ProfileError::TooLarge {
            path: name.to_string(),
            limit: MAX_PROFILE_BYTES,
        },
    })?;
    String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text ({e})"),
        ))
    })
}

fn run_known_answer(
    spec: &Spec,
    kat: &spec::KnownAnswer,
    origin: &str,
) -> Result<(), ProfileError> {
    let fail = |expected: String, found: String| ProfileError::KnownAnswer {
        origin: origin.into(),
        name: kat.name.clone(),
        expected,
        found,
    };
    let value = engine::parse(spec, kat.record.as_bytes())
        .map_err(|e| fail("a JSON record".into(), e.to_string()))?;
    let bytes =
        engine::canonical_bytes(spec, &value).map_err(|e| fail("canonical bytes".into(), e))?;
    if let Some(want) = &kat.canonical {
        if want.as_bytes() != bytes.as_slice() {
            return Err(fail(
                want.clone(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    if let Some(want) = &kat.hash {
        let got = engine::encode_digest(&engine::sha256(&bytes), spec.hash.encoding);
        if *want != got {
            return Err(fail(want.clone(), got));
        }
    }
    if kat.canonical.is_none() && kat.hash.is_none() {
        return Err(ProfileError::Invalid {
            origin: origin.into(),
            detail: format!(
                "known-answer test {:?} has neither canonical nor hash",
                kat.name
            ),
        });
    }
    Ok(())
}

/// The profiles that a parsed record matches.
pub fn candidates<'p>(profiles: &'p [Profile], record: &Value) -> Vec<&'p Profile> {
    profiles
        .iter()
        .filter(|p| engine::looks_like(&p.spec, record))
        .collect()
}

/// A record after the per-record work of its profile's engine.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// The AAT engine.
    Aat(Box<aat::Prepared>),
    /// The declarative engine.
    Spec(Box<record::Prepared>),
}

/// What a run's per-record work needs.
pub struct Runner<'a> {
    profile: Profile,
    env: Env<'a>,
    opts: aat::PrepareOptions,
}

impl<'a> Runner<'a> {
    /// Prepares a profile with the run's keys and HMAC secret.
    pub fn new(
        profile: Profile,
        sig: &'a SigContext,
        hmac: Option<Vec<u8>>,
        opts: aat::PrepareOptions,
    ) -> Self {
        Runner {
            profile,
            env: Env::new(sig, hmac),
            opts,
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Does the per-record work for one record.
    pub fn prepare(&self, at: Location, bytes: Vec<u8>, context: Option<String>) -> Prepared {
        if self.profile.is_aat() {
            Prepared::Aat(Box::new(aat::prepare_with(
                at,
                bytes,
                context,
                self.env.sig,
                self.opts,
            )))
        } else {
            Prepared::Spec(Box::new(engine::prepare(
                &self.profile.spec,
                at,
                bytes,
                context,
                &self.env,
            )))
        }
    }

    /// A hole where the container could not deliver a record.
    pub fn hole(&self, at: Location, finding: Finding) -> Prepared {
        if self.profile.is_aat() {
            Prepared::Aat(Box::new(aat::Prepared::unreadable(at, finding)))
        } else {
            Prepared::Spec(Box::new(record::Prepared::unreadable(at, finding)))
        }
    }

    /// The order-dependent checks for this profile.
    pub fn checker(&self, policy: Policy) -> Checker {
        if self.profile.is_aat() {
            Checker::Aat(Chains::new(policy))
        } else {
            Checker::Spec(links::Links::new(&self.profile.spec, policy))
        }
    }

    /// Bundle-level checks (digests, signatures, Merkle roots of the object holding the records).
    pub fn check_bundle(&self, bundle: &Bundle, at: &Location, out: &mut Vec<Finding>) {
        let spec = &self.profile.spec;
        let wants = [
            Extension::AsqavAuditPack,
            Extension::AsqavComplianceBundle,
            Extension::AgtExport,
            Extension::AgtProof,
        ];
        if !wants.iter().any(|e| spec.has(*e)) {
            return;
        }
        // A dialect without NaN and Infinity parses strictly (`engine::parse`): a bundle that holds
        // them is not JSON to it, and not checked.
        if bundle.has_nonfinite() && !spec.hash.dialect.allows_nonfinite() {
            return;
        }
        if spec.has(Extension::AsqavAuditPack) || spec.has(Extension::AsqavComplianceBundle) {
            asqav::check_bundle(bundle, at, &self.env, out);
        }
        if spec.has(Extension::AgtExport) || spec.has(Extension::AgtProof) {
            agt::check_bundle(spec, bundle, at, out);
        }
    }
}

/// The order-dependent checks of a run.
pub enum Checker {
    /// AAT sessions.
    Aat(Chains),
    /// Declared chains.
    Spec(links::Links),
}

impl Checker {
    /// Marks a source whose container cannot carry every hashed member (AAT CSV).
    pub fn set_lossy(&mut self, source: usize) {
        if let Checker::Aat(c) = self {
            c.set_lossy(source);
        }
    }

    /// Sets the chain heads of an `--anchor` certificate (AAT chains).
    pub fn set_cert_anchors(
        &mut self,
        anchors: crate::tables::HashMap<String, crate::chain::CertAnchor>,
    ) {
        if let Checker::Aat(c) = self {
            c.set_cert_anchors(anchors);
        }
    }

    /// Records a trusted checkpoint that covers the whole export (AAT chains).
    pub fn set_export_tail(&mut self, anchor: Option<crate::report::TailAnchor>) {
        if let Checker::Aat(c) = self {
            c.set_export_tail(anchor);
        }
    }

    /// Hands a finding made outside the chain checks (batch epochs, checkpoints, bundles) to the
    /// sink, counting it for its chain.
    pub fn push(&mut self, f: Finding, sink: &mut FindingSink) {
        match self {
            Checker::Aat(c) => c.push(f, sink),
            Checker::Spec(c) => c.push(f, sink),
        }
    }

    /// Feeds one record in file order.
    pub fn observe(&mut self, p: Prepared, sink: &mut FindingSink) {
        match (self, p) {
            (Checker::Aat(c), Prepared::Aat(p)) => c.observe(*p, sink),
            (Checker::Spec(c), Prepared::Spec(p)) => c.observe(*p, sink),
            // A runner builds matching pairs; anything else carries only findings.
            (_, Prepared::Aat(p)) => p.findings.into_iter().for_each(|f| sink.push(f)),
            (_, Prepared::Spec(p)) => p.findings.into_iter().for_each(|f| sink.push(f)),
        }
    }

    /// Ends every chain; also returns the records of chains beyond the limit on chains, if any.
    pub fn finish(self, sink: &mut FindingSink) -> (Vec<ChainSummary>, Option<Untracked>) {
        match self {
            Checker::Aat(c) => c.finish(sink),
            Checker::Spec(c) => c.finish(sink),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads_and_passes_its_known_answers() {
        let all = Profile::builtins().unwrap();
        assert_eq!(all.len(), BUILTINS.len());
        for p in &all {
            assert_eq!(p.name(), p.origin);
            assert!(
                !p.spec.known_answers.is_empty(),
                "{} has no known-answer test",
                p.name()
            );
        }
    }

    /// The codes of a profile's bundle-level findings.
    fn bundle_codes(profile: &str, text: &str) -> Vec<&'static str> {
        let profile = Profile::builtin(profile).unwrap().unwrap();
        let ring = crate::keys::KeyRing::from_keys(Vec::new());
        let ctx = SigContext::new(&ring, crate::crypto::all_providers()[0]).unwrap();
        let runner = Runner::new(profile, &ctx, None, aat::PrepareOptions::default());
        let bundle = Bundle::parse(text.as_bytes().to_vec()).unwrap();
        let mut out = Vec::new();
        let at = Location {
            source: 0,
            line: 1,
            record: 0,
        };
        runner.check_bundle(&bundle, &at, &mut out);
        out.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn a_bundle_with_nan_is_read_only_by_profiles_whose_dialect_allows_it() {
        let pack = |x: &str| {
            format!(
                r#"{{"receipt_count": 3, "receipts": [{{"x": {x}}}], "bundle_digest": "sha256:00"}}"#
            )
        };
        assert_eq!(
            bundle_codes("asqav", &pack("1")),
            [
                "asqav.bundle_count_mismatch",
                "asqav.bundle_digest_mismatch"
            ]
        );
        // asqav-JCS refuses NaN: the strict parse refuses the bundle, which is not checked.
        assert!(bundle_codes("asqav", &pack("NaN")).is_empty());
        let export = |x: &str| format!(r#"{{"entry_count": 3, "entries": [{{"x": {x}}}]}}"#);
        assert_eq!(
            bundle_codes("agt-audit", &export("1")),
            ["agt.entry_count_mismatch"]
        );
        assert_eq!(
            bundle_codes("agt-audit", &export("-Infinity")),
            ["agt.entry_count_mismatch"]
        );
    }

    #[test]
    fn a_wrong_known_answer_refuses_the_profile() {
        let (_, text) = BUILTINS.iter().find(|(n, _)| *n == "agt-mcp").unwrap();
        let broken = text.replace("dc17d6aa", "00000000");
        let e = Profile::from_text(&broken, "x", false).unwrap_err();
        assert!(matches!(e, ProfileError::KnownAnswer { .. }), "{e}");
        let broken = text.replace("py-compact-utf8", "py-default");
        assert!(Profile::from_text(&broken, "x", false).is_err());
    }
}
