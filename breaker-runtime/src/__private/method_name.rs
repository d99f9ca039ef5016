//! The default name of an annotated method, from the path of an item the expansion nests in
//! its body.
//!
//! An attribute sees only the method, never the `impl` around it. But `type_name` of a
//! function item nested in the method names the method with its impl, as the compiler sees
//! it: `app::Client::fetch::__breaker_site` in an inherent impl,
//! `<app::Client as app::Api>::get::__breaker_site` in a trait impl (the contract's default
//! names), `app::Api::get::__breaker_site` in a trait's default method, with `_` for the
//! impl's type parameters (`<_ as app::Api>::get…` in a blanket impl) and `{{closure}}` for
//! an `async` body. Where that path depends on `Self` (a default method, a blanket impl),
//! the name is `<Type as Trait>::method` for each implementing type.

/// What the nested item's path says of the method: where it lives and what it is called.
struct MethodPath<'a> {
    owner: Owner,
    method: &'a str,
}

enum Owner {
    /// `<Type as Trait>`: a trait impl.
    TraitImpl { self_type: String, tr: String },
    /// `path::Type` or `path::Trait`: an inherent impl or a trait's default method, which
    /// only `Self` tells apart.
    Path(String),
    /// Something this parser does not know: the type name of `Self` decides.
    Unknown,
}

/// The name a method's first call registers for the type `self_type` (`type_name::<Self>()`),
/// from `site`, the `type_name` of the item nested in it.
///
/// ```
/// use breaker_runtime::__private::method_default_name as name;
/// let site = "<app::Client as app::Api>::get::{{closure}}::__breaker_site";
/// assert_eq!(name(site, "app::Client", "get"), "<app::Client as app::Api>::get");
/// assert_eq!(name("app::Api::get::__breaker_site", "app::Db", "get"), "<app::Db as app::Api>::get");
/// ```
pub fn method_default_name(site: &str, self_type: &str, method: &str) -> String {
    let Some(path) = parse(site) else {
        return format!("{}::{method}", erase_all_args(self_type));
    };
    let method = path.method;
    match path.owner {
        Owner::TraitImpl { self_type: s, tr } if !has_placeholder(&s) => {
            format!("<{s} as {tr}>::{method}")
        }
        // A blanket or generic impl (`impl<T: Store> Api for T`, `impl<T> Api for W<T>`):
        // one name per implementing type.
        Owner::TraitImpl { tr, .. } => format!("<{} as {tr}>::{method}", tidy(self_type)),
        Owner::Path(owner) if erase_all_args(&owner) == erase_all_args(self_type) => {
            format!("{owner}::{method}")
        }
        // A trait's default method: its path is the trait's.
        Owner::Path(tr) => format!("<{} as {tr}>::{method}", tidy(self_type)),
        Owner::Unknown => format!("{}::{method}", erase_all_args(self_type)),
    }
}

/// The name a method can be known by before its first call, when its path alone decides it:
/// a trait impl for a type without type parameters, or (`inherent`: the method has a
/// visibility, so it is in an inherent impl, not a trait) an inherent impl. `None` when only
/// `Self` can tell (a private method could be a trait's default one).
///
/// ```
/// use breaker_runtime::__private::method_declared_name as name;
/// assert_eq!(name("app::Repo::get::__breaker_site", true).as_deref(), Some("app::Repo::get"));
/// assert_eq!(name("app::Repo::get::__breaker_site", false), None);
/// assert_eq!(name("<_ as app::Api>::get::__breaker_site", false), None);
/// ```
pub fn method_declared_name(site: &str, inherent: bool) -> Option<String> {
    let path = parse(site)?;
    let method = path.method;
    match path.owner {
        Owner::TraitImpl { self_type, tr } if !has_placeholder(&self_type) => {
            Some(format!("<{self_type} as {tr}>::{method}"))
        }
        Owner::Path(owner) if inherent && !has_placeholder(&owner) => {
            Some(format!("{owner}::{method}"))
        }
        _ => None,
    }
}

