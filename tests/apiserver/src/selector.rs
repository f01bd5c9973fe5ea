//! Label and field selectors, as the `labelSelector` and `fieldSelector` query parameters carry
//! them (<https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors>).

use serde_json::Value;

/// One requirement of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Label {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Label>);

/// A parsed `fieldSelector`: `path=value`, `path==value`, `path!=value`, comma-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, String, bool)>);

/// Splits at commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn set_values(rest: &str, whole: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("unable to parse requirement: found '{whole}', expected: '('"))?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
}

impl LabelSelector {
    /// Parses the selector grammar (`a=b,c!=d,e in (f,g),h notin (i),j,!k`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if let Some(key) = part.strip_prefix('!') {
                reqs.push(Label::NotExists(key.trim().to_string()));
            } else if let Some((k, v)) = part.split_once("!=") {
                reqs.push(Label::NotEquals(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = part.split_once("==") {
                reqs.push(Label::Equals(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = part.split_once('=') {
                reqs.push(Label::Equals(k.trim().into(), v.trim().into()));
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                reqs.push(Label::NotIn(k.trim().into(), set_values(rest, part)?));
            } else if let Some((k, rest)) = part.split_once(" in ") {
                reqs.push(Label::In(k.trim().into(), set_values(rest, part)?));
            } else if part.contains(['(', ')', ' ', '<', '>']) {
                return Err(format!("unable to parse requirement: '{part}'"));
            } else {
                reqs.push(Label::Exists(part.to_string()));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|req| match req {
            Label::Equals(k, v) => get(k) == Some(v.as_str()),
            // Upstream: `!=` and `notin` also match objects without the label.
            Label::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Label::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Label::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Label::Exists(k) => get(k).is_some(),
            Label::NotExists(k) => get(k).is_none(),
        })
    }
}

impl FieldSelector {
    /// Parses `a.b=c,d!=e`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, value, equal) = if let Some((k, v)) = part.split_once("!=") {
                (k, v, false)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, v, true)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, v, true)
            } else {
                return Err(format!("invalid selector: '{part}'; can't understand '{part}'"));
            };
            reqs.push((path.trim().to_string(), value.trim().to_string(), equal));
        }
        Ok(FieldSelector(reqs))
    }

    /// Whether the object's fields satisfy every requirement. A missing field compares as `""`.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, value, equal)| {
            let mut cur = Some(obj);
            for seg in path.split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            let actual = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn label_operators_follow_upstream_semantics() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let yes = [
            "app=web",
            "app==web",
            "app!=db",
            "env!=prod",
            "tier in (front, back)",
            "tier notin (back)",
            "env notin (prod)",
            "app",
            "!env",
            "app=web,tier",
        ];
        for s in yes {
            assert!(LabelSelector::parse(s).expect(s).matches(&o), "{s}");
        }
        let no = ["app=db", "app!=web", "tier in (back)", "tier notin (front)", "env", "!app"];
        for s in no {
            assert!(!LabelSelector::parse(s).expect(s).matches(&o), "{s}");
        }
    }

    #[test]
    fn set_requirement_keeps_commas_inside_parentheses() {
        let sel = LabelSelector::parse("a in (x,y),b").expect("parses");
        assert_eq!(sel.0.len(), 2);
        assert!(LabelSelector::parse("a in x").is_err());
    }

    #[test]
    fn field_selector_on_name_and_namespace() {
        let o = obj(json!({}));
        assert!(FieldSelector::parse("metadata.name=a,metadata.namespace=ns").expect("ok").matches(&o));
        assert!(!FieldSelector::parse("metadata.name!=a").expect("ok").matches(&o));
        assert!(FieldSelector::parse("metadata.name").is_err());
    }
}
