//! Flux generation/overlay tests. Expected maps follow `fluxcd/pkg`
//! `kustomize/kustomize_generator.go` and its tests (flux.md §2.5): generated resources in
//! lexical walk order as `./rel/path`, kustomization subdirectories as one resource,
//! `_placeholder` for an empty directory, `originAnnotations` for a file without resources,
//! appended patches/components, merged images.

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";

#[test]
fn generates_a_kustomization_for_plain_manifests() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    write(root, "app/b.yaml", CM);
    write(root, "app/a.yml", CM);
    write(root, "app/notes.txt", "ignored");
    write(root, "app/sub/c.yaml", "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n");
    write(root, "app/base/kustomization.yaml", "resources: []\n");
    write(root, "app/base/ignored.yaml", "not: [valid");
    let map = kustomization_for(root, Path::new("app"), &FluxOverlay::default()).expect("generated");
    assert_eq!(
        Value::Object(map),
        json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["./a.yml", "./b.yaml", "./base", "./sub/c.yaml"]
        })
    );
}

#[test]
fn an_empty_directory_gets_the_placeholder_namespace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(tmp.path().join("empty")).expect("mkdir");
    let map = kustomization_for(tmp.path(), Path::new("empty"), &FluxOverlay::default()).expect("generated");
    assert_eq!(map.get("namespace"), Some(&json!("_placeholder")));
    assert!(map.get("resources").is_none());
}

#[test]
fn a_bad_manifest_fails_the_generation() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "bad.yaml", "key: [unclosed\n");
    let err = kustomization_for(tmp.path(), Path::new("."), &FluxOverlay::default()).err().map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(err.contains("failed to decode Kubernetes YAML from ./bad.yaml"), "{err}");
}

#[test]
fn an_existing_file_is_overlaid() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        tmp.path(),
        "ov/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: old\nresources: [cm.yaml]\n\
         patches:\n- path: p.yaml\ncomponents: [../comp]\nimages:\n- name: nginx\n  newTag: '1.0'\n  digest: sha256:old\n\
         - name: redis\n  newName: my/redis\n",
    );
    write(tmp.path(), "ov/cm.yaml", CM);
    let overlay = FluxOverlay {
        target_namespace: Some("prod".into()),
        name_prefix: Some("p-".into()),
        name_suffix: Some("-s".into()),
        patches: vec![FluxPatch {
            patch: "- op: add\n  path: /x\n  value: 1\n".into(),
            target: Some(Selector {
                kind: Some("Deployment".into()),
                label_selector: Some("app=x".into()),
                ..Selector::default()
            }),
        }],
        images: vec![
            ImageSpec { name: "nginx".into(), new_tag: Some("2.0".into()), ..ImageSpec::default() },
            ImageSpec { name: "redis".into(), new_tag: Some("7".into()), ..ImageSpec::default() },
            ImageSpec { name: "busybox".into(), digest: Some("sha256:abc".into()), ..ImageSpec::default() },
        ],
        components: vec!["extra".into()],
        ..FluxOverlay::default()
    };
    let map = kustomization_for(tmp.path(), Path::new("ov"), &overlay).expect("overlaid");
    assert_eq!(map.get("namespace"), Some(&json!("prod")));
    assert_eq!(map.get("namePrefix"), Some(&json!("p-")));
    assert_eq!(map.get("nameSuffix"), Some(&json!("-s")));
    assert!(map.get("buildMetadata").is_none(), "the file lists resources");
    assert_eq!(
        map.get("patches"),
        Some(&json!([
            {"path": "p.yaml"},
            {"patch": "- op: add\n  path: /x\n  value: 1\n", "target": {"kind": "Deployment", "labelSelector": "app=x"}}
        ]))
    );
    assert_eq!(map.get("components"), Some(&json!(["../comp", "extra"])));
    assert_eq!(
        map.get("images"),
        Some(&json!([
            {"name": "nginx", "newTag": "2.0"},
            {"name": "redis", "newName": "my/redis", "newTag": "7"},
            {"name": "busybox", "digest": "sha256:abc"}
        ]))
    );
}

#[test]
fn a_file_without_resources_gets_origin_annotations() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "Kustomization", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
    let map = kustomization_for(tmp.path(), Path::new("."), &FluxOverlay::default()).expect("read");
    assert_eq!(map.get("buildMetadata"), Some(&json!(["originAnnotations"])));
}

#[test]
fn remote_or_absolute_components_and_escapes_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "app/cm.yaml", CM);
    for component in ["https://github.com/x/y", "/etc", "git@github.com:x/y"] {
        let overlay = FluxOverlay { components: vec![component.into()], ..FluxOverlay::default() };
        let err = kustomization_for(tmp.path(), Path::new("app"), &overlay).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .unwrap_or_default()
                .ends_with(&format!("component path '{component}' must be local and relative")),
            "{err:?}"
        );
    }
    let err = kustomization_for(tmp.path(), Path::new("../"), &FluxOverlay::default()).err().map(|e| e.to_string());
    assert!(err.unwrap_or_default().contains("is not in or below"));
}

#[test]
fn common_metadata_overrides_every_object() {
    let mut resources = vec![
        Resource::new(
            json!({"kind": "A", "metadata": {"name": "a", "labels": {"team": "old", "keep": "1"}}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        ),
        Resource::new(json!({"kind": "B", "metadata": {"name": "b"}}).as_object().cloned().unwrap_or_default()),
    ];
    let overlay = FluxOverlay {
        common_labels: vec![("team".into(), "platform".into())],
        common_annotations: vec![("owner".into(), "ops".into())],
        ..FluxOverlay::default()
    };
    apply_common_metadata(&mut resources, &overlay);
    assert_eq!(resources[0].object["metadata"]["labels"], json!({"team": "platform", "keep": "1"}));
    assert_eq!(resources[1].object["metadata"]["labels"], json!({"team": "platform"}));
    assert_eq!(resources[1].object["metadata"]["annotations"], json!({"owner": "ops"}));
}

#[test]
fn a_component_leaving_the_root_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "app/cm.yaml", CM);
    let overlay = FluxOverlay { components: vec!["../../outside".into()], ..FluxOverlay::default() };
    let err = kustomization_for(tmp.path(), Path::new("app"), &overlay).err().map(|e| e.to_string());
    assert!(err.unwrap_or_default().ends_with("component path '../../outside' leaves the source root"));
    let overlay = FluxOverlay { components: vec!["../shared".into()], ..FluxOverlay::default() };
    assert!(kustomization_for(tmp.path(), Path::new("app"), &overlay).is_ok());
}
