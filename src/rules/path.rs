//! The two kinds of path a rule names. Pure.
//!
//! - A condition's `field`: `data://` (the inspection data; also when no scheme is written,
//!   as ironic-inspector does) or `node://` (the node document), then a `JSONPath` subset:
//!   `a.b`, `a[0]`, `a[-1]`, `a[*]`, `a.*`, `a['key']`, with an optional leading `$.`. It may
//!   select several values (`disks[*].size`); `multiple` says how they combine.
//! - An action's `path` into the node: `/driver_info/x` (JSON pointer, `~0`/`~1` escapes),
//!   `driver_info/x` (ironic-inspector accepts the missing `/`), or `driver_info.x`.

use serde_json::{Map, Value};

/// Where a condition's field is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// The inspection data.
    Data,
    /// The node document.
    Node,
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// An object member.
    Key(String),
    /// An array element; negative counts from the end.
    Index(i64),
    /// Every member or element.
    Wildcard,
}

/// A parsed condition field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldPath {
    pub(crate) scheme: Scheme,
    pub(crate) steps: Vec<Step>,
}

impl FieldPath {
    /// Parses `data://inventory.disks[*].size` and the like.
    pub(crate) fn parse(text: &str) -> Result<FieldPath, String> {
        let (scheme, rest) = match text.split_once("://") {
            Some(("data", rest)) => (Scheme::Data, rest),
            Some(("node", rest)) => (Scheme::Node, rest),
            Some((other, _)) => {
                return Err(format!(
                    "unsupported scheme {other:?}: use data:// (inspection data) or node:// (the node)"
                ));
            }
            None => (Scheme::Data, text),
        };
        let rest = rest.strip_prefix('$').unwrap_or(rest);
        let rest = rest.strip_prefix('.').unwrap_or(rest);
        let steps = parse_steps(rest)?;
        if steps.is_empty() {
            return Err("the path is empty".to_owned());
        }
        Ok(FieldPath { scheme, steps })
    }

    /// Whether any key on the path looks like a secret's (`password`, `auth_token`).
    pub(crate) fn names_secret(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s, Step::Key(k) if is_secret_key(k)))
    }
}

fn parse_steps(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut key = String::new();
    let mut expect_key = true;
    while let Some((at, c)) = chars.next() {
        match c {
            '.' => {
                if key.is_empty() && expect_key {
                    return Err(format!("empty key at character {at}"));
                }
                push_key(&mut steps, &mut key);
                expect_key = true;
            }
            '[' => {
                push_key(&mut steps, &mut key);
                let mut inner = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == ']' {
                        closed = true;
                        break;
                    }
                    inner.push(c);
                }
                if !closed {
                    return Err(format!("'[' at character {at} is never closed"));
                }
                steps.push(bracket_step(inner.trim()).ok_or_else(|| {
                    format!("[{inner}] at character {at}: use [n], [-n], [*] or ['key']")
                })?);
                expect_key = false;
            }
            ']' => return Err(format!("unmatched ']' at character {at}")),
            _ => {
                key.push(c);
                expect_key = false;
            }
        }
    }
    if expect_key && !steps.is_empty() {
        return Err("the path ends with '.'".to_owned());
    }
    push_key(&mut steps, &mut key);
    Ok(steps)
}

fn push_key(steps: &mut Vec<Step>, key: &mut String) {
    if key.is_empty() {
        return;
    }
    let taken = std::mem::take(key);
    steps.push(if taken == "*" {
        Step::Wildcard
    } else {
        Step::Key(taken)
    });
}

fn bracket_step(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::Wildcard);
    }
    for quote in ['\'', '"'] {
        if let Some(key) = inner
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return Some(Step::Key(key.to_owned()));
        }
    }
    inner.parse::<i64>().ok().map(Step::Index)
}

/// Every value the steps select under `root`, in document order. Missing members select
/// nothing.
pub(crate) fn select<'a>(root: &'a Value, steps: &[Step]) -> Vec<&'a Value> {
    let mut current = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            match (step, value) {
                (Step::Key(key), Value::Object(map)) => next.extend(map.get(key)),
                (Step::Index(index), Value::Array(items)) => {
                    next.extend(array_index(items.len(), *index).map(|i| &items[i]));
                }
                (Step::Wildcard, Value::Array(items)) => next.extend(items.iter()),
                (Step::Wildcard, Value::Object(map)) => next.extend(map.values()),
                _ => {}
            }
        }
        current = next;
    }
    current
}

