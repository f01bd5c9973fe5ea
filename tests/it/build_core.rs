//! `sealops build` against `kubectl kustomize` (kustomize v5.5) for the core of the engine:
//! resources, bases, nested kustomizations, components, `kind: List`, ordering and
//! `sortOptions`, origin annotations, local-config objects, and the errors (load restrictor,
//! remote resources, unsupported fields, id conflicts). The expected output is whatever
//! `kubectl kustomize` prints for the same tree, run here; both outputs are parsed and compared
//! as lists of values.

use std::process::Command;

use serde_json::Value;

use super::support::{Sandbox, run};

fn kubectl_available() -> bool {
    Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success())
}

fn parse(text: &str) -> Vec<Value> {
    sealops::manifest::parse_documents("output", text.as_bytes()).expect("output parses")
}

/// Builds `dir` with both tools (extra flags for both) and asserts the same object list.
#[track_caller]
fn same_as_kustomize(sb: &Sandbox, dir: &str, flags: &[&str]) -> Vec<Value> {
    let path = sb.path(dir);
    let mut k = Command::new("kubectl");
    k.arg("kustomize").arg(&path).args(flags);
    let want = run(&mut k).ok();
    let mut args = vec!["build", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(flags);
    let got = sb.run(&args).ok();
    let (want, got) = (parse(&want.out()), parse(&got.out()));
    assert_eq!(got, want, "sealops build differs from kubectl kustomize for {dir}");
    got
}

/// Both tools fail on `dir`; sealops's message contains every needle.
#[track_caller]
fn both_fail(sb: &Sandbox, dir: &str, flags: &[&str], needles: &[&str]) {
    let path = sb.path(dir);
    let mut k = Command::new("kubectl");
    k.arg("kustomize").arg(&path).args(flags);
    let want = run(&mut k);
    assert_ne!(want.code, Some(0), "kubectl kustomize succeeded on {dir}:\n{}", want.out());
    let mut args = vec!["build", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(flags);
    let mut got = sb.run(&args).clean_failure();
    for needle in needles {
        got = got.err_has(needle);
    }
}

fn names(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| format!("{}/{}", o["kind"].as_str().unwrap_or(""), o["metadata"]["name"].as_str().unwrap_or("")))
        .collect()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        args: [\"--port\", \"8080\", \"yes\", \"0755\"]
        ports: [{containerPort: 8080}]
";

const MIXED: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hook}
webhooks: []
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: [{apiGroups: [\"\"], resources: [pods], verbs: [get, list]}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
spec: {size: 3, enabled: true, ratio: 1.5, note: \"multi\\nline\\n\"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: \"*/5 * * * *\"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: t, image: busybox}]}}}}
";

fn fleet(sb: &Sandbox) {
    sb.write("base/deployment.yaml", DEPLOYMENT);
    sb.write("base/mixed.yaml", MIXED);
    sb.write(
        "base/list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: from-list}\n  data: {a: \"1\"}\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  stringData: {k: v}\n",
    );
    sb.write("base/kustomization.yaml", "resources:\n- deployment.yaml\n- mixed.yaml\n- list.yaml\n");
    sb.write("extra/sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}\n");
    sb.write(
        "extra/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [sa.yaml]\n",
    );
    sb.write("overlay/pdb.json", r#"{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"}, "spec": {"minAvailable": 1}}"#);
    sb.write("overlay/kustomization.yaml", "resources:\n- ../base\n- pdb.json\nbases:\n- ../extra\n");
}

#[test]
fn overlay_of_bases_matches_kustomize_in_legacy_order() {
    if !kubectl_available() {
        eprintln!("kubectl not found: skipped");
        return;
    }
    let sb = Sandbox::new();
    fleet(&sb);
    let got = same_as_kustomize(&sb, "overlay", &[]);
    // The default (legacy) order puts Namespace first and webhooks last.
    let n = names(&got);
    assert_eq!(n.first().map(String::as_str), Some("Namespace/apps"));
    assert_eq!(n.last().map(String::as_str), Some("ValidatingWebhookConfiguration/hook"));
    assert_eq!(n.len(), 11);
}

#[test]
fn sort_options_fifo_and_custom_legacy_lists() {
    if !kubectl_available() {
        return;
    }
    let sb = Sandbox::new();
    fleet(&sb);
    sb.write("fifo/kustomization.yaml", "resources: [../base, ../extra]\nsortOptions:\n  order: fifo\n");
    let got = same_as_kustomize(&sb, "fifo", &[]);
    assert_eq!(names(&got)[0], "Deployment/web");
    sb.write(
        "custom/kustomization.yaml",
        "resources: [../base]\nsortOptions:\n  order: legacy\n  legacySortOptions:\n    orderFirst: [Service, CronJob]\n    orderLast: [Namespace]\n",
    );
    same_as_kustomize(&sb, "custom", &[]);
}

#[test]
fn components_add_to_the_accumulated_set() {
    if !kubectl_available() {
        return;
    }
    let sb = Sandbox::new();
    fleet(&sb);
    sb.write(
        "comp/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-component}\ndata: {x: \"true\"}\n",
    );
    sb.write(
        "comp/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n",
    );
    sb.write(
        "withcomp/kustomization.yaml",
        "resources: [../base]\ncomponents: [../comp]\nsortOptions: {order: fifo}\n",
    );
    let got = same_as_kustomize(&sb, "withcomp", &[]);
    assert_eq!(names(&got).last().map(String::as_str), Some("ConfigMap/from-component"));
    // A Component listed under resources, and a Kustomization under components, are errors.
    sb.write("wrong1/kustomization.yaml", "resources: [../comp]\n");
    both_fail(&sb, "wrong1", &[], &["wrong1/kustomization.yaml: resources[0]", "Component"]);
    sb.write("wrong2/kustomization.yaml", "resources: [../base]\ncomponents: [../extra]\n");
    both_fail(&sb, "wrong2", &[], &["wrong2/kustomization.yaml: components[0]", "Component"]);
}

#[test]
fn origin_annotations_and_local_config() {
    if !kubectl_available() {
        return;
    }
    let sb = Sandbox::new();
    fleet(&sb);
    sb.write(
        "meta/local.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  annotations: {config.kubernetes.io/local-config: \"true\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations: {config.kubernetes.io/local-config: \"false\"}\n",
    );
    sb.write("meta/kustomization.yaml", "resources: [../base, local.yaml]\nbuildMetadata: [originAnnotations]\n");
    let got = same_as_kustomize(&sb, "meta", &[]);
    assert!(!names(&got).contains(&"ConfigMap/local".to_owned()));
    assert!(names(&got).contains(&"ConfigMap/kept".to_owned()));
}

#[test]
fn load_restrictor_refuses_files_outside_the_kustomization() {
    if !kubectl_available() {
        return;
    }
    let sb = Sandbox::new();
    fleet(&sb);
    sb.write("reach/kustomization.yaml", "resources:\n- ../base/deployment.yaml\n");
    both_fail(&sb, "reach", &[], &["reach/kustomization.yaml: resources[0]", "security", "../base/deployment.yaml"]);
    same_as_kustomize(&sb, "reach", &["--load-restrictor", "LoadRestrictionsNone"]);
}

#[test]
fn errors_name_field_and_file() {
    if !kubectl_available() {
        return;
    }
    let sb = Sandbox::new();
    fleet(&sb);
    sb.write("dup/kustomization.yaml", "resources: [../base, again]\n");
    sb.write("dup/again/kustomization.yaml", "resources: [../../base/deployment.yaml]\n");
    // Same Deployment twice: kustomize refuses it; so do we (with LoadRestrictionsNone so the
    // file itself may be loaded).
    both_fail(
        &sb,
        "dup",
        &["--load-restrictor", "LoadRestrictionsNone"],
        &["dup/kustomization.yaml: resources[1]", "already registered id", "Deployment.v1.apps/web"],
    );
    sb.write("cycle/kustomization.yaml", "resources: [../cycle2]\n");
    sb.write("cycle2/kustomization.yaml", "resources: [../cycle]\n");
    both_fail(&sb, "cycle", &[], &["cycle"]);
    sb.write("missing/kustomization.yaml", "resources: [nope.yaml]\n");
    both_fail(&sb, "missing", &[], &["missing/kustomization.yaml: resources[0]", "nope.yaml"]);

    // Refused by sealops with the field and the file (kustomize would fetch or run them).
    let remote = "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.5.0";
    sb.write("remote/kustomization.yaml", format!("resources:\n- ../base\n- {remote}\n"));
    sb.run(&["build", sb.path("remote").to_str().unwrap_or_default()])
        .clean_failure()
        .err_has(&format!("remote/kustomization.yaml: resources[1]: remote resources are not supported: {remote}"));
    sb.write("helm/kustomization.yaml", "helmCharts:\n- name: x\n  repo: https://example.com\n");
    sb.run(&["build", sb.path("helm").to_str().unwrap_or_default()])
        .clean_failure()
        .err_has("helm/kustomization.yaml: helmCharts: not supported");
}

#[test]
fn output_file_and_text_shape() {
    if !kubectl_available() {
        return;
    }
    let sb = Sandbox::new();
    fleet(&sb);
    let out = sb.path("out.yaml");
    sb.run(&["build", sb.path("base").to_str().unwrap_or_default(), "-o", out.to_str().unwrap_or_default()]).ok();
    let ours = sb.read_str("out.yaml");
    let mut k = Command::new("kubectl");
    k.arg("kustomize").arg(sb.path("base"));
    let theirs = run(&mut k).ok().out();
    // Not only the same values: the same text, line for line, for this tree (no long strings
    // that yaml.v3 would fold).
    assert_eq!(ours, theirs);
}
