//! Expected values come from `kubectl kustomize` (kustomize v5.5) run on small trees: each
//! test names the kustomization it ran; `res.yaml` is the first literal, `p<N>.yaml` the
//! patch texts in order. `sortOptions: {order: fifo}` keeps kustomize's output in input
//! order so the lists compare directly.

use super::*;

enum K {
    Patches,
    Legacy,
    LegacyJson,
}

struct P {
    kind: K,
    target: Option<&'static str>,
    name_change: bool,
    kind_change: bool,
    text: &'static str,
}

fn docs(yaml: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).expect("test YAML parses");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn load(yaml: &str) -> Vec<Resource> {
    docs(yaml)
        .into_iter()
        .map(|d| match d {
            Value::Object(map) => Resource::new(map),
            _ => panic!("test resources are maps"),
        })
        .collect()
}

fn run(resources: &mut Vec<Resource>, patches: &[P]) -> Result<(), PatchError> {
    for (i, p) in patches.iter().enumerate() {
        let source = format!("p{i}.yaml");
        let target: Option<Selector> = p.target.map(|t| serde_saphyr::from_str(t).expect("test selector parses"));
        match p.kind {
            K::Patches => {
                let options = PatchOptions { allow_name_change: p.name_change, allow_kind_change: p.kind_change };
                let input = PatchInput { source: &source, text: p.text, target: target.as_ref(), options: &options };
                apply(resources, &input)?;
            }
            K::Legacy => apply_strategic_merge_legacy(resources, &source, p.text)?,
            K::LegacyJson => {
                let target = target.expect("legacy JSON patches have a target");
                apply_json6902_legacy(resources, &target, &source, p.text)?;
            }
        }
    }
    Ok(())
}

fn check(resources: &str, patches: &[P], expected: &str) {
    let mut resources = load(resources);
    if let Err(e) = run(&mut resources, patches) {
        panic!("patch failed: {e}");
    }
    let got: Vec<Value> = resources.iter().map(|r| Value::Object(r.object.clone())).collect();
    assert_eq!(got, docs(expected));
}

fn check_err(resources: &str, patches: &[P], expected: &str) {
    let mut resources = load(resources);
    match run(&mut resources, patches) {
        Ok(()) => panic!("expected an error containing {expected:?}"),
        Err(e) => assert!(e.to_string().contains(expected), "error {e} does not contain {expected:?}"),
    }
}

/// containers merge by name; patch elements come first, then the remaining target elements.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn containers_merge_by_name_patch_elements_first() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: side:2
      - name: new
        image: new:1
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - image: side:2
        name: sidecar
      - image: new:1
        name: new
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// env merges by name.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn env_merges_by_name() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: C
          value: "3"
        - name: A
          value: "9"
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - env:
        - name: C
          value: "3"
        - name: A
          value: "9"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// ports merge on containerPort+protocol; a port without protocol matches one with.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn ports_merge_on_port_and_protocol() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - containerPort: 53
          protocol: TCP
        - containerPort: 80
          name: http
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 53
          protocol: TCP
        - containerPort: 80
          name: http
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// kyaml ignores retainKeys: the volume keeps emptyDir beside the new secret.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn volumes_ignore_retain_keys() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      volumes:
      - name: data
        secret:
          secretName: s
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
        secret:
          secretName: s
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// `$patch: delete` removes list elements; null deletes fields and is dropped from added subtrees.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn delete_directive_in_list_and_null_deletion() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: null
spec:
  template:
    spec:
      containers:
      - name: sidecar
        $patch: delete
      - name: app
        resources:
          limits: null
          requests:
            cpu: "2"
            memory: null
      volumes:
      - name: conf
        $patch: delete
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels: {}
  name: web
spec:
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          requests:
            cpu: "2"
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
"#,
    );
}

/// `$patch: replace` on a list and on a map.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn replace_directive_on_list_and_map() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - $patch: replace
      - name: only
        image: only:1
      securityContext:
        $patch: replace
        runAsUser: 1000
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - image: only:1
        name: only
      securityContext:
        runAsUser: 1000
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// kyaml quirk: `$patch: replace` on one element of an associative list leaves the target element.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn element_replace_directive_keeps_target_element() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        $patch: replace
        image: replaced:1
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// kyaml implements neither $setElementOrder, $retainKeys nor $deleteFromPrimitiveList: they stay as fields.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn set_element_order_and_retain_keys_pass_through() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  finalizers:
  - x
  $deleteFromPrimitiveList/finalizers:
  - x
spec:
  $retainKeys:
  - template
  template:
    spec:
      $setElementOrder/containers:
      - name: sidecar
      - name: app
      containers:
      - name: app
        image: app:2
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  $deleteFromPrimitiveList/finalizers:
  - x
  finalizers:
  - x
  labels:
    app: web
  name: web
spec:
  $retainKeys:
  - template
  template:
    spec:
      $setElementOrder/containers:
      - name: sidecar
      - name: app
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:2
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// multi-document patch: `$patch: delete` removes a whole object; finalizers merge as a set.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn delete_whole_object_and_finalizers_union() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
  finalizers: [c, a]
