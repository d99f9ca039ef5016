//! [`Name`]: a breaker's name, owned without leaking and handed out without a reference count
//! where that is possible.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A circuit breaker's name, as [`BreakerError`](crate::BreakerError),
/// [`BreakerEvent`](crate::BreakerEvent) and the [`Registry`](crate::Registry) carry it.
///
/// A name is one of three things, each cheap to clone and none of them leaked:
/// - a `&'static str`: what `#[circuit_breaker]` gives, and string literals passed as a
///   `Name` ([`CircuitBreaker::builder_named`](crate::CircuitBreaker::builder_named)).
///   Cloning copies it.
/// - a name made at run time of up to 23 bytes (`host-10.0.0.7:443`; 11 bytes on 32-bit
///   targets), kept inside the `Name`: cloning copies it too, and touches no shared memory.
/// - a longer name made at run time, in an `Arc<str>`: cloning adds a reference.
///
/// Each rejection puts a clone in its [`BreakerError`](crate::BreakerError), so the first two
/// forms keep rejections as cheap as they get, even with many threads rejecting on one
/// breaker. A long run-time name costs two atomic operations on its reference count per
/// rejection, and threads rejecting on one breaker contend for that count: for a breaker
/// whose rejections are hot, keep its name within 23 bytes, or give a `&'static str` to
/// [`CircuitBreaker::builder_named`](crate::CircuitBreaker::builder_named).
/// [`CircuitBreaker::builder`](crate::CircuitBreaker::builder) takes any `Into<String>`, so a
/// literal given to it counts as a name made at run time.
///
/// It derefs to `str`, and compares, orders and hashes as its text, whatever its form; it
/// prints (`Display` and `Debug`) as a `str` does, and serializes as a string with the `serde`
/// feature.
///
/// ```
/// use breaker_runtime::Name;
///
/// let literal = Name::from("quotes");
/// let built = Name::from(format!("host-{}:443", 7));
/// assert_eq!(literal, "quotes");
/// assert_eq!(built, "host-7:443");
/// assert!(built.starts_with("host-"));
/// assert_eq!(format!("{literal} {built:?}"), r#"quotes "host-7:443""#);
/// assert_eq!(Name::from(String::from("quotes")), literal);
/// ```
pub struct Name(Repr);

const WORD: usize = std::mem::size_of::<usize>();

/// The longest name kept inline: 23 bytes on 64-bit targets.
const INLINE_MAX: usize = 3 * WORD - 1;
/// [`Repr`]'s last byte: up to `INLINE_MAX` the length of an inline name, else one of these.
const STATIC: u8 = 0xfe;
const SHARED: u8 = 0xff;

/// Three words. The last byte says which field is live; both fields have it at the same
/// place, and every byte of either is initialized, so it can be read through either.
#[repr(C)]
union Repr {
    inline: Inline,
    heap: Heap,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct Inline {
    bytes: [u8; INLINE_MAX],
    tag: u8,
}

/// A `&'static str`, or the text of an `Arc<str>` from `Arc::into_raw`.
#[derive(Clone, Copy)]
#[repr(C)]
struct Heap {
    ptr: *const u8,
    len: usize,
    _unused: [u8; WORD - 1],
    tag: u8,
}

// As small as a `String`: errors carry a name, and are returned on the rejection path.
const _: () = assert!(std::mem::size_of::<Name>() == 3 * WORD);
const _: () = assert!(std::mem::size_of::<Inline>() == std::mem::size_of::<Heap>());

// SAFETY: the raw pointer is what keeps `Name` from being `Send` on its own. It stands for a
// `&'static str` (`STATIC`) or for one reference of an `Arc<str>` (`SHARED`), both `Send`; the
// reference is counted with `Arc`'s atomic count, so one thread may give it back (`Drop`) while
// another clones its own. An inline name is plain bytes.
unsafe impl Send for Name {}
// SAFETY: through `&Name` the text is only read (`as_str`) and a shared name's count only
// changed atomically (`Clone`); `&'static str` and `Arc<str>` are `Sync` for the same reason.
unsafe impl Sync for Name {}

impl Name {
    /// A name that lives as long as the program, in a `const` if need be; no allocation.
    ///
    /// ```
    /// use breaker_runtime::Name;
    ///
    /// const QUOTES: Name = Name::from_static("quotes");
    /// assert_eq!(QUOTES.as_str(), "quotes");
    /// ```
    pub const fn from_static(name: &'static str) -> Name {
        Name::heap(name.as_ptr(), name.len(), STATIC)
    }

