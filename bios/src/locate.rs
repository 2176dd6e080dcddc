//! Finding the attribute registry the way real BMCs need, as pure decisions: the Bios
//! resource names a registry (`AttributeRegistry`), the Registries collection lists registry
//! files, and a file's `Location` gives URIs per language. Firmware disagrees with itself: an
//! iDRAC9 names `BiosAttributeRegistry.v1_0_3` while its member is
//! `BiosAttributeRegistry.v1_0_0` (located under the Bios resource), an iLO 5 locates its
//! registry under `/redfish/v1/registrystore/…` in lower case. So members match by prefix and
//! version, with fallbacks, and paths compare as the server does.

use serde_json::Value;

/// A registry name split into its prefix and version: `BiosAttributeRegistryA42.v1_2_60` →
/// (`BiosAttributeRegistryA42`, `[1, 2, 60]`). A name without a version has an empty one.
pub fn split_registry_name(name: &str) -> (&str, Vec<u64>) {
    if let Some((prefix, version)) = name.rsplit_once('.')
        && let Some(digits) = version
            .strip_prefix('v')
            .or_else(|| version.strip_prefix('V'))
    {
        let parts: Option<Vec<u64>> = digits.split('_').map(|p| p.parse().ok()).collect();
        if let Some(parts) = parts {
            return (prefix, parts);
        }
    }
    (name, Vec::new())
}

/// How well a registry file named `candidate` serves a Bios resource that names `wanted`;
/// higher is better, `None` when it does not match at all. Exact (ignoring case) beats the
/// same major.minor, which beats the same major, which beats only the same prefix; among
/// those, the nearest version wins. Pure.
pub fn match_score(wanted: &str, candidate: &str) -> Option<(u8, i64)> {
    if wanted.eq_ignore_ascii_case(candidate) {
        return Some((4, 0));
    }
    let (wp, wv) = split_registry_name(wanted);
    let (cp, cv) = split_registry_name(candidate);
    if !wp.eq_ignore_ascii_case(cp) {
        return None;
    }
    let same = |n: usize| wv.len() >= n && cv.len() >= n && wv[..n] == cv[..n];
    let tier = if same(2) {
        3
    } else if same(1) {
        2
    } else {
        1
    };
    let distance = wv.iter().zip(cv.iter()).fold(0i64, |acc, (a, b)| {
        acc.saturating_mul(1000)
            .saturating_add(i64::try_from(a.abs_diff(*b)).unwrap_or(i64::MAX / 2))
    });
    Some((tier, -distance))
}

/// The best of `members` (links of the Registries collection; their last segment is the
/// registry file's `Id` on every BMC seen) for `wanted`. Pure.
pub fn best_member<'a>(wanted: &str, members: &'a [String]) -> Option<&'a str> {
    members
        .iter()
        .filter_map(|m| {
            let id = last_segment(m);
            match_score(wanted, id).map(|score| (score, m.as_str()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, m)| m)
}

/// Registry files that look like BIOS attribute registries, for when the Bios resource
/// names none (or a name nothing matches). Pure.
pub fn bios_registry_members(members: &[String]) -> Vec<&str> {
    members
        .iter()
        .map(String::as_str)
        .filter(|m| {
            last_segment(m)
                .to_ascii_lowercase()
                .starts_with("biosattributeregistry")
        })
        .collect()
}

/// The last path segment, without a trailing slash.
pub fn last_segment(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// The URI to read a registry file from: the `Location` entry in `language`, else one whose
/// language starts with it (`en-US`), else the first; `Uri` only (a `PublicationUri` is
/// another origin). Pure.
pub fn location_uri(registry_file: &Value, language: &str) -> Option<String> {
    let locations: Vec<(&str, &str)> = registry_file
        .get("Location")?
        .as_array()?
        .iter()
        .filter_map(|l| {
            Some((
                l.get("Language").and_then(Value::as_str).unwrap_or(""),
                l.get("Uri")
                    .and_then(Value::as_str)
                    .filter(|u| !u.is_empty())?,
            ))
        })
        .collect();
    let lower = language.to_ascii_lowercase();
    locations
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(language))
        .or_else(|| {
            locations
                .iter()
                .find(|(l, _)| l.to_ascii_lowercase().starts_with(&lower))
        })
        .or_else(|| locations.first())
        .map(|(_, u)| (*u).to_owned())
}

/// Whether two paths name the same resource on this server: a trailing slash never matters,
/// and case does not on servers that ignore it (iLO serves `/redfish/v1/systems/1/bios/` for
/// `/redfish/v1/Systems/1/Bios`). Pure.
pub fn same_path(a: &str, b: &str, case_insensitive: bool) -> bool {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    if case_insensitive {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn splits_names() {
        assert_eq!(
            split_registry_name("BiosAttributeRegistryA42.v1_2_60"),
            ("BiosAttributeRegistryA42", vec![1, 2, 60])
        );
        assert_eq!(split_registry_name("Plain"), ("Plain", vec![]));
        assert_eq!(split_registry_name("A.vx"), ("A.vx", vec![]));
    }

    #[test]
    fn dell_names_v1_0_3_and_offers_v1_0_0() {
        let members = vec![
            "/redfish/v1/Registries/BaseMessages".to_owned(),
            "/redfish/v1/Registries/BiosAttributeRegistry.v1_0_0".to_owned(),
            "/redfish/v1/Registries/BootSourcesRegistry.v1_0_0".to_owned(),
        ];
        assert_eq!(
            best_member("BiosAttributeRegistry.v1_0_3", &members),
            Some("/redfish/v1/Registries/BiosAttributeRegistry.v1_0_0")
        );
        assert_eq!(best_member("NetworkAttributes.v1_0_0", &members), None);
    }

    #[test]
    fn exact_beats_near_and_near_beats_far() {
        let members: Vec<String> = ["R.v1_0_0", "R.v1_2_0", "R.v2_0_0", "R.v1_2_5"]
            .iter()
            .map(|m| format!("/redfish/v1/Registries/{m}/"))
            .collect();
        assert_eq!(best_member("r.v1_2_5", &members), Some(members[3].as_str()));
        assert_eq!(
            best_member("R.v1_2_3", &members),
            Some(members[3].as_str()),
            "nearest in 1.2"
        );
        assert_eq!(
            best_member("R.v1_1_0", &members),
            Some(members[1].as_str()),
            "same major"
        );
        assert_eq!(best_member("R.v3_0_0", &members), Some(members[2].as_str()));
    }

    #[test]
    fn language_choice() {
        let file = json!({"Location": [
            {"Language": "ja", "Uri": "/ja"}, {"Language": "en-US", "Uri": "/en-us"},
            {"Language": "zh", "PublicationUri": "https://example.com/zh"}]});
        assert_eq!(location_uri(&file, "en").as_deref(), Some("/en-us"));
        assert_eq!(location_uri(&file, "ja").as_deref(), Some("/ja"));
        assert_eq!(location_uri(&file, "de").as_deref(), Some("/ja"));
        assert_eq!(location_uri(&json!({}), "en"), None);
    }

    #[test]
    fn paths_compare_as_the_server_does() {
        assert!(same_path(
            "/redfish/v1/systems/1/bios/settings/",
            "/redfish/v1/Systems/1/Bios/Settings",
            true
        ));
        assert!(!same_path(
            "/redfish/v1/systems/1/bios/settings/",
            "/redfish/v1/Systems/1/Bios/Settings",
            false
        ));
        assert!(same_path("/a/b/", "/a/b", false));
    }
}
