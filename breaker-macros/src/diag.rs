//! Diagnostics: an accumulator that keeps every error, and "did you mean" suggestions.

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

/// The known names that `unknown` was probably meant to be, best first (at most three).
///
/// A candidate matches when it is a small edit away (a typo), or when it shares a whole
/// `_`-separated word with `unknown` (so `timeout` finds `call_timeout` and `reset_timeout`).
pub(crate) fn suggestions<'a>(unknown: &str, known: &[&'a str]) -> Vec<&'a str> {
    let unknown = unknown.to_ascii_lowercase();
    let words: Vec<&str> = unknown.split('_').filter(|w| w.len() >= 3).collect();
    let distance = |candidate: &str| edit_distance(&unknown, candidate);
    let is_typo = |candidate: &str| distance(candidate) <= (candidate.len() / 3).max(1);
    // A typo is the better guess: only when there is none, look for shared words.
    let typos = known.iter().any(|c| is_typo(c));
    let mut scored: Vec<(usize, &'a str)> = known
        .iter()
        .filter(|&&candidate| {
            if typos {
                is_typo(candidate)
            } else {
                candidate.split('_').any(|c| words.contains(&c))
            }
        })
        .map(|&candidate| (distance(candidate), candidate))
        .collect();
    scored.sort_by_key(|&(distance, _)| distance);
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// "did you mean `a`, `b` or `c`?", or an empty string when there is nothing to suggest.
pub(crate) fn did_you_mean(candidates: &[&str]) -> String {
    let quoted: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!("did you mean {one}?"),
        [init @ .., last] => format!("did you mean {} or {last}?", init.join(", ")),
    }
}

/// Levenshtein distance over chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &[
        "name",
        "failure_threshold",
        "success_threshold",
        "reset_timeout",
        "half_open_timeout",
        "call_timeout",
        "fallback",
    ];

    #[test]
    fn timeout_suggests_the_timeouts() {
        let found = suggestions("timeout", KNOWN);
        assert_eq!(
            found,
            ["call_timeout", "reset_timeout", "half_open_timeout"]
        );
        assert_eq!(
            did_you_mean(&found),
            "did you mean `call_timeout`, `reset_timeout` or `half_open_timeout`?"
        );
    }

    #[test]
    fn typos_are_caught() {
        assert_eq!(
            suggestions("falure_threshold", KNOWN),
            ["failure_threshold"]
        );
        assert_eq!(suggestions("fallbak", KNOWN), ["fallback"]);
        assert_eq!(suggestions("Name", KNOWN), ["name"]);
        assert!(suggestions("colour", KNOWN).is_empty());
        assert_eq!(did_you_mean(&[]), "");
        assert_eq!(did_you_mean(&["a", "b"]), "did you mean `a` or `b`?");
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
