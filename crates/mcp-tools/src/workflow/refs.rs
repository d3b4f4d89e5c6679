//! References to earlier results inside a step's arguments: `{"$ref": "<step id>", "path": "<JSONPath>"}`
//! (RFC 9535, through serde_json_path). A singular path (names and indexes only) gives one value; any other
//! path gives the list of the values it selects, in document order.

use serde_json::Value;
use serde_json_path::JsonPath;

/// The step id a `for_each` step's arguments use for the current item.
pub(crate) const ITEM: &str = "$item";

/// One parsed reference.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub(crate) step: String,
    pub(crate) path_text: String,
    path: JsonPath,
    singular: bool,
}

/// A reference found in a value, with where it sits (`args.pmids`, `args.documents[0].title`).
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) at: String,
    pub(crate) parsed: Result<Ref, String>,
}

/// Whether `v` is written as a reference (an object with a `$ref` key).
pub(crate) fn is_ref(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.contains_key("$ref"))
}

/// Parses a reference object.
pub(crate) fn parse(v: &Value) -> Result<Ref, String> {
    let o = v.as_object().ok_or("a reference is an object")?;
    if let Some(k) = o.keys().find(|k| *k != "$ref" && *k != "path") {
        return Err(format!("a reference takes only `$ref` and `path`, not `{k}`"));
    }
    let step = o.get("$ref").and_then(Value::as_str).ok_or("`$ref` must be a step id (a string)")?;
    let path_text = match o.get("path") {
        None => "$".to_owned(),
        Some(Value::String(p)) => p.clone(),
        Some(other) => return Err(format!("`path` must be a JSONPath string, got {other}")),
    };
    let path = JsonPath::parse(&path_text).map_err(|e| format!("`{path_text}` is not a JSONPath: {e}"))?;
    let singular = is_singular(&path.to_string());
    Ok(Ref { step: step.to_owned(), path_text, path, singular })
}

/// Every reference in `v` (not inside another reference), with its location under `at`.
pub(crate) fn collect(v: &Value, at: &str, out: &mut Vec<Found>) {
    if is_ref(v) {
        out.push(Found { at: at.to_owned(), parsed: parse(v) });
        return;
    }
    match v {
        Value::Object(o) => o.iter().for_each(|(k, v)| collect(v, &format!("{at}.{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| collect(v, &format!("{at}[{i}]"), out)),
        _ => {}
    }
}

/// RFC 9535's singular query, read from the canonical form serde_json_path prints (names quoted): no
/// wildcard, slice, filter, union or descendant segment outside a quoted name.
fn is_singular(canonical: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut prev = ' ';
    for c in canonical.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '*' | '?' | ':' | ',' => return false,
                '.' if prev == '.' => return false,
                _ => {}
            },
        }
        prev = c;
    }
    true
}

impl Ref {
    /// The value this reference selects in `output` (the output of its step, or the current item).
    pub(crate) fn select(&self, output: &Value) -> Result<Value, String> {
        let nodes = self.path.query(output);
        if self.singular {
            nodes
                .exactly_one()
                .cloned()
                .map_err(|_| format!("`{}` selects nothing in the output of `{}`", self.path_text, self.step))
        } else {
            Ok(Value::Array(nodes.all().into_iter().cloned().collect()))
        }
    }
}

/// `v` with every reference replaced by what it selects; `output` answers a step's output (or the
/// current item for [`ITEM`]).
pub(crate) fn resolve(v: &Value, output: &dyn Fn(&str) -> Option<Value>) -> Result<Value, String> {
    if is_ref(v) {
        let r = parse(v)?;
        let source = output(&r.step).ok_or_else(|| format!("no output of `{}` to refer to", r.step))?;
        return r.select(&source);
    }
    Ok(match v {
        Value::Object(o) => {
            let mut out = serde_json::Map::with_capacity(o.len());
            for (k, v) in o {
                out.insert(k.clone(), resolve(v, output)?);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| resolve(v, output)).collect::<Result<_, _>>()?),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(path: &str, output: Value, expected: Result<Value, &str>) {
        let r = parse(&json!({"$ref": "s", "path": path})).unwrap();
        match (r.select(&output), expected) {
            (Ok(v), Ok(e)) => assert_eq!(v, e, "{path}"),
            (Err(m), Err(e)) => assert!(m.contains(e), "{path}: {m}"),
            (got, want) => panic!("{path}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn singular_paths_give_a_value_others_a_list() {
        let out = json!({"articles": [{"pmid": "1"}, {"pmid": "2"}], "count": 2, "a.b": 3});
        check("$.count", out.clone(), Ok(json!(2)));
        check("$.articles[0].pmid", out.clone(), Ok(json!("1")));
        check("$['a.b']", out.clone(), Ok(json!(3)));
        check("$.articles[*].pmid", out.clone(), Ok(json!(["1", "2"])));
        check("$..pmid", out.clone(), Ok(json!(["1", "2"])));
        check("$.articles[0:1].pmid", out.clone(), Ok(json!(["1"])));
        check("$.articles[?@.pmid == '2'].pmid", out.clone(), Ok(json!(["2"])));
        check("$.missing[*]", out.clone(), Ok(json!([])));
        check("$.missing", out, Err("`$.missing` selects nothing in the output of `s`"));
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        assert!(parse(&json!({"$ref": "s", "path": "articles"})).unwrap_err().contains("not a JSONPath"));
        assert!(parse(&json!({"$ref": 3})).unwrap_err().contains("step id"));
        assert!(parse(&json!({"$ref": "s", "pth": "$"})).unwrap_err().contains("not `pth`"));
        let mut found = Vec::new();
        collect(
            &json!({"a": [1, {"$ref": "x"}], "b": {"c": {"$ref": "y", "path": "$.z"}}}),
            "args",
            &mut found,
        );
        let at: Vec<&str> = found.iter().map(|f| f.at.as_str()).collect();
        assert_eq!(at, ["args.a[1]", "args.b.c"]);
    }

    #[test]
    fn resolve_replaces_references_deep_inside_arguments() {
        let outputs = |s: &str| match s {
            "search" => Some(json!({"ids": ["1", "2"]})),
            ITEM => Some(json!({"pmid": "9", "title": "T"})),
            _ => None,
        };
        let args = json!({"pmids": {"$ref": "search", "path": "$.ids[*]"},
                          "docs": [{"pmid": {"$ref": "$item", "path": "$.pmid"}, "k": 1}]});
        let got = resolve(&args, &outputs).unwrap();
        assert_eq!(got, json!({"pmids": ["1", "2"], "docs": [{"pmid": "9", "k": 1}]}));
        assert!(resolve(&json!({"$ref": "nope"}), &outputs).unwrap_err().contains("`nope`"));
    }
}
