//! Breakers made before a metrics recorder was installed: their series went nowhere, and a
//! recorder installed later cannot get them back (a breaker keeps the handles it registered,
//! so publishing looks nothing up). That must not pass in silence: once a recorder is
//! there, the next publication says which breakers it will never hear from.

use ::metrics::SharedString;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

/// At most this many names are kept for the warning; the count says how many there were.
const NAMES_SHOWN: usize = 8;

static COUNT: AtomicUsize = AtomicUsize::new(0);
static NAMES: Mutex<Vec<SharedString>> = Mutex::new(Vec::new());

/// Whether no recorder is installed for this thread: `metrics` then answers with its no-op
/// recorder, the one recorder with no state at all (a zero-sized value; a recorder of your
/// own with no state is taken for it).
fn no_recorder() -> bool {
    ::metrics::with_recorder(|recorder| std::mem::size_of_val(recorder) == 0)
}

/// Whether a recorder is installed for this thread (a global one, or a local one around it).
pub(super) fn recorder_installed() -> bool {
    !no_recorder()
}

/// Called as a breaker registers its series: notes it when they go to no recorder.
pub(super) fn note(name: &SharedString) {
    if no_recorder() {
        COUNT.fetch_add(1, Relaxed);
        let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
        if names.len() < NAMES_SHOWN {
            names.push(name.clone());
        }
    }
}

/// Called by the publishing thread after each publication (it sees the global recorder
/// alone): once one is installed, warns once about the breakers noted before it, then
/// forgets them.
pub(super) fn warn_if_a_recorder_came_late() {
    if COUNT.load(Relaxed) == 0 || no_recorder() {
        return;
    }
    let count = COUNT.swap(0, Relaxed);
    let names = std::mem::take(&mut *NAMES.lock().unwrap_or_else(PoisonError::into_inner));
    let names: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
    tracing::warn!(
        target: "breaker_runtime",
        count,
        breakers = %names.join(", "),
        "circuit breakers made before the metrics recorder was installed report nothing to it; \
         install the recorder before their first call (an annotated function's breaker not \
         called or looked at yet is made later, and reports)"
    );
}