fn parse(site: &str) -> Option<MethodPath<'_>> {
    let mut segments = split_top_level(site, "::");
    // The nested item, then any `{{closure}}` of an async body.
    segments.pop()?;
    while segments.last().is_some_and(|s| s.starts_with("{{")) {
        segments.pop();
    }
    let method = segments.pop()?;
    if segments.is_empty() || segments.iter().any(|s| s.starts_with("{{")) {
        return None;
    }
    let owner = match segments.as_slice() {
        // An impl written away from its type (in a fn body, in `const _: () = { … }` as derive
        // macros write them) is printed as itself: `f::<impl app::C>::m`,
        // `_::<impl app::Api for app::C>::m`. Where it is written is no part of the name.
        [.., last] if last.starts_with("<impl ") && last.ends_with('>') => {
            let inner = &last["<impl ".len()..last.len() - 1];
            match split_top_level(inner, " for ").as_slice() {
                [tr, s] => Owner::TraitImpl {
                    self_type: tidy(s),
                    tr: erase_generic_args(tr),
                },
                [s] => Owner::Path(erase_generic_args(s)),
                _ => Owner::Unknown,
            }
        }
        [one] if one.starts_with('<') && one.ends_with('>') => {
            let inner = &one[1..one.len() - 1];
            let parts = split_top_level(inner, " as ");
            match parts.as_slice() {
                // The type keeps its `_`s: a generic impl (`impl<T> Api for W<T>`) has
                // implementing types of its own, `W<u8>` and `W<u16>`, one breaker each.
                [s, tr] => Owner::TraitImpl {
                    self_type: tidy(s),
                    tr: erase_generic_args(tr),
                },
                _ => Owner::Unknown,
            }
        }
        _ => Owner::Path(erase_generic_args(&segments.join("::"))),
    };
    Some(MethodPath { owner, method })
}

