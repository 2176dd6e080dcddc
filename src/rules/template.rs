//! Value templates in actions: Python `str.format` fields as ironic-inspector writes them,
//! `{data[inventory][bmc_address]}`, plus the current Ironic roots `{inventory[...]}`,
//! `{plugin_data[...]}` and `{node.driver_info[...]}`. `{{` and `}}` are literal braces. Pure.
//!
//! A string that is exactly one field keeps the type of what it names (a number stays a
//! number: ferrofish's canonical form); in a longer string each field is written as Python's
//! `str()` would (`True`, `None`), objects and lists as JSON. Conversions (`!r`) and format
//! specs (`:>8`) are refused when the rule is read.

use serde_json::{Map, Value};

use super::path::is_secret_key;

/// What a template field starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Root {
    /// The whole inspection data (`data`, and `plugin_data`: ferrofish keeps one document).
    Data,
    /// `data.inventory`.
    Inventory,
    /// The node document.
    Node,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field { root: Root, keys: Vec<String> },
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
}

/// What templates read from.
pub(crate) struct Context<'a> {
    pub(crate) data: &'a Value,
    pub(crate) node: &'a Map<String, Value>,
    /// Values under a secret-looking key read as `***` (Ironic's `mask_secrets`).
    pub(crate) mask_secrets: bool,
}

/// The text a masked secret reads as.
pub(crate) const MASK: &str = "***";

impl Template {
    pub(crate) fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err("a single '}' (write '}}' for a literal brace)".to_owned()),
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    let mut depth = 0_u32;
                    for c in chars.by_ref() {
                        match c {
                            '[' => depth += 1,
                            ']' => depth = depth.saturating_sub(1),
                            '}' if depth == 0 => {
                                closed = true;
                                break;
                            }
                            _ => {}
                        }
                        inner.push(c);
                    }
                    if !closed {
                        return Err(
                            "a '{' is never closed (write '{{' for a literal brace)".to_owned()
                        );
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(parse_field(&inner)?);
                }
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { pieces })
    }

    /// Fills the template in. `Err` names the field that is missing (never a value).
    pub(crate) fn render(&self, ctx: &Context<'_>) -> Result<Value, String> {
        if let [Piece::Field { root, keys }] = self.pieces.as_slice() {
            return resolve(ctx, *root, keys);
        }
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Field { root, keys } => {
                    out.push_str(&python_str(&resolve(ctx, *root, keys)?));
                }
            }
        }
        Ok(Value::String(out))
    }
}

fn parse_field(inner: &str) -> Result<Piece, String> {
    let mut depth = 0_u32;
    let outside_brackets = inner.chars().any(|c| {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0 && (c == '!' || c == ':')
    });
    if outside_brackets {
        return Err(format!(
            "{{{inner}}}: conversions and format specs are not supported"
        ));
    }
    let name_end = inner.find(['[', '.']).unwrap_or(inner.len());
    let root = match inner[..name_end].trim() {
        "data" | "plugin_data" => Root::Data,
        "inventory" => Root::Inventory,
        "node" => Root::Node,
        other => {
            return Err(format!(
                "{{{inner}}}: unknown name {other:?}; templates read data, inventory, plugin_data or node"
            ));
        }
    };
    let mut keys = Vec::new();
    let mut rest = &inner[name_end..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let close = after
                .find(']')
                .ok_or_else(|| format!("{{{inner}}}: '[' without ']'"))?;
            keys.push(after[..close].to_owned());
            rest = &after[close + 1..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['[', '.']).unwrap_or(after.len());
            keys.push(after[..end].to_owned());
            rest = &after[end..];
        } else {
            return Err(format!("{{{inner}}}: expected [key] or .key"));
        }
        if keys.last().is_some_and(String::is_empty) {
            return Err(format!("{{{inner}}}: empty key"));
        }
    }
    Ok(Piece::Field { root, keys })
}

