//! The key of a request: the host it is for, as `host:port`.

use http::uri::Authority;
use http::Request;
use std::borrow::Cow;

/// The host `req` is for: its URI's authority, else its `Host` header, written `host:port`
/// with the host lower-cased, any user info left out (a password must not end up in a
/// breaker's name), and the scheme's default port when none is written (80 for `http` and
/// `ws`, 443 for `https` and `wss`). A `Host` header says no scheme, so one without a port
/// gives the host alone. `None` when neither names a host, or the header is not a host.
pub(super) fn host_key<B>(req: &Request<B>) -> Option<Cow<'_, str>> {
    if let Some(authority) = req.uri().authority() {
        return key_of(authority, req.uri().scheme_str());
    }
    let header = req.headers().get(http::header::HOST)?;
    let authority = Authority::try_from(header.as_bytes()).ok()?;
    key_of(&authority, None).map(|key| Cow::Owned(key.into_owned()))
}

fn key_of<'a>(authority: &'a Authority, scheme: Option<&str>) -> Option<Cow<'a, str>> {
    let host = authority.host();
    if host.is_empty() {
        return None;
    }
    let written = authority.port();
    let port = written
        .as_ref()
        .map(|p| p.as_u16())
        .or_else(|| default_port(scheme?));
    // Most requests name `host:port` as it should be written (a port, no user info, no
    // leading zero, a lower-case host): borrowed, no allocation.
    let canonical = written.as_ref().is_some_and(|p| {
        let digits = p.as_str();
        authority.as_str().len() == host.len() + 1 + digits.len()
            && (digits == "0" || !digits.starts_with('0'))
    }) && !host.bytes().any(|b| b.is_ascii_uppercase());
    if canonical {
        return Some(Cow::Borrowed(authority.as_str()));
    }
    let host = host.to_ascii_lowercase();
    Some(Cow::Owned(match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }))
}

fn default_port(scheme: &str) -> Option<u16> {
    let is = |name: &str| scheme.eq_ignore_ascii_case(name);
    if is("http") || is("ws") {
        Some(80)
    } else if is("https") || is("wss") {
        Some(443)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str, host: Option<&str>) -> Option<String> {
        let mut req = Request::get(uri);
        if let Some(host) = host {
            req = req.header("host", host);
        }
        host_key(&req.body(()).unwrap()).map(Cow::into_owned)
    }

    #[test]
    fn the_uri_authority_as_host_port() {
        assert_eq!(
            key("http://a.example:8080/x", None).unwrap(),
            "a.example:8080"
        );
        assert_eq!(key("http://a.example/x", None).unwrap(), "a.example:80");
        assert_eq!(key("https://a.example/x", None).unwrap(), "a.example:443");
        assert_eq!(key("HTTP://A.Example:081/", None).unwrap(), "a.example:81");
        assert_eq!(
            key("https://user:secret@a.example/", None).unwrap(),
            "a.example:443"
        );
        assert_eq!(key("http://[::1]:9/", None).unwrap(), "[::1]:9");
        // The URI wins over the header.
        assert_eq!(
            key("http://a.example:1/", Some("b.example:2")).unwrap(),
            "a.example:1"
        );
    }

    #[test]
    fn else_the_host_header_else_none() {
        assert_eq!(key("/x", Some("B.example:81")).unwrap(), "b.example:81");
        assert_eq!(key("/x", Some("b.example")).unwrap(), "b.example");
        assert_eq!(key("/x", None), None);
        assert_eq!(key("/x", Some("not a host")), None);
        assert_eq!(key("/x", Some("")), None);
    }

    #[test]
    fn a_canonical_authority_is_borrowed() {
        let req = Request::get("http://a.example:80/").body(()).unwrap();
        assert!(matches!(
            host_key(&req),
            Some(Cow::Borrowed("a.example:80"))
        ));
    }
}
