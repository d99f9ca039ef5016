//! "Did you mean": the names a misspelt one was probably meant to be.
//!
//! ```
//! use breaker_spec::suggest::{did_you_mean, suggestions};
//! let found = suggestions("failure_treshold", &["failure_threshold", "window"]);
//! assert_eq!(did_you_mean(&found), "did you mean `failure_threshold`?");
//! ```

/// The known names that `unknown` was probably meant to be, best first, at most three.
///
/// A candidate matches when it is a small edit away (a typo), or, when no candidate is,
/// when it shares a whole `_`-separated word of three letters or more with `unknown` (so
/// `timeout` finds `call_timeout` and `reset_timeout`). Case is ignored. Ties keep the
/// order of `known`.
///
/// ```
/// use breaker_spec::suggest::suggestions;
///
/// let known = ["reset_timeout", "call_timeout", "window"];
/// assert_eq!(suggestions("windw", &known), ["window"]);
/// assert_eq!(suggestions("timeout", &known), ["call_timeout", "reset_timeout"]);
/// assert!(suggestions("colour", &known).is_empty());
/// ```
pub fn suggestions<'a>(unknown: &str, known: &[&'a str]) -> Vec<&'a str> {
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
    // Stable: equally close names stay in the order the caller listed them.
    scored.sort_by_key(|&(distance, _)| distance);
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// "did you mean `a`, `b` or `c`?", or an empty string when there is nothing to suggest.
///
/// ```
/// use breaker_spec::suggest::did_you_mean;
///
/// assert_eq!(did_you_mean(&["window"]), "did you mean `window`?");
/// assert_eq!(did_you_mean(&["a", "b", "c"]), "did you mean `a`, `b` or `c`?");
/// assert_eq!(did_you_mean(&[]), "");
/// ```
pub fn did_you_mean(candidates: &[&str]) -> String {
    let quoted: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!("did you mean {one}?"),
        [init @ .., last] => format!("did you mean {} or {last}?", init.join(", ")),
    }
}

/// The Levenshtein distance over chars: how many insertions, deletions and substitutions
/// turn `a` into `b`.
///
/// ```
/// assert_eq!(breaker_spec::suggest::edit_distance("kitten", "sitting"), 3);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the table, updated in place; `diagonal` keeps the cell it overwrites.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
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
    fn shared_words_find_up_to_three_closest_first() {
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
    fn typos_win_over_shared_words() {
        assert_eq!(
            suggestions("falure_threshold", KNOWN),
            ["failure_threshold"]
        );
        assert_eq!(suggestions("fallbak", KNOWN), ["fallback"]);
        assert_eq!(suggestions("Name", KNOWN), ["name"]);
        assert!(suggestions("colour", KNOWN).is_empty());
        assert!(suggestions("", KNOWN).is_empty());
        assert_eq!(did_you_mean(&["a", "b"]), "did you mean `a` or `b`?");
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("µs", "us"), 1);
    }
}
