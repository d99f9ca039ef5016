//! One breaker per host: [`PerHostLayer`] and its [`PerHostService`], keyed by the host a
//! request is for (`key.rs`), their breakers a [`Family`](crate::Family)'s members.

mod key;
mod layer;
mod service;

pub use layer::PerHostLayer;
pub use service::PerHostService;
