//! The `static` cells that hold each annotated function's breaker, and its default name.

use super::method_name::{method_declared_name, method_default_name};
use crate::{BreakerConfig, CircuitBreaker};
use std::sync::{Arc, OnceLock};

/// The breaker of one annotated function, in a `static` inside its body.
#[derive(Debug)]
pub struct BreakerCell {
    cell: OnceLock<Arc<CircuitBreaker>>,
}

impl Default for BreakerCell {
    fn default() -> Self {
        Self::new()
    }
}

impl BreakerCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        BreakerCell {
            cell: OnceLock::new(),
        }
    }

    /// The breaker: registered on the first call, one atomic load after that.
    #[inline]
    pub fn get_or_register(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        match self.cell.get() {
            Some(b) => b,
            None => self.register(name, config),
        }
    }

    #[cold]
    #[inline(never)]
    fn register(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        // The name is a literal, `concat!` or a default name from below: kept as it is, with
        // no copy, so errors and events carry it at no cost.
        self.cell.get_or_init(|| {
            crate::registry().get_or_create_named(&crate::Name::from_static(name), config())
        })
    }
}

impl BreakerCell {
    /// For a [`Declared`] breaker: registers it as [`get_or_register`](Self::get_or_register)
    /// does (or finds it) and returns it.
    pub fn declared(
        &'static self,
        name: &'static str,
        config: fn() -> BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.get_or_register(name, config);
        self.arc()
    }

    /// For a [`Declared`] breaker without a `name`: registers it as
    /// [`get_or_register_default`](Self::get_or_register_default) does (or finds it) and
    /// returns it.
    pub fn declared_default(
        &'static self,
        name: fn() -> &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.get_or_register_default(name, site, config);
        self.arc()
    }

    fn arc(&'static self) -> Arc<CircuitBreaker> {
        match self.cell.get() {
            Some(b) => b.clone(),
            None => unreachable!("registered just before"),
        }
    }
}

/// The breakers of one annotated method without a `name`: one per implementing type where
/// the name depends on it. A `static` in a trait's default method, or in a blanket or
/// generic impl, is one for every `Self`, so a plain [`BreakerCell`] would hand every
/// implementor the breaker of the first type that called: `B` rejected because `A` failed.
/// Types are told apart by `type_name::<Self>()`; the name comes from the method's path (see
/// `method_name.rs`): the instantiations of a generic inherent impl share one name and one
/// breaker, a generic trait impl's are implementing types with one each.
#[derive(Debug)]
pub struct MethodBreakerCell {
    /// The first type's full `type_name` and breaker: the one lookup on the hot path.
    first: OnceLock<(&'static str, &'static CircuitBreaker)>,
    /// Every type seen, by full `type_name`: read by every call of a type after the first
    /// (shared), written once per type.
    all: std::sync::RwLock<Vec<(&'static str, &'static CircuitBreaker)>>,
}

impl Default for MethodBreakerCell {
    fn default() -> Self {
        Self::new()
    }
}

impl MethodBreakerCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        MethodBreakerCell {
            first: OnceLock::new(),
            all: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// The breaker of `method` for the type `T` (the method's `Self`). `path` gives the
    /// `type_name` of an item nested in the method, which names it with its impl;
    /// `site` is the method's `file:line:column`.
    #[inline]
    pub fn get_or_register<T: ?Sized>(
        &'static self,
        path: fn() -> &'static str,
        method: &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        let ty = ::core::any::type_name::<T>();
        match self.first.get() {
            // One type (the common case: a concrete impl): the same string, the same address.
            Some(&(first, b)) if first.as_ptr() == ty.as_ptr() && first.len() == ty.len() => b,
            _ => self.for_type(
                ty,
                || leak(method_default_name(path(), ty, method)),
                site,
                config,
            ),
        }
    }

    /// For a [`Declared`](crate::__private::Declared) method whose name its path decides
    /// (a concrete impl, see [`declared_name`]): the breaker its first call will find, built
    /// by a look before that call.
    pub fn declared(
        &'static self,
        name: &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.register(name, site, config)
    }

