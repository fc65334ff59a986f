//! The hash tables of the crate, with the hasher they are built with.
//!
//! Ordinary builds use the standard library's randomly keyed SipHash ([`RandomState`]), so that
//! an export cannot be written to collide in our tables. Builds for fuzzing (`--cfg fuzzing`,
//! which `cargo fuzz` sets) use fixed keys instead: with random keys the same input takes
//! different probe paths in each run, and a coverage-guided fuzzer then keeps finding "new"
//! edges that belong to the keys, not to the input (see `fuzz/README.md`).
//!
//! Tables are made with `default()` or `with_capacity_and_hasher(n, State::default())`, never
//! `new()`, which exists only for [`RandomState`].
//!
//! [`RandomState`]: std::hash::RandomState

/// The hasher of every table in this module's types.
#[cfg(not(fuzzing))]
pub type State = std::hash::RandomState;

/// The hasher of every table in this module's types: SipHash with fixed keys (fuzzing builds).
#[cfg(fuzzing)]
pub type State = std::hash::BuildHasherDefault<std::hash::DefaultHasher>;

/// A [`std::collections::HashMap`] built with [`State`].
pub type HashMap<K, V> = std::collections::HashMap<K, V, State>;

/// A [`std::collections::HashSet`] built with [`State`].
pub type HashSet<T> = std::collections::HashSet<T, State>;