fn array_index(len: usize, index: i64) -> Option<usize> {
    let resolved = if index < 0 {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
    } else {
        usize::try_from(index).ok()?
    };
    (resolved < len).then_some(resolved)
}

/// Whether a key names a secret: it contains `password` (any case), or is `auth_token`.
pub(crate) fn is_secret_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password") || key.eq_ignore_ascii_case("auth_token")
}

/// A path into the node document, as actions name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodePath {
    pub(crate) segments: Vec<String>,
}

impl NodePath {
    /// Parses `/driver_info/x`, `driver_info/x` or `driver_info.x`.
    pub(crate) fn parse(text: &str) -> Result<NodePath, String> {
        let trimmed = text.trim();
        let segments: Vec<String> = if trimmed.contains('/') {
            trimmed
                .strip_prefix('/')
                .unwrap_or(trimmed)
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect()
        } else {
            trimmed.split('.').map(str::to_owned).collect()
        };
        if segments.iter().any(String::is_empty) {
            return Err(format!(
                "{text:?} has an empty segment: write /field or /field/key (or field.key)"
            ));
        }
        Ok(NodePath { segments })
    }

    /// Whether the path names a secret (some segment contains `password`).
    pub(crate) fn is_secret(&self) -> bool {
        self.segments.iter().any(|s| is_secret_key(s))
    }

    /// The path as shown to people and used in secret references: `driver_info/x`.
    pub(crate) fn display(&self) -> String {
        self.segments.join("/")
    }
}

/// Writes `value` at a node path; returns what was there. An `Err` says why it could not.
pub(crate) fn write(
    node: &mut Map<String, Value>,
    segments: &[String],
    value: Value,
) -> Result<Option<Value>, String> {
    let (last, parents) = segments
        .split_last()
        .ok_or_else(|| "the path is empty".to_owned())?;
    if parents.is_empty() {
        return Ok(node.insert(last.clone(), value));
    }
    let parent = descend_creating(node, parents)?;
    match parent {
        Value::Object(map) => Ok(map.insert(last.clone(), value)),
        Value::Array(items) => {
            if last == "-" {
                items.push(value);
                return Ok(None);
            }
            let index = last
                .parse::<i64>()
                .ok()
                .and_then(|i| array_index(items.len(), i))
                .ok_or_else(|| format!("{last:?} is not an index of the list there"))?;
            Ok(Some(std::mem::replace(&mut items[index], value)))
        }
        _ => Err("a value on the path is neither an object nor a list".to_owned()),
    }
}

/// Removes the value at a node path; missing is not an error (nothing to remove).
pub(crate) fn remove(
    node: &mut Map<String, Value>,
    segments: &[String],
) -> Result<Option<Value>, String> {
    let Some((last, parents)) = segments.split_last() else {
        return Err("the path is empty".to_owned());
    };
    let mut current: &mut Map<String, Value> = node;
    for segment in parents {
        match current.get_mut(segment) {
            Some(Value::Object(map)) => current = map,
            None => return Ok(None),
            Some(_) => return Err("a value on the path is not an object".to_owned()),
        }
    }
    Ok(current.remove(last))
}

/// The value at a node path, if any.
pub(crate) fn read<'a>(node: &'a Map<String, Value>, segments: &[String]) -> Option<&'a Value> {
    let (first, rest) = segments.split_first()?;
    let mut current = node.get(first)?;
    for segment in rest {
        current = match current {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => {
                let index = array_index(items.len(), segment.parse().ok()?)?;
                &items[index]
            }
            _ => return None,
        };
    }
    Some(current)
}

