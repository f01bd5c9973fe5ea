//! postBuild substitution tests. Expected values follow Flux's documented behaviour
//! (`fluxcd/pkg` envsubst README and `kustomize_varsub.go`, flux.md §2.8): numbers written as
//! `${VAR}` become numbers, `${quote}…${quote}` keeps a string, `$${x}` is a literal `${x}`,
//! `$x` is untouched, the opt-out needs the exact value `disabled`, strict mode fails on an
//! unset variable with Flux's message.

use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vars {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), Zeroizing::new((*v).to_owned()))).collect()
}

fn one(value: Value) -> Vec<Resource> {
    vec![Resource::new(value.as_object().cloned().unwrap_or_default())]
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app-${ENV}", "labels": {"env": "${ENV}"}},
        "spec": {
            "replicas": "${REPLICAS}",
            "template": {"spec": {"containers": [{
                "name": "app", "image": "nginx:${TAG:=1.25}",
                "env": [
                    {"name": "PORT", "value": "${quote}${PORT}${quote}"},
                    {"name": "LITERAL", "value": "$${NOT_A_VAR} and $PLAIN"},
                    {"name": "DEBUG", "value": "${DEBUG:-false}"},
                    {"name": "MSG", "value": "msg: ${ENV}"}
                ]
            }]}}
        }
    })
}

#[test]
fn a_deployment_is_substituted_and_retyped() {
    let mut resources = one(deployment());
    let v = vars(&[("ENV", "prod"), ("REPLICAS", "3"), ("PORT", "8080"), ("quote", "\"")]);
    apply(&mut resources, &v, true).expect("substitution succeeds");
    let object = Value::Object(resources[0].object.clone());
    assert_eq!(object["metadata"]["name"], json!("app-prod"));
    assert_eq!(object["metadata"]["labels"]["env"], json!("prod"));
    assert_eq!(object["spec"]["replicas"], json!(3), "a plain number becomes a number");
    let container = &object["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], json!("nginx:1.25"));
    assert_eq!(container["env"][0]["value"], json!("8080"), "the quote workaround keeps a string");
    assert_eq!(container["env"][1]["value"], json!("${NOT_A_VAR} and $PLAIN"));
    assert_eq!(container["env"][2]["value"], json!(false), "a plain `false` becomes a boolean");
    assert_eq!(container["env"][3]["value"], json!("msg: prod"), "a quoted-style string stays a string");
}

#[test]
fn strict_mode_names_the_object_and_the_variable() {
    let mut resources = one(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                                   "data": {"k": "${MISSING}"}}));
    let err = apply(&mut resources, &vars(&[("OTHER", "1")]), true).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "post build failed for 'ConfigMap.v1.[noGrp]/x': envsubst error: variable substitution failed: \
             variable not set (strict mode): \"MISSING\" (at data.k)"
        )
    );
}

#[test]
fn non_strict_mode_uses_empty_values() {
    let mut resources = one(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                                   "data": {"a": "pre-${MISSING}", "b": "${MISSING}"}}));
    apply(&mut resources, &vars(&[("OTHER", "1")]), false).expect("non-strict");
    assert_eq!(resources[0].object["data"]["a"], json!("pre-"));
    // `b: ` reads back as null, as in Flux's YAML round trip.
    assert_eq!(resources[0].object["data"]["b"], Value::Null);
}

#[test]
fn the_opt_out_needs_the_exact_value() {
    let object =
        |meta: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "${A}"}});
    let v = vars(&[("A", "1")]);
    for meta in [
        json!({"name": "a", "annotations": {DISABLE_KEY: "disabled"}}),
        json!({"name": "l", "labels": {DISABLE_KEY: "disabled"}}),
    ] {
        let mut resources = one(object(meta));
        apply(&mut resources, &v, true).expect("skipped");
        assert_eq!(resources[0].object["data"]["k"], json!("${A}"));
    }
    let mut resources = one(object(json!({"name": "c", "annotations": {DISABLE_KEY: "Disabled"}})));
    apply(&mut resources, &v, true).expect("substituted");
    assert_eq!(resources[0].object["data"]["k"], json!(1));
}

