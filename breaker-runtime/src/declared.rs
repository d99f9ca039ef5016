//! Breakers the attribute declares, so that the global registry knows them from its first use,
//! before their functions are first called: an operator can see and force open a breaker at
//! start-up, and its metrics exist before the first call.
//!
//! Each annotated function with a name known when it is compiled (a `name`, or a free
//! function's path) submits a [`Declared`] through `inventory`, which gathers them when the
//! program starts; [`registry`](crate::registry) creates them on its first use. A method
//! without a `name` is named after its `Self` type, which only its first call knows: it is
//! registered then.

use crate::name::Name;
use crate::registry::Registry;
use crate::settings::BreakerConfig;

/// One annotated function's breaker: its name and the settings its attribute gave.
#[derive(Debug)]
pub struct Declared {
    /// The breaker's name.
    pub name: &'static str,
    /// The attribute's settings.
    pub config: fn() -> BreakerConfig,
}

inventory::collect!(Declared);

/// Creates every declared breaker in `registry` (the global one, as it is made).
pub(crate) fn register_all(registry: &Registry) {
    for declared in inventory::iter::<Declared> {
        registry.get_or_create_named(&Name::from_static(declared.name), (declared.config)());
    }
}
