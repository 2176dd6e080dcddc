//! ETag normalisation and the `If-Match` fallback sequence (quirks `if_match_form_refused`, `gzip_weakens_etag`, `patch_requires_if_match` and `empty_etag`).

/// An entity tag as the BMC sent it, normalised: the iDRAC `-gzip` suffix is removed and
/// empty tags are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ETag {
    weak: bool,
    opaque: String,
}

impl ETag {
    /// Parses a header or `@odata.etag` value. `None` for an empty tag (quirk `empty_etag`).
    /// With `strip_gzip`, a `-gzip` suffix that compression added is removed (quirk `gzip_weakens_etag`).
    pub fn parse(raw: &str, strip_gzip: bool) -> Option<ETag> {
        let raw = raw.trim();
        let (weak, rest) = match raw.strip_prefix("W/").or_else(|| raw.strip_prefix("w/")) {
            Some(rest) => (true, rest.trim()),
            None => (false, raw),
        };
        let mut opaque = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(rest)
            .to_owned();
        if strip_gzip && let Some(stripped) = opaque.strip_suffix("-gzip") {
            opaque = stripped.to_owned();
        }
        if opaque.is_empty() || opaque.contains('"') {
            return None;
        }
        Some(ETag { weak, opaque })
    }

    /// The tag as sent (`W/"x"` or `"x"`).
    pub fn header_value(&self) -> String {
        if self.weak {
            format!("W/\"{}\"", self.opaque)
        } else {
            self.strong_value()
        }
    }

    /// The strong form, `"x"`.
    pub fn strong_value(&self) -> String {
        format!("\"{}\"", self.opaque)
    }
}

/// The `If-Match` values to try for one PATCH, in order: the tag as sent, then its strong form
/// when it was weak, then no `If-Match` at all. Each 412 moves to the next (quirk `if_match_form_refused`). Where the
/// BMC requires the header (quirk `patch_requires_if_match`) the last form is `*` instead of
/// none, which it would refuse (AMI firmware that also refuses its own tags, quirk
/// `bios_settings_if_match_star`); without a known tag that is the single attempt.
pub(crate) fn if_match_sequence(
    etag: Option<&ETag>,
    if_match_required: bool,
) -> Vec<Option<String>> {
    let last = if_match_required.then(|| "*".to_owned());
    match etag {
        Some(tag) if tag.weak => vec![Some(tag.header_value()), Some(tag.strong_value()), last],
        Some(tag) => vec![Some(tag.header_value()), last],
        None => vec![last],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weak_and_strong() {
        let weak = ETag::parse("W/\"abc\"", true).unwrap();
        assert_eq!(weak.header_value(), "W/\"abc\"");
        assert_eq!(weak.strong_value(), "\"abc\"");
        assert_eq!(
            ETag::parse("\"abc\"", true).unwrap().header_value(),
            "\"abc\""
        );
        // Some firmware forgets the quotes.
        assert_eq!(ETag::parse("abc", true).unwrap().header_value(), "\"abc\"");
    }

    #[test]
    fn strips_gzip_suffix_only_when_asked() {
        assert_eq!(
            ETag::parse("W/\"1234-gzip\"", true).unwrap().header_value(),
            "W/\"1234\""
        );
        assert_eq!(
            ETag::parse("\"1234-gzip\"", false).unwrap().header_value(),
            "\"1234-gzip\""
        );
    }

    #[test]
    fn drops_empty_tags() {
        for raw in ["", "\"\"", "W/\"\"", "  ", "\"-gzip\""] {
            assert_eq!(ETag::parse(raw, true), None, "{raw:?}");
        }
    }

    #[test]
    fn fallback_sequence() {
        let weak = ETag::parse("W/\"a\"", true);
        assert_eq!(
            if_match_sequence(weak.as_ref(), false),
            vec![Some("W/\"a\"".into()), Some("\"a\"".into()), None]
        );
        let strong = ETag::parse("\"a\"", true);
        assert_eq!(
            if_match_sequence(strong.as_ref(), false),
            vec![Some("\"a\"".into()), None]
        );
        assert_eq!(if_match_sequence(None, false), vec![None]);
        assert_eq!(if_match_sequence(None, true), vec![Some("*".into())]);
        // A BMC that requires the header gets `*` where others get none.
        assert_eq!(
            if_match_sequence(weak.as_ref(), true),
            vec![
                Some("W/\"a\"".into()),
                Some("\"a\"".into()),
                Some("*".into())
            ]
        );
        assert_eq!(
            if_match_sequence(strong.as_ref(), true),
            vec![Some("\"a\"".into()), Some("*".into())]
        );
    }
}