fn resolve(ctx: &Context<'_>, root: Root, keys: &[String]) -> Result<Value, String> {
    let node_value;
    let (mut current, shown) = match root {
        Root::Data => (ctx.data, "data"),
        Root::Inventory => (
            ctx.data
                .get("inventory")
                .ok_or_else(|| "{inventory}: the data has no inventory".to_owned())?,
            "inventory",
        ),
        Root::Node => {
            node_value = Value::Object(ctx.node.clone());
            (&node_value, "node")
        }
    };
    let mut secret = false;
    for (depth, key) in keys.iter().enumerate() {
        let next = match current {
            Value::Object(map) => map.get(key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        current = next.ok_or_else(|| {
            let path: String = keys[..=depth].iter().fold(String::new(), |mut path, k| {
                path.push('[');
                path.push_str(k);
                path.push(']');
                path
            });
            format!("template field {{{shown}{path}}} is not in the data")
        })?;
        secret |= is_secret_key(key);
    }
    if secret && ctx.mask_secrets && !is_empty_value(current) {
        return Ok(Value::String(MASK.to_owned()));
    }
    Ok(current.clone())
}

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// What Python's `str()` gives for a JSON value (objects and lists as JSON text).
pub(crate) fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

/// Checks every string inside `value` parses as a template.
pub(crate) fn check_value(value: &Value) -> Result<(), String> {
    match value {
        Value::String(s) => Template::parse(s).map(|_| ()),
        Value::Array(items) => items.iter().try_for_each(check_value),
        Value::Object(map) => map.values().try_for_each(check_value),
        _ => Ok(()),
    }
}

/// Fills in every template inside `value` (lists and objects recursively; keys untouched).
pub(crate) fn render_value(value: &Value, ctx: &Context<'_>) -> Result<Value, String> {
    match value {
        Value::String(s) => Template::parse(s)?.render(ctx),
        Value::Array(items) => items
            .iter()
            .map(|item| render_value(item, ctx))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), render_value(v, ctx)?)))
            .collect::<Result<Map<_, _>, String>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(text: &str, data: &Value, node: &Map<String, Value>) -> Result<Value, String> {
        let ctx = Context {
            data,
            node,
            mask_secrets: true,
        };
        Template::parse(text)?.render(&ctx)
    }

    #[test]
    fn legacy_data_fields_fill_in_and_keep_type_when_alone() {
        let data = json!({"inventory": {"bmc_address": "10.0.0.5", "memory": {"physical_mb": 4096},
            "interfaces": [{"name": "eth0"}]}, "auto_discovered": true});
        let node = Map::new();
        assert_eq!(
            render("https://{data[inventory][bmc_address]}", &data, &node).unwrap(),
            json!("https://10.0.0.5")
        );
        assert_eq!(
            render("{data[inventory][memory][physical_mb]}", &data, &node).unwrap(),
            json!(4096)
        );
        assert_eq!(
            render(
                "mem={inventory[memory][physical_mb]} d={data[auto_discovered]}",
                &data,
                &node
            )
            .unwrap(),
            json!("mem=4096 d=True")
        );
        assert_eq!(
            render("{data[inventory][interfaces][0][name]}", &data, &node).unwrap(),
            json!("eth0")
        );
        assert_eq!(
            render("{{literal}}", &data, &node).unwrap(),
            json!("{literal}")
        );
        assert_eq!(render("", &data, &node).unwrap(), json!(""));
    }

    #[test]
    fn node_fields_and_masked_secrets() {
        let data = json!({"inventory": {"bmc_password": "hunter2"}});
        let mut node = Map::new();
        node.insert(
            "driver_info".into(),
            json!({"redfish_username": "root", "redfish_password": "x"}),
        );
        assert_eq!(
            render("{node.driver_info[redfish_username]}", &data, &node).unwrap(),
            json!("root")
        );
        assert_eq!(
            render("{node.driver_info[redfish_password]}", &data, &node).unwrap(),
            json!(MASK)
        );
        assert_eq!(
            render("pw {inventory[bmc_password]}", &data, &node).unwrap(),
            json!("pw ***")
        );
        let ctx = Context {
            data: &data,
            node: &node,
            mask_secrets: false,
        };
        assert_eq!(
            Template::parse("{inventory[bmc_password]}")
                .unwrap()
                .render(&ctx)
                .unwrap(),
            json!("hunter2")
        );
    }

    #[test]
    fn bad_templates_are_refused_and_missing_fields_named() {
        for bad in [
            "{",
            "}",
            "{foo}",
            "{data[x]!r}",
            "{data:>8}",
            "{data[x}",
            "{data[]}",
            "{data x}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        let err = render(
            "{data[inventory][nope]}",
            &json!({"inventory": {}}),
            &Map::new(),
        )
        .unwrap_err();
        assert!(err.contains("{data[inventory][nope]}"), "{err}");
        assert!(render("{inventory[x]}", &json!({}), &Map::new()).is_err());
    }

    #[test]
    fn values_render_recursively() {
        let data = json!({"inventory": {"bmc_address": "1.2.3.4"}});
        let ctx = Context {
            data: &data,
            node: &Map::new(),
            mask_secrets: true,
        };
        let value = json!({"a": ["{data[inventory][bmc_address]}", 3], "size": ">= 200"});
        assert_eq!(
            render_value(&value, &ctx).unwrap(),
            json!({"a": ["1.2.3.4", 3], "size": ">= 200"})
        );
        assert!(check_value(&json!(["ok", {"x": "{bad"}])).is_err());
    }
}