    /// A copy of `name`, for text that lives shorter than the program (`From<&'static str>`
    /// takes string literals without copying them). Allocates only for names longer than
    /// 23 bytes.
    ///
    /// ```
    /// use breaker_runtime::Name;
    ///
    /// let host = String::from("db-7:5432");
    /// let name = Name::new(&host);
    /// drop(host);
    /// assert_eq!(name, "db-7:5432");
    /// ```
    pub fn new(name: &str) -> Name {
        Name::inline(name).unwrap_or_else(|| Name::shared(Arc::from(name)))
    }

    const fn heap(ptr: *const u8, len: usize, tag: u8) -> Name {
        Name(Repr {
            heap: Heap {
                ptr,
                len,
                _unused: [0; WORD - 1],
                tag,
            },
        })
    }

    fn inline(name: &str) -> Option<Name> {
        let len = name.len();
        if len > INLINE_MAX {
            return None;
        }
        let mut bytes = [0; INLINE_MAX];
        bytes[..len].copy_from_slice(name.as_bytes());
        Some(Name(Repr {
            inline: Inline {
                bytes,
                tag: len as u8,
            },
        }))
    }

    fn shared(text: Arc<str>) -> Name {
        let len = text.len();
        Name::heap(Arc::into_raw(text).cast::<u8>(), len, SHARED)
    }

    #[inline]
    fn tag(&self) -> u8 {
        // SAFETY: both fields are `repr(C)`, of the same size, and end in the tag byte, which
        // every constructor sets (see `Repr`): it is initialized whichever field is live.
        unsafe { self.0.inline.tag }
    }

    /// The name as a `str`.
    ///
    /// ```
    /// let name = breaker_runtime::Name::from("quotes");
    /// assert_eq!(name.as_str(), "quotes");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        let tag = self.tag();
        // SAFETY: the tag says which field is live. An inline name's first `tag` bytes were
        // copied from a `str` (`inline`); a heap name's pointer and length are those of a
        // `&'static str` or of an `Arc<str>`'s text. Either way they are one whole UTF-8
        // `str`, alive as long as `self` (forever, or while `self` holds its reference).
        unsafe {
            let (ptr, len) = if usize::from(tag) <= INLINE_MAX {
                (self.0.inline.bytes.as_ptr(), usize::from(tag))
            } else {
                (self.0.heap.ptr, self.0.heap.len)
            };
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr, len))
        }
    }

    /// The `&'static str` this name was made from, if it was made from one
    /// ([`from_static`](Name::from_static), or `From<&'static str>`): text that can be kept
    /// for the whole program without a copy, as an exporter's label, say.
    ///
    /// ```
    /// use breaker_runtime::Name;
    ///
    /// assert_eq!(Name::from("quotes").as_static(), Some("quotes"));
    /// assert_eq!(Name::new("quotes").as_static(), None);
    /// ```
    pub fn as_static(&self) -> Option<&'static str> {
        if self.tag() != STATIC {
            return None;
        }
        // SAFETY: the `STATIC` tag is set only by `from_static`, whose pointer and length are
        // those of a `&'static str`: the text lives for the whole program, not just `self`.
        Some(unsafe { &*(self.as_str() as *const str) })
    }

    #[cold]
    #[inline(never)]
    fn add_reference(&self) {
        // SAFETY: only a `SHARED` name gets here (see `clone`), whose pointer came from
        // `Arc::<str>::into_raw` (`shared`): `as_str` rebuilds that very pointer and length.
        // `self` still holds its reference, so the allocation is alive; the one added is the
        // clone's.
        unsafe { Arc::increment_strong_count(self.as_str() as *const str) }
    }

    #[cold]
    #[inline(never)]
    fn drop_reference(&mut self) {
        // SAFETY: only a `SHARED` name gets here (see `drop`), whose pointer `as_str` rebuilds
        // as `Arc::<str>::into_raw` gave it; this gives back the one reference `self` holds,
        // once, as the name is dropped.
        unsafe { Arc::decrement_strong_count(self.as_str() as *const str) }
    }
}

impl Clone for Name {
    /// Three words copied; for a shared name, a reference more, out of line so that the
    /// rejection paths that clone names stay small.
    #[inline]
    fn clone(&self) -> Name {
        if self.tag() == SHARED {
            self.add_reference();
        }
        // SAFETY: `Repr` is plain bytes and a pointer (both fields are `Copy`), so a bitwise
        // copy is a valid `Repr`. The copy of a `SHARED` name owns the reference added above;
        // of the other forms it owns nothing that needs giving back.
        Name(unsafe { std::ptr::read(&self.0) })
    }
}

impl Drop for Name {
    #[inline]
    fn drop(&mut self) {
        if self.tag() == SHARED {
            self.drop_reference();
        }
    }
}