data:
  k: null
  n: "1"
---
apiVersion: v1
kind: Secret
metadata:
  name: gone
$patch: delete
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
  finalizers: [a, b]
data:
  k: v
---
apiVersion: v1
kind: Secret
metadata:
  name: gone
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
---
apiVersion: v1
data:
  "n": "1"
kind: ConfigMap
metadata:
  finalizers:
  - c
  - a
  - b
  name: conf
"#,
    );
}

/// custom resources: lists replaced, maps merged; an embedded object with apiVersion/kind gets that kind's schema.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
#[test]
fn crd_lists_replaced_maps_merged_embedded_kind_typed() {
    let patches = [P {
        kind: K::Patches,
        target: None,
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  items: [3]
  list:
  - name: a
    y: 2
  nested:
    drop: null
    add: 3
  embedded:
    spec:
      template:
        spec:
          containers:
          - name: b
            image: b
"#,
    }];
    check(
        r#"apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  items: [1, 2]
  list:
  - name: a
    x: 1
  - name: b
  nested:
    keep: 1
    drop: 2
  embedded:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      template:
        spec:
          containers:
          - name: a
            image: a
"#,
        &patches,
        r#"apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  embedded:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      template:
        spec:
          containers:
          - image: b
            name: b
          - image: a
            name: a
  items:
  - 3
  list:
  - name: a
    "y": 2
  nested:
    add: 3
    keep: 1
"#,
    );
}

/// tolerations have no merge key and are replaced; Service ports merge on port+protocol.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
/// `- path: p1.yaml`
#[test]
fn tolerations_replaced_service_ports_merged() {
    let patches = [
        P {
            kind: K::Patches,
            target: None,
            name_change: false,
            kind_change: false,
            text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      tolerations:
      - key: b
        operator: Exists
"#,
        },
        P {
            kind: K::Patches,
            target: None,
            name_change: false,
            kind_change: false,
            text: r#"apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 443
  - port: 80
    name: http
"#,
        },
    ];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: 8080
  - port: 53
    protocol: UDP
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: b
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 443
  - name: http
    port: 80
    targetPort: 8080
  - port: 53
    protocol: UDP
"#,
    );
}

/// a target patch applies to every selected object; name, kind and namespace stay.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
/// `  target: {labelSelector: 'app in (web,db),tier!=front'}`
#[test]
fn target_selects_by_label_and_keeps_name_kind() {
    let patches = [P {
        kind: K::Patches,
        target: Some("{labelSelector: 'app in (web,db),tier!=front'}"),
        name_change: false,
        kind_change: false,
        text: r#"apiVersion: v1
kind: Whatever
metadata:
  name: ignored
  namespace: elsewhere
spec:
  replicas: 3
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  labels:
    app: db
    tier: back
  annotations:
    team: data
spec:
  template:
    spec:
      containers:
      - name: db
        image: db:1
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  annotations:
    team: data
  labels:
    app: db
    tier: back
  name: db
spec:
  replicas: 3
  template:
    spec:
      containers:
      - image: db:1
        name: db
"#,
    );
}

/// annotation selectors and anchored name regexes.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
/// `  target: {kind: Deploy.*, name: 'web-.*', annotationSelector: team=data}`
/// `- path: p1.yaml`
/// `  target: {name: web, annotationSelector: '!team'}`
#[test]
fn target_annotation_selector_and_regex_name() {
    let patches = [
        P {
            kind: K::Patches,
            target: Some("{kind: Deploy.*, name: 'web-.*', annotationSelector: team=data}"),
            name_change: false,
            kind_change: false,
            text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  replicas: 5
"#,
        },
        P {
            kind: K::Patches,
            target: Some("{name: web, annotationSelector: '!team'}"),
            name_change: false,
            kind_change: false,
            text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  paused: true
"#,
        },
    ];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-canary
  annotations:
    team: data
spec:
  replicas: 1
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  paused: true
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
---
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    team: data
  name: web-canary
spec:
  replicas: 5
"#,
    );
}