#[test]
fn no_variables_means_no_substitution_unless_always() {
    let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "${A:=d}"}});
    let mut resources = one(doc.clone());
    apply(&mut resources, &Vars::new(), true).expect("nothing to do");
    assert_eq!(resources[0].object["data"]["k"], json!("${A:=d}"));
    let mut resources = one(doc);
    apply_always(&mut resources, &Vars::new(), true).expect("always");
    assert_eq!(resources[0].object["data"]["k"], json!("d"));
}

#[test]
fn variable_names_are_checked() {
    let mut resources = one(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}));
    let err = apply(&mut resources, &vars(&[("1BAD", "x")]), true).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "post build failed for 'ConfigMap.v1.[noGrp]/x': envsubst error: '1BAD' var name is invalid, \
             must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
        )
    );
}

#[test]
fn yaml_plain_scalar_reading() {
    assert_eq!(read_plain("yes"), Ok(json!(true)));
    assert_eq!(read_plain("Off"), Ok(json!(false)));
    assert_eq!(read_plain("~"), Ok(Value::Null));
    assert_eq!(read_plain("0x1F"), Ok(json!(31)));
    assert_eq!(read_plain("012"), Ok(json!(10)));
    assert_eq!(read_plain("1_000"), Ok(json!(1000)));
    assert_eq!(read_plain("1e3"), Ok(json!(1000)));
    assert_eq!(read_plain("-1.5"), Ok(json!(-1.5)));
    assert_eq!(read_plain("2024-1-2"), Ok(json!("2024-01-02T00:00:00Z")));
    assert_eq!(read_plain("abc #comment"), Ok(json!("abc")));
    assert_eq!(read_plain("'it''s'"), Ok(json!("it's")));
    assert_eq!(read_plain("\"a\\tb\""), Ok(json!("a\tb")));
    assert_eq!(read_plain("v1.2.3"), Ok(json!("v1.2.3")));
    assert!(read_plain("a: b").is_err());
    assert!(read_plain("[1, 2]").is_err());
}

#[test]
fn go_yaml_styles() {
    assert!(plain_style("${A}"));
    assert!(plain_style("http://${HOST}:${PORT}/x"));
    assert!(!plain_style("a: ${A}"));
    assert!(!plain_style("${A} "));
    assert!(!plain_style("#${A}"));
    assert!(!plain_style("line\n${A}"));
    assert!(!plain_style("1:20"));
}

#[test]
fn substitute_arguments_and_files() {
    let (key, value) = parse_substitute_arg("CLUSTER=prod=1").expect("parses");
    assert_eq!((key.as_str(), value.as_str()), ("CLUSTER", "prod=1"));
    assert!(parse_substitute_arg("no-equals").is_err());
    assert!(parse_substitute_arg("bad-name=x").is_err());

    let mut v = Vars::new();
    vars_from_file(
        "cm.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  A: \"1\"\n  B: |\n    two\n    lines\n",
        &mut v,
    )
    .expect("configmap");
    assert_eq!(v.get("A").map(|s| s.as_str()), Some("1"));
    assert_eq!(v.get("B").map(|s| s.as_str()), Some("twolines"), "newlines are removed, as Flux does");
    vars_from_file(
        "s.yaml",
        b"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  A: b3ZlcnJpZGRlbg==\nstringData:\n  C: plain\n",
        &mut v,
    )
    .expect("secret");
    assert_eq!(v.get("A").map(|s| s.as_str()), Some("overridden"), "later sources win");
    assert_eq!(v.get("C").map(|s| s.as_str()), Some("plain"));
    vars_from_file("vars.env", b"# comment\nD=4\n\nE=x=y\n", &mut v).expect("env file");
    assert_eq!(v.get("E").map(|s| s.as_str()), Some("x=y"));
    let err = vars_from_file("d.yaml", b"apiVersion: apps/v1\nkind: Deployment\n", &mut v).err().map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some("--substitute-from d.yaml: kind: Deployment is neither a ConfigMap nor a Secret"));
}

#[test]
fn a_value_that_breaks_the_yaml_is_refused_without_quoting_it() {
    let mut resources = one(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                   "stringData": {"k": "${PASSWORD}"}}));
    let err = apply(&mut resources, &vars(&[("PASSWORD", "hunter2: x")]), true).err().map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(err.contains("not a plain YAML scalar"), "{err}");
    assert!(err.contains("(at stringData.k)"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
