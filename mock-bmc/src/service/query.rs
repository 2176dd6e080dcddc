//! Query parameters: `$expand` (parsed here, applied by [`expand`] through the route table);
//! every other `$`-parameter, `only` and `excerpt` are refused with 501 (DSP0266).

use serde_json::Value;

use crate::areas::root::MAX_EXPAND_LEVELS;
use crate::areas::{self, Answer, Cx};
use crate::messages;
use crate::reply::Reply;
use crate::routes;
use crate::state::NodeState;

/// Which links `$expand` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExpandKind {
    /// `*`: every link.
    All,
    /// `.`: links outside `Links`.
    NoLinks,
    /// `~`: links under `Links` only.
    LinksOnly,
}

/// A `$expand` request: which links, how many levels.
pub(crate) type Expand = (ExpandKind, u8);

/// The query's `$expand`, `None` without one; `Err` is the answer to a query the service
/// refuses.
pub(crate) fn parse_query(query: Option<&str>) -> Result<Option<Expand>, Reply> {
    let mut expand = None;
    let Some(q) = query else {
        return Ok(None);
    };
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k);
        if k == "$expand" {
            match parse_expand(&percent_decode(v)) {
                Some(e) => expand = Some(e),
                None => return Err(messages::expand_format_error(&percent_decode(v))),
            }
        } else if k.starts_with('$') || k == "only" || k == "excerpt" {
            return Err(messages::query_not_supported());
        }
    }
    Ok(expand)
}

/// Parses a `$expand` value (`*`, `.`, `~`, optionally `($levels=N)` with N up to
/// [`MAX_EXPAND_LEVELS`]); `None` when it is not one.
pub(crate) fn parse_expand(v: &str) -> Option<Expand> {
    let (kind, rest) = match v.chars().next() {
        Some('*') => (ExpandKind::All, &v[1..]),
        Some('.') => (ExpandKind::NoLinks, &v[1..]),
        Some('~') => (ExpandKind::LinksOnly, &v[1..]),
        _ => return None,
    };
    if rest.is_empty() {
        return Some((kind, 1));
    }
    let levels = rest
        .strip_prefix("($levels=")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=MAX_EXPAND_LEVELS).contains(n))?;
    Some((kind, levels))
}

/// Decodes `%XX` escapes and `+` (a space in a query); invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces the links of `body` that `kind` selects by the resources they name, `levels` deep.
pub(crate) fn expand(
    cx: &Cx<'_>,
    st: &mut NodeState,
    body: &mut Value,
    (kind, levels): Expand,
    in_links: bool,
) {
    if levels == 0 {
        return;
    }
    let Value::Object(map) = body else { return };
    for (key, value) in map.iter_mut() {
        if key.starts_with('@') || key == "Actions" || key == "Oem" {
            continue;
        }
        let under_links = in_links || key == "Links";
        let wanted = match kind {
            ExpandKind::All => true,
            ExpandKind::NoLinks => !under_links,
            ExpandKind::LinksOnly => under_links,
        };
        match value {
            Value::Object(o) if o.len() == 1 && o.contains_key("@odata.id") => {
                if wanted
                    && let Some(path) = o
                        .get("@odata.id")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                {
                    expand_one(cx, st, value, &path, (kind, levels));
                }
            }
            Value::Object(_) if key == "Links" || key == "Boot" || key == "Status" => {
                expand(cx, st, value, (kind, levels), under_links);
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    let path = item
                        .as_object()
                        .filter(|o| o.len() == 1)
                        .and_then(|o| o.get("@odata.id"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    if let (true, Some(path)) = (wanted, path) {
                        expand_one(cx, st, item, &path, (kind, levels));
                    }
                }
            }
            _ => {}
        }
    }
}

fn expand_one(
    cx: &Cx<'_>,
    st: &mut NodeState,
    slot: &mut Value,
    path: &str,
    (kind, levels): Expand,
) {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let Some(m) = routes::resolve(cx.node, path) else {
        return;
    };
    if let Some(Answer::Resource(mut body)) = areas::get(cx, st, m.resource, &m.params) {
        expand(cx, st, &mut body, (kind, levels - 1), false);
        // Quirk `expand_drops_required_properties` (AMI host BMCs): inlined members lose
        // required properties that a GET of the member carries.
        if cx.node.profile().expand_drops_required_properties
            && let Some(member) = body.as_object_mut()
        {
            for required in ["Id", "Name", "ChassisType"] {
                member.remove(required);
            }
        }
        *slot = body;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_parsing() {
        assert_eq!(parse_expand("*"), Some((ExpandKind::All, 1)));
        assert_eq!(parse_expand(".($levels=2)"), Some((ExpandKind::NoLinks, 2)));
        assert_eq!(parse_expand("~"), Some((ExpandKind::LinksOnly, 1)));
        assert_eq!(parse_expand("x"), None);
        assert_eq!(parse_expand("*($levels=9)"), None);
        assert_eq!(parse_expand(""), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("%24expand"), "$expand");
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(percent_decode("%e2%82%ac%ff"), "€\u{fffd}");
    }

    #[test]
    fn other_query_parameters_are_refused() {
        assert_eq!(
            parse_query(Some("$expand=.&x=1")).ok(),
            Some(Some((ExpandKind::NoLinks, 1)))
        );
        assert!(parse_query(Some("$top=2")).is_err());
        assert!(parse_query(Some("%24expand=q")).is_err());
        assert_eq!(parse_query(None).ok(), Some(None));
    }
}