/// `text` split at every `separator` outside angle brackets, parentheses and square brackets.
fn split_top_level<'a>(text: &'a str, separator: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    let bytes = text.as_bytes();
    while i < text.len() {
        match bytes[i] {
            b'<' | b'(' | b'[' => depth += 1,
            // `->` in a function pointer type is no closing bracket.
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' | b')' | b']' => depth -= 1,
            _ => {}
        }
        if depth == 0 && text[i..].starts_with(separator) {
            parts.push(&text[start..i]);
            i += separator.len();
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

/// Whether `ty` has an impl's parameter in it: a type parameter, printed `_`, or a const
/// parameter, printed by its name (`[u8; N]`, `Buf<N>`). A concrete type is printed with its
/// whole path (`alloc::string::String`), so a bare name that is no primitive type and no
/// keyword is a parameter's.
fn has_placeholder(ty: &str) -> bool {
    const BARE: &[&str] = &[
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
        "i64", "i128", "isize", "f16", "f32", "f64", "f128", "dyn", "fn", "mut", "const", "unsafe",
        "extern", "for", "as", "impl", "closure", "constant",
    ];
    let bytes = ty.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        let word = &ty[start..i];
        let in_a_path = ty[..start].ends_with("::") || ty[i..].starts_with("::");
        let lifetime = start > 0 && bytes[start - 1] == b'\'';
        let number = bytes[start].is_ascii_digit();
        if !in_a_path && !lifetime && !number && !BARE.contains(&word) {
            return true;
        }
    }
    false
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `ty` without the generic arguments that hold an impl's parameters (`Repo<_>` is `Repo`:
/// every instantiation shares the method) and without lifetimes; concrete arguments stay
/// (`Repo<u8>`'s impl is another function than `Repo<u16>`'s).
fn erase_generic_args(ty: &str) -> String {
    rewrite_args(ty, |args| {
        let kept = without_lifetimes(args)?;
        (!kept.iter().any(|a| has_placeholder(a))).then(|| kept.join(", "))
    })
}

/// A type name as a name shows it: lifetimes left out, every type argument kept.
fn tidy(ty: &str) -> String {
    rewrite_args(ty, |args| Some(without_lifetimes(args)?.join(", ")))
}

/// The arguments of one `<…>` group, lifetimes left out; `None` when nothing is left.
fn without_lifetimes(args: &str) -> Option<Vec<&str>> {
    let kept: Vec<&str> = split_top_level(args, ", ")
        .into_iter()
        .filter(|a| !a.starts_with('\''))
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// `ty` without any generic arguments.
fn erase_all_args(ty: &str) -> String {
    rewrite_args(ty, |_| None)
}

/// `ty` with each outermost `<…>` group after a name rewritten by `keep` (`None` drops it);
/// a `<` that opens a qualified path (`<A as B>`) is kept, its insides rewritten in turn.
fn rewrite_args(ty: &str, keep: impl Fn(&str) -> Option<String> + Copy) -> String {
    let bytes = ty.as_bytes();
    let mut out = String::with_capacity(ty.len());
    let mut i = 0;
    while i < ty.len() {
        let c = bytes[i];
        if c == b'<' {
            let end = closing(ty, i);
            let inner = &ty[i + 1..end];
            let after_name = i > 0 && is_ident(bytes[i - 1]);
            if after_name {
                if let Some(args) = keep(inner) {
                    out.push('<');
                    out.push_str(&rewrite_args(&args, keep));
                    out.push('>');
                }
            } else {
                out.push('<');
                out.push_str(&rewrite_args(inner, keep));
                out.push('>');
            }
            i = end + 1;
            continue;
        }
        out.push(c as char);
        i += 1;
    }
    out
}

/// The index of the `>` that closes the `<` at `open` (or the end, for a malformed name).
fn closing(ty: &str, open: usize) -> usize {
    let bytes = ty.as_bytes();
    let mut depth = 0;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    ty.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    // The sites below are what `type_name` printed for an item nested in each kind of method.

    #[test]
    fn inherent_and_trait_impls_are_named_by_their_path() {
        let site = "main::app::Client::fetch::__breaker_site";
        assert_eq!(
            method_default_name(site, "main::app::Client", "fetch"),
            "main::app::Client::fetch"
        );
        assert_eq!(
            method_declared_name(site, true).unwrap(),
            "main::app::Client::fetch"
        );
        let site = "<main::app::Client as main::app::Api>::get::__breaker_site";
        let name = "<main::app::Client as main::app::Api>::get";
        assert_eq!(method_default_name(site, "main::app::Client", "get"), name);
        assert_eq!(method_declared_name(site, false).unwrap(), name);
    }

    #[test]
    fn async_bodies_add_closures_that_are_left_out() {
        let site = "a::Client::fetch::{{closure}}::__breaker_site";
        assert_eq!(
            method_default_name(site, "a::Client", "fetch"),
            "a::Client::fetch"
        );
        let site = "<a::C as a::Api>::get::{{closure}}::{{closure}}::__breaker_site";
        assert_eq!(
            method_declared_name(site, false).unwrap(),
            "<a::C as a::Api>::get"
        );
    }

    #[test]
    fn a_default_method_is_named_for_each_implementing_type() {
        let site = "main::app::Api::dflt::__breaker_site";
        assert_eq!(
            method_default_name(site, "main::app::Client", "dflt"),
            "<main::app::Client as main::app::Api>::dflt"
        );
        assert_eq!(
            method_default_name(site, "main::app::Gen<u8>", "dflt"),
            "<main::app::Gen<u8> as main::app::Api>::dflt"
        );
        assert_eq!(
            method_declared_name(site, false),
            None,
            "could be a default method"
        );
    }

    #[test]
    fn a_blanket_impl_is_named_for_each_type() {
        let site = "<_ as main::app::Api>::get::__breaker_site";
        assert_eq!(
            method_default_name(site, "main::A", "get"),
            "<main::A as main::app::Api>::get"
        );
        assert_eq!(method_declared_name(site, false), None);
        let site = "<&_ as main::app::Api>::get::__breaker_site";
        assert_eq!(
            method_default_name(site, "&main::A", "get"),
            "<&main::A as main::app::Api>::get"
        );
    }

    #[test]
    fn generic_impls_share_one_name_across_instantiations() {
        let site = "main::app::Gen<_>::fetch::__breaker_site";
        assert_eq!(
            method_default_name(site, "main::app::Gen<u8>", "fetch"),
            "main::app::Gen::fetch"
        );
        assert_eq!(
            method_default_name(site, "main::app::Gen<u16>", "fetch"),
            "main::app::Gen::fetch"
        );
        assert_eq!(
            method_declared_name(site, true).unwrap(),
            "main::app::Gen::fetch"
        );
    }

    #[test]
    fn a_generic_trait_impl_is_named_for_each_implementing_type() {
        let site = "<main::app::Gen<_> as main::app::Api>::get::__breaker_site";
        assert_eq!(method_declared_name(site, false), None);
        assert_eq!(
            method_default_name(site, "main::app::Gen<u8>", "get"),
            "<main::app::Gen<u8> as main::app::Api>::get"
        );
        assert_eq!(
            method_default_name(site, "main::app::Gen<u16>", "get"),
            "<main::app::Gen<u16> as main::app::Api>::get"
        );
        let site = "<alloc::vec::Vec<_> as main::Api<_>>::get::__breaker_site";
        assert_eq!(
            method_default_name(site, "alloc::vec::Vec<u8>", "get"),
            "<alloc::vec::Vec<u8> as main::Api>::get"
        );
        let site = "<main::Life<'_> as main::Api>::get::__breaker_site";
        assert_eq!(
            method_declared_name(site, false).unwrap(),
            "<main::Life as main::Api>::get"
        );
    }

    #[test]
    fn concrete_arguments_and_odd_types_stay() {
        let site = "<alloc::vec::Vec<u8> as main::app::Api>::get::__breaker_site";
        assert_eq!(
            method_declared_name(site, false).unwrap(),
            "<alloc::vec::Vec<u8> as main::app::Api>::get"
        );
        let site = "<(u8, alloc::string::String) as main::Api>::get::__breaker_site";
        assert_eq!(
            method_declared_name(site, false).unwrap(),
            "<(u8, alloc::string::String) as main::Api>::get"
        );
        let site = "<&str as main::Api>::get::__breaker_site";
        assert_eq!(
            method_declared_name(site, false).unwrap(),
            "<&str as main::Api>::get"
        );
        let site = "<fn(u8) -> u8 as main::Api>::get::__breaker_site";
        assert_eq!(
            method_declared_name(site, false).unwrap(),
            "<fn(u8) -> u8 as main::Api>::get"
        );
        let site = "<main::Api<u8> as main::Api<u8>>::get::__breaker_site";
        assert!(method_declared_name(site, false).is_some());
    }

    #[test]
    fn lifetimes_are_left_out() {
        let site = "main::app::Life<'_>::fetch::__breaker_site";
        assert_eq!(
            method_default_name(site, "main::app::Life<'_>", "fetch"),
            "main::app::Life::fetch"
        );
        assert_eq!(
            method_declared_name(site, true).unwrap(),
            "main::app::Life::fetch"
        );
        assert!(!has_placeholder("a::B<'_>"));
        assert!(has_placeholder("a::B<'_, _>"));
        assert!(!has_placeholder("a::my_type"));
        assert!(!has_placeholder("a::_Hidden"));
    }

    #[test]
    fn an_impl_written_away_from_its_type_is_named_by_its_type() {
        let site = "app::f::<impl app::C>::m::__breaker_site";
        assert_eq!(method_declared_name(site, true).unwrap(), "app::C::m");
        assert_eq!(method_default_name(site, "app::C", "m"), "app::C::m");
        let site = "app::_::<impl app::Api for app::C>::get::{{closure}}::__breaker_site";
        assert_eq!(
            method_declared_name(site, false).unwrap(),
            "<app::C as app::Api>::get"
        );
        assert_eq!(
            method_default_name(site, "app::C", "get"),
            "<app::C as app::Api>::get"
        );
        let site = "app::f::<impl app::Api for app::W<_>>::get::__breaker_site";
        assert_eq!(method_declared_name(site, false), None);
        assert_eq!(
            method_default_name(site, "app::W<u8>", "get"),
            "<app::W<u8> as app::Api>::get"
        );
    }

    #[test]
    fn const_parameters_are_parameters() {
        assert!(has_placeholder("[u8; N]"));
        assert!(has_placeholder("app::Buf<N>"));
        assert!(!has_placeholder("[u8; 3]"));
        assert!(!has_placeholder("app::Buf<3>"));
        assert!(!has_placeholder("fn(u8) -> alloc::string::String"));
        assert!(!has_placeholder("*const dyn app::Tr"));
        assert!(!has_placeholder("&'static str"));
        assert!(!has_placeholder("app::main::{{closure}}"));
        let site = "<[u8; N] as app::Tp>::tp::__breaker_site";
        assert_eq!(method_declared_name(site, false), None);
        assert_eq!(
            method_default_name(site, "[u8; 2]", "tp"),
            "<[u8; 2] as app::Tp>::tp"
        );
        let site = "app::Cg<N>::cgm::__breaker_site";
        assert_eq!(method_declared_name(site, true).unwrap(), "app::Cg::cgm");
        assert_eq!(
            method_default_name(site, "app::Cg<4>", "cgm"),
            "app::Cg::cgm"
        );
    }

    #[test]
    fn a_local_type_keeps_its_functions_path() {
        let site = "a::m::outer::Local::f::__breaker_site";
        assert_eq!(
            method_default_name(site, "a::m::outer::Local", "f"),
            "a::m::outer::Local::f"
        );
    }

    #[test]
    fn what_it_cannot_read_falls_back_to_the_type() {
        assert_eq!(method_default_name("", "a::B<u8>", "get"), "a::B::get");
        assert_eq!(
            method_default_name("__breaker_site", "a::B", "get"),
            "a::B::get"
        );
        assert_eq!(method_declared_name("__breaker_site", true), None);
    }
}