/// The container that holds the last segment, creating missing objects on the way (the node
/// of an auto-discovered machine starts nearly empty).
fn descend_creating<'a>(
    node: &'a mut Map<String, Value>,
    parents: &[String],
) -> Result<&'a mut Value, String> {
    let Some((first, rest)) = parents.split_first() else {
        return Err("the path is empty".to_owned());
    };
    let mut current = node
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    for segment in rest {
        current = match current {
            Value::Object(map) => map
                .entry(segment.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => {
                let index = segment
                    .parse::<i64>()
                    .ok()
                    .and_then(|i| array_index(items.len(), i))
                    .ok_or_else(|| format!("{segment:?} is not an index of the list there"))?;
                &mut items[index]
            }
            _ => return Err("a value on the path is neither an object nor a list".to_owned()),
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_paths_parse_the_jsonpath_subset() {
        let p = FieldPath::parse("data://inventory.disks[*].size").unwrap();
        assert_eq!(p.scheme, Scheme::Data);
        assert_eq!(
            p.steps,
            vec![
                Step::Key("inventory".into()),
                Step::Key("disks".into()),
                Step::Wildcard,
                Step::Key("size".into())
            ]
        );
        let p = FieldPath::parse("node://driver_info['redfish.address']").unwrap();
        assert_eq!(p.scheme, Scheme::Node);
        assert_eq!(p.steps[1], Step::Key("redfish.address".into()));
        let p = FieldPath::parse("$.interfaces[-1].mac").unwrap();
        assert_eq!(p.scheme, Scheme::Data);
        assert_eq!(p.steps[1], Step::Index(-1));
        assert!(FieldPath::parse("http://x").is_err());
        assert!(FieldPath::parse("data://").is_err());
        assert!(FieldPath::parse("data://a..b").is_err());
        assert!(FieldPath::parse("data://a[").is_err());
        assert!(FieldPath::parse("data://a]").is_err());
        assert!(FieldPath::parse("data://a[x]").is_err());
        assert!(FieldPath::parse("data://a.").is_err());
    }

    #[test]
    fn select_follows_keys_indexes_and_wildcards() {
        let data =
            json!({"disks": [{"size": 1}, {"size": 2}, {"name": "x"}], "m": {"a": 1, "b": 2}});
        let p = FieldPath::parse("disks[*].size").unwrap();
        assert_eq!(select(&data, &p.steps), vec![&json!(1), &json!(2)]);
        let p = FieldPath::parse("disks[-3].size").unwrap();
        assert_eq!(select(&data, &p.steps), vec![&json!(1)]);
        let p = FieldPath::parse("disks[7].size").unwrap();
        assert!(select(&data, &p.steps).is_empty());
        let p = FieldPath::parse("m.*").unwrap();
        assert_eq!(select(&data, &p.steps).len(), 2);
        let p = FieldPath::parse("m.a.deeper").unwrap();
        assert!(select(&data, &p.steps).is_empty());
    }

    #[test]
    fn node_paths_accept_the_three_spellings() {
        for text in ["/driver_info/x", "driver_info/x", "driver_info.x"] {
            assert_eq!(
                NodePath::parse(text).unwrap().segments,
                vec!["driver_info".to_owned(), "x".to_owned()],
                "{text}"
            );
        }
        assert_eq!(
            NodePath::parse("/a~1b/c~0d").unwrap().segments,
            vec!["a/b".to_owned(), "c~d".to_owned()]
        );
        assert!(NodePath::parse("").is_err());
        assert!(NodePath::parse("/a//b").is_err());
        assert!(
            NodePath::parse("driver_info/drac_PASSWORD")
                .unwrap()
                .is_secret()
        );
        assert!(!NodePath::parse("driver").unwrap().is_secret());
    }

    #[test]
    fn write_creates_objects_and_refuses_to_cross_scalars() {
        let mut node = Map::new();
        node.insert("driver".into(), json!("redfish"));
        let path = NodePath::parse("/driver_info/a/b").unwrap();
        assert_eq!(write(&mut node, &path.segments, json!(1)), Ok(None));
        assert_eq!(node["driver_info"], json!({"a": {"b": 1}}));
        let path = NodePath::parse("/driver/x").unwrap();
        assert!(write(&mut node, &path.segments, json!(1)).is_err());
        assert_eq!(node["driver"], json!("redfish"));
        node.insert("list".into(), json!([1, 2]));
        let path = NodePath::parse("/list/-").unwrap();
        write(&mut node, &path.segments, json!(3)).unwrap();
        let path = NodePath::parse("/list/0").unwrap();
        assert_eq!(
            write(&mut node, &path.segments, json!(0)),
            Ok(Some(json!(1)))
        );
        assert_eq!(node["list"], json!([0, 2, 3]));
        let path = NodePath::parse("/list/9").unwrap();
        assert!(write(&mut node, &path.segments, json!(0)).is_err());
        assert_eq!(read(&node, &["list".into(), "1".into()]), Some(&json!(2)));
        assert_eq!(
            remove(&mut node, &["driver_info".into(), "a".into()]).unwrap(),
            Some(json!({"b": 1}))
        );
        assert_eq!(
            remove(&mut node, &["nope".into(), "a".into()]).unwrap(),
            None
        );
    }
}