    /// The breaker registered under `name` as this method's (see [`claim_name`]): what a
    /// look before the first call and each type's first call both find.
    fn register(
        &'static self,
        name: &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> Arc<CircuitBreaker> {
        let name = claim_name(name, self as *const Self as usize, site);
        crate::registry().get_or_create_named(&crate::Name::from_static(name), config())
    }

    #[cold]
    #[inline(never)]
    fn for_type(
        &'static self,
        ty: &'static str,
        name: impl FnOnce() -> &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        let known = |all: &[(&'static str, &'static CircuitBreaker)]| {
            all.iter().find(|(t, _)| *t == ty).map(|&(_, b)| b)
        };
        if let Some(b) = known(&self.all.read().unwrap_or_else(|e| e.into_inner())) {
            return b;
        }
        let mut all = self.all.write().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = known(&all) {
            return b;
        }
        let breaker = self.register(name(), site, config);
        // Leaked once per method and type, like the method's name: bounded by the program's
        // code, and a `&'static` keeps the hot path free of reference counts.
        let breaker: &'static CircuitBreaker = Box::leak(Box::new(breaker));
        all.push((ty, breaker));
        let _ = self.first.set((ty, breaker));
        breaker
    }
}

/// The name a method without a `name` is known by from the program's start, when its path
/// alone decides it (see [`method_declared_name`]); `inherent` when the method has a
/// visibility, so it cannot be a trait's.
pub fn declared_name(path: &str, inherent: bool) -> Option<&'static str> {
    method_declared_name(path, inherent).map(leak)
}

impl BreakerCell {
    /// Like [`get_or_register`](Self::get_or_register) for a function without a `name`: the
    /// default name is computed only on the first call, and kept unique (see [`claim_name`]).
    /// `site` is the function's `file:line:column`.
    #[inline]
    pub fn get_or_register_default(
        &'static self,
        name: impl FnOnce() -> &'static str,
        site: &'static str,
        config: fn() -> BreakerConfig,
    ) -> &'static CircuitBreaker {
        match self.cell.get() {
            Some(b) => b,
            // The cell's address is the function's identity: every annotated function has a
            // cell of its own, even two that one outer macro invocation wrote at one site.
            None => self.register(
                claim_name(name(), self as *const Self as usize, site),
                config,
            ),
        }
    }
}

/// A default name, leaked on purpose: made at most once per annotated method and type (the
/// cells cache the breaker after the first call), so what stays is bounded by the program's
/// code, not by what it does at run time, and a `&'static str` keeps the name free to hand
/// out in every error and event, like a literal's. Breakers a program makes at run time
/// never come here; their names are [`Name`](crate::Name)s and are freed with them.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// Reserves a default name for the function whose cell is at `identity` (written at
/// `site`). Two different functions that derive the same default name (say an inherent and a
/// trait method of one type, both `get`, perhaps written by one macro invocation, so at one
/// site) must not share a breaker by accident: the first keeps the name, the later one gets
/// `name@site` (or `name@site#2`, …) and a warning. The renamed name is leaked for the reason
/// `leak` gives: once per annotated function at most.
pub fn claim_name(name: &'static str, identity: usize, site: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CLAIMED: Mutex<Option<HashMap<&'static str, usize>>> = Mutex::new(None);
    let mut claimed = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
    let claimed = claimed.get_or_insert_with(HashMap::new);
    match claimed.get(name) {
        None => {
            claimed.insert(name, identity);
            name
        }
        Some(&owner) if owner == identity => name,
        Some(_) => {
            // The name this function was renamed to before (a generic impl's next `Self`
            // type asks again), else the first free one.
            let mut unique = format!("{name}@{site}");
            let mut n = 1;
            while let Some((&taken, &owner)) = claimed.get_key_value(unique.as_str()) {
                if owner == identity {
                    return taken;
                }
                n += 1;
                unique = format!("{name}@{site}#{n}");
            }
            let unique = leak(unique);
            tracing::warn!(
                target: "breaker_runtime",
                name,
                site,
                renamed = unique,
                "two functions have the same default circuit breaker name; give them `name = \"…\"`"
            );
            claimed.insert(unique, identity);
            unique
        }
    }
}
