//! Diagnostics: an accumulator that keeps every error. ("Did you mean" is
//! `breaker_spec::suggest`, shared with the config loader.)

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// Every error found so far; emitted together so the user fixes them in one pass.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
    count: usize,
}

impl Errors {
    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an already built error (which may itself hold several).
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.count += error.clone().into_iter().count();
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// How many errors are recorded.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The messages, in the order they were recorded.
    #[cfg(test)]
    pub(crate) fn into_messages(self) -> Vec<String> {
        self.combined
            .into_iter()
            .flat_map(|e| e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>())
            .collect()
    }

    /// The `compile_error!`s of every recorded error.
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.combined
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}
