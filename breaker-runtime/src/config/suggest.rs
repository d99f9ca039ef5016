//! "Did you mean" for misspelt keys: the rule the attribute uses, so both suggest alike.

/// The known key that `unknown` was most likely meant to be.
///
/// A candidate matches when it is a small edit away (a typo), or, when no candidate is,
/// when it shares a whole `_`-separated word with `unknown` (so `timeout` finds
/// `call_timeout` and `reset_timeout`). The closest match wins.
pub(super) fn suggest(unknown: &str, known: &[&str]) -> Option<String> {
    suggest_scored(unknown, known).map(|(_, s)| s.to_owned())
}

/// [`suggest`] with the edit distance of the match.
pub(super) fn suggest_scored<'a>(unknown: &str, known: &[&'a str]) -> Option<(usize, &'a str)> {
    let unknown = unknown.to_ascii_lowercase();
    let words: Vec<&str> = unknown.split('_').filter(|w| w.len() >= 3).collect();
    let distance = |candidate: &str| edit_distance(&unknown, candidate);
    let is_typo = |candidate: &str| distance(candidate) <= (candidate.len() / 3).max(1);
    let typos = known.iter().any(|c| is_typo(c));
    known
        .iter()
        .filter(|&&candidate| {
            if typos {
                is_typo(candidate)
            } else {
                candidate.split('_').any(|c| words.contains(&c))
            }
        })
        .map(|&candidate| (distance(candidate), candidate))
        .min_by_key(|&(d, _)| d)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
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

    const KEYS: &[&str] = &[
        "reset_timeout",
        "call_timeout",
        "failure_threshold",
        "window",
    ];

    #[test]
    fn typos_and_shared_words() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            suggest("failure_treshold", KEYS).as_deref(),
            Some("failure_threshold")
        );
        assert_eq!(suggest("windw", KEYS).as_deref(), Some("window"));
        let timeout = suggest("timeout", KEYS).unwrap();
        assert!(timeout == "call_timeout" || timeout == "reset_timeout");
        assert_eq!(suggest("colour", KEYS), None);
    }
}