/// with allowNameChange/allowKindChange the patch renames the object.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
/// `  target: {kind: Deployment}`
/// `  options: {allowNameChange: true, allowKindChange: true}`
#[test]
fn allow_name_and_kind_change() {
    let patches = [P {
        kind: K::Patches,
        target: Some("{kind: Deployment}"),
        name_change: true,
        kind_change: true,
        text: r#"apiVersion: v1
kind: Special
metadata:
  name: renamed
spec:
  replicas: 2
"#,
    }];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Special
metadata:
  labels:
    app: web
  name: renamed
spec:
  replicas: 2
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

/// JSON 6902: every op, ~0/~1 escaping, `-` append, YAML and JSON op lists.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patches:`
/// `- path: p0.yaml`
/// `  target: {kind: ConfigMap, name: cm}`
/// `- path: p1.yaml`
/// `  target: {kind: ConfigMap}`
#[test]
fn json6902_all_ops_and_escaping() {
    let patches = [
        P {
            kind: K::Patches,
            target: Some("{kind: ConfigMap, name: cm}"),
            name_change: false,
            kind_change: false,
            text: r#"- op: add
  path: /spec/items/-
  value: d
- op: add
  path: /spec/items/0
  value: first
- op: remove
  path: /spec/items/2
- op: replace
  path: /metadata/annotations/a~1b
  value: replaced
- op: copy
  from: /metadata/annotations/t~0x
  path: /data/copied
- op: move
  from: /spec/obj
  path: /spec/moved
- op: test
  path: /spec/moved/x
  value: 1
- op: add
  path: /metadata/labels
  value: {l: v}
"#,
        },
        P {
            kind: K::Patches,
            target: Some("{kind: ConfigMap}"),
            name_change: false,
            kind_change: false,
            text: r#"[{"op": "add", "path": "/metadata/annotations/new", "value": "v"}]"#,
        },
    ];
    check(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  annotations:
    a/b: one
    t~x: two
data:
  list: keep
spec:
  items: [a, b, c]
  obj:
    x: 1
"#,
        &patches,
        r#"apiVersion: v1
data:
  copied: two
  list: keep
kind: ConfigMap
metadata:
  annotations:
    a/b: replaced
    new: v
    t~x: two
  labels:
    l: v
  name: cm
spec:
  items:
  - first
  - a
  - c
  - d
  moved:
    x: 1
"#,
    );
}

/// legacy patchesStrategicMerge and patchesJson6902.
/// Expected: `kubectl kustomize` (v5.5) of res.yaml with this kustomization.yaml:
/// `resources: [res.yaml]`
/// `sortOptions: {order: fifo}`
/// `patchesStrategicMerge:`
/// `- p0.yaml`
/// `patchesJson6902:`
/// `- path: p1.yaml`
/// `  target: {group: apps, version: v1, kind: Deployment, name: web}`
#[test]
fn legacy_patches_strategic_merge_and_json6902() {
    let patches = [
        P {
            kind: K::Legacy,
            target: None,
            name_change: false,
            kind_change: false,
            text: r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
"#,
        },
        P {
            kind: K::LegacyJson,
            target: Some("{group: apps, version: v1, kind: Deployment, name: web}"),
            name_change: false,
            kind_change: false,
            text: r#"- op: replace
  path: /spec/replicas
  value: 6
"#,
        },
    ];
    check(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - name: sidecar
        image: side:1
      volumes:
      - name: data
        emptyDir: {}
      - name: conf
        configMap:
          name: conf
      tolerations:
      - key: a
        operator: Exists
"#,
        &patches,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  replicas: 6
  template:
    spec:
      containers:
      - env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        image: app:1
        name: app
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
        resources:
          limits:
            cpu: "1"
      - image: side:1
        name: sidecar
      tolerations:
      - key: a
        operator: Exists
      volumes:
      - emptyDir: {}
        name: data
      - configMap:
          name: conf
        name: conf
"#,
    );
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n";

/// `kubectl kustomize` with `patches: [{path: p.yaml}]` and p.yaml naming ConfigMap `other`
/// fails with exactly this message.
#[test]
fn smp_without_a_matching_resource_is_an_error() {
    let patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  b: \"2\"\n";
    let p = [P { kind: K::Patches, target: None, name_change: false, kind_change: false, text: patch }];
    check_err(
        CM,
        &p,
        "no resource matches strategic merge patch \"ConfigMap.v1.[noGrp]/other.[noNs]\": no matches for Id \
         ConfigMap.v1.[noGrp]/other.[noNs]; failed to find unique target for patch ConfigMap.v1.[noGrp]/other.[noNs]",
    );
    let p = [P { kind: K::Legacy, target: None, name_change: false, kind_change: false, text: patch }];
    check_err(CM, &p, "no matches for Id ConfigMap.v1.[noGrp]/other.[noNs]; failed to find unique target");
}

/// `kubectl kustomize` fails with "error in remove for path: '/data/zz': Unable to remove
/// nonexistent key: zz: missing value"; a JSON patch without target, or an SMP without kind,
/// is refused.
#[test]
fn json6902_errors_and_unparseable_patches() {
    let remove = "- op: remove\n  path: /data/zz\n";
    let p = [P {
        kind: K::Patches,
        target: Some("{kind: ConfigMap}"),
        name_change: false,
        kind_change: false,
        text: remove,
    }];
    check_err(CM, &p, "Unable to remove nonexistent key: zz");
    let p = [P { kind: K::Patches, target: None, name_change: false, kind_change: false, text: remove }];
    check_err(CM, &p, "must specify a target for JSON patch");
    let p =
        [P { kind: K::Patches, target: None, name_change: false, kind_change: false, text: "spec:\n  replicas: 3\n" }];
    check_err(CM, &p, "unable to parse SM or JSON patch");
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n$patch: frobnicate\n";
    let p = [P { kind: K::Patches, target: None, name_change: false, kind_change: false, text: bad }];
    check_err(CM, &p, "unknown patch strategy 'frobnicate'");
}