impl Deref for Name {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Lets maps keyed by `Name` be looked up with a `&str`.
impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&'static str> for Name {
    fn from(name: &'static str) -> Name {
        Name::from_static(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Name {
        Name::inline(&name).unwrap_or_else(|| Name::shared(Arc::from(name)))
    }
}

/// Keeps the `Arc` as it is, however short the name: no copy.
impl From<Arc<str>> for Name {
    fn from(name: Arc<str>) -> Name {
        Name::shared(name)
    }
}

impl From<Cow<'static, str>> for Name {
    fn from(name: Cow<'static, str>) -> Name {
        match name {
            Cow::Borrowed(s) => Name::from_static(s),
            Cow::Owned(s) => Name::from(s),
        }
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.as_str().to_owned()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// As the `str` hashes, which `Borrow<str>` requires.
impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

macro_rules! eq_str {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Name {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == &other[..]
            }
        }

        impl PartialEq<Name> for $other {
            fn eq(&self, other: &Name) -> bool {
                &self[..] == other.as_str()
            }
        }
    )*};
}

eq_str!(str, &str, String);

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn form(n: &Name) -> &'static str {
        match n.tag() {
            STATIC => "static",
            SHARED => "shared",
            _ => "inline",
        }
    }

    #[test]
    fn each_source_keeps_the_cheapest_form() {
        assert_eq!(
            form(&Name::from("a-rather-long-literal-name-of-a-dependency")),
            "static"
        );
        assert_eq!(form(&Name::from(String::new())), "inline");
        let longest = "x".repeat(INLINE_MAX);
        let too_long = "x".repeat(INLINE_MAX + 1);
        assert_eq!(form(&Name::from(longest.clone())), "inline");
        assert_eq!(form(&Name::from(too_long.clone())), "shared");
        assert_eq!(form(&Name::new(&longest)), "inline");
        assert_eq!(form(&Name::new(&too_long)), "shared");
        assert_eq!(form(&Name::from(Arc::<str>::from("x"))), "shared");
        assert_eq!(form(&Name::from(Cow::Borrowed("x"))), "static");
        assert_eq!(form(&Name::from(Cow::<str>::Owned("x".into()))), "inline");
    }

    #[test]
    fn every_form_is_its_text() {
        // Multi-byte characters right up to the inline limit, and one past it.
        for text in [
            "",
            "é",
            "host-10.0.0.7:443",
            "ééééééééééé",
            "éééééééééééa",
            "éééééééééééé",
            "日本語の名前",
        ] {
            let forms = [
                Name::from_static(Box::leak(text.to_owned().into_boxed_str())),
                Name::new(text),
                Name::from(text.to_owned()),
                Name::from(Arc::<str>::from(text)),
            ];
            for n in &forms {
                assert_eq!(n.as_str(), text);
                assert_eq!(n, text);
                assert_eq!(*n, *text);
                assert_eq!(n.to_string(), text);
                assert_eq!(format!("{n:?}"), format!("{text:?}"));
                assert_eq!(String::from(n.clone()), text);
                assert_eq!(n, &forms[0]);
                assert_eq!(n.cmp(&forms[0]), Ordering::Equal);
            }
        }
    }

    #[test]
    fn orders_and_hashes_as_text() {
        let mut names = vec![
            Name::from("b"),
            Name::from(String::from("a")),
            Name::from("c".repeat(30)),
        ];
        names.sort();
        assert_eq!(names, ["a", "b", "c".repeat(30).as_str()]);

        let mut map = HashMap::new();
        map.insert(Name::from(format!("host-{}:443", 1)), 1);
        map.insert(Name::from("static"), 2);
        assert_eq!(map.get("host-1:443"), Some(&1));
        assert_eq!(map.get("static"), Some(&2));
        assert_eq!(map.get(&Name::from(String::from("static"))), Some(&2));
    }

    #[test]
    fn a_shared_name_holds_one_reference_per_clone() {
        let text: Arc<str> = Arc::from("db");
        let name = Name::from(text.clone());
        assert_eq!(Arc::strong_count(&text), 2);
        let copies: Vec<Name> = (0..3).map(|_| name.clone()).collect();
        assert_eq!(Arc::strong_count(&text), 5);
        drop(copies);
        drop(name);
        assert_eq!(Arc::strong_count(&text), 1);
        // Nothing to count for the other forms; their clones are copies.
        let inline = Name::new("db");
        assert_eq!(inline.clone(), inline);
        assert_eq!(Name::from("db").clone().as_static(), Some("db"));
        assert_eq!(inline.as_static(), None);
    }

    #[test]
    fn pads_like_a_str() {
        assert_eq!(format!("[{:>8}]", Name::from("db")), "[      db]");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serializes_as_a_string() {
        #[derive(serde::Serialize)]
        struct S {
            name: Name,
        }
        let json = serde_json::to_string(&S { name: "db".into() }).unwrap();
        assert_eq!(json, r#"{"name":"db"}"#);
    }
}
