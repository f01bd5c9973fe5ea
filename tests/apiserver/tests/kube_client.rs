//! The test API server through an unmodified kube 5 client: discovery, CRUD, selectors,
//! concurrency, server-side apply, the status subresource, watches, garbage collection,
//! finalizers, CRDs, faults, Leases and Events.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::{self, Discovery, Scope};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{CustomResource, CustomResourceExt, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use support::{eventually, setup, status};

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("a".to_string(), "1".to_string())])),
        ..ConfigMap::default()
    }
}

#[tokio::test]
async fn discovery_run_aggregated_and_pinned_kind() {
    let (_server, client) = setup().await;
    let disc = Discovery::new(client.clone()).run().await.expect("discovery");
    let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
    let (ar, caps) = disc.resolve_gvk(&gvk).expect("deployments discovered");
    assert_eq!(ar.plural, "deployments");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(caps.subresources.iter().any(|(sub, _)| sub.plural == "status"));
    let (ns_ar, ns_caps) =
        disc.resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace")).expect("namespaces discovered");
    assert_eq!((ns_ar.plural.as_str(), ns_caps.scope), ("namespaces", Scope::Cluster));

    let agg = Discovery::new(client.clone()).run_aggregated().await.expect("aggregated discovery");
    let (lease, _) = agg
        .resolve_gvk(&GroupVersionKind::gvk("coordination.k8s.io", "v1", "Lease"))
        .expect("leases in aggregated discovery");
    assert_eq!(lease.plural, "leases");
    assert!(agg.resolve_gvk(&GroupVersionKind::gvk("", "v1", "Secret")).is_some());

    let (hpa, _) =
        discovery::pinned_kind(&client, &GroupVersionKind::gvk("autoscaling", "v2", "HorizontalPodAutoscaler"))
            .await
            .expect("pinned kind");
    assert_eq!(hpa.plural, "horizontalpodautoscalers");
    let missing = discovery::pinned_kind(&client, &GroupVersionKind::gvk("example.com", "v1", "Nope")).await;
    assert!(missing.is_err());
}

#[tokio::test]
async fn create_get_list_replace_delete_with_upstream_errors() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let made = api.create(&PostParams::default(), &cm("one", &[])).await.expect("create");
    assert!(made.metadata.uid.is_some() && made.metadata.creation_timestamp.is_some());
    let dup = status(api.create(&PostParams::default(), &cm("one", &[])).await);
    assert!(dup.is_already_exists(), "{dup:?}");
    assert_eq!((dup.code, dup.message.as_str()), (409, "configmaps \"one\" already exists"));
    let missing = status(api.get("nope").await);
    assert!(missing.is_not_found());
    assert_eq!(missing.message, "configmaps \"nope\" not found");
    let elsewhere: Api<ConfigMap> = Api::namespaced(client.clone(), "absent");
    assert!(status(elsewhere.create(&PostParams::default(), &cm("x", &[])).await).is_not_found());

    let mut got = api.get("one").await.expect("get");
    got.data = Some(BTreeMap::from([("a".to_string(), "2".to_string())]));
    let replaced = api.replace("one", &PostParams::default(), &got).await.expect("replace");
    assert_ne!(replaced.resource_version(), made.resource_version());
    assert_eq!(server.get("configmaps", Some("default"), "one").expect("stored")["data"]["a"], "2");

    let generated = api
        .create(
            &PostParams::default(),
            &ConfigMap {
                metadata: ObjectMeta { generate_name: Some("gen-".into()), ..ObjectMeta::default() },
                ..ConfigMap::default()
            },
        )
        .await
        .expect("generateName");
    assert!(generated.name_any().starts_with("gen-") && generated.name_any().len() == 9);

    let listed = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 2);
    let deleted = api.delete("one", &DeleteParams::default()).await.expect("delete");
    assert!(deleted.is_right(), "no finalizers: a Status comes back");
    assert!(server.get("configmaps", Some("default"), "one").is_none());

    let ns_api: Api<Namespace> = Api::all(client);
    let names: Vec<String> =
        ns_api.list(&ListParams::default()).await.expect("namespaces").iter().map(ResourceExt::name_any).collect();
    assert!(names.contains(&"default".to_string()) && names.contains(&"kube-system".to_string()));
}

#[tokio::test]
async fn list_paging_returns_every_object_once() {
    let (_server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    for i in 0..7 {
        api.create(&PostParams::default(), &cm(&format!("p{i}"), &[])).await.expect("create");
    }
    let first = api.list(&ListParams::default().limit(3)).await.expect("page 1");
    assert_eq!(first.items.len(), 3);
    let token = first.metadata.continue_.clone().expect("continue token");
    let second = api.list(&ListParams::default().limit(3).continue_token(&token)).await.expect("page 2");
    let third_token = second.metadata.continue_.clone().expect("continue token");
    let third = api.list(&ListParams::default().limit(3).continue_token(&third_token)).await.expect("page 3");
    assert_eq!(third.items.len(), 1);
    assert!(third.metadata.continue_.as_deref().is_none_or(str::is_empty));
}

#[tokio::test]
async fn label_and_field_selectors() {
    let (_server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    for (name, labels) in [
        ("a", vec![("app", "web"), ("tier", "front")]),
        ("b", vec![("app", "db"), ("tier", "back")]),
        ("c", vec![("app", "web")]),
    ] {
        api.create(&PostParams::default(), &cm(name, &labels)).await.expect("create");
    }
    let names = |sel: &'static str| {
        let api = api.clone();
        async move {
            let mut v: Vec<String> = api
                .list(&ListParams::default().labels(sel))
                .await
                .expect(sel)
                .iter()
                .map(ResourceExt::name_any)
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(names("app=web").await, ["a", "c"]);
    assert_eq!(names("app==db").await, ["b"]);
    assert_eq!(names("tier!=front").await, ["b", "c"]);
    assert_eq!(names("tier in (front,back)").await, ["a", "b"]);
    assert_eq!(names("app notin (db)").await, ["a", "c"]);
    assert_eq!(names("tier").await, ["a", "b"]);
    assert_eq!(names("!tier").await, ["c"]);
    assert_eq!(names("app=web,tier").await, ["a"]);
    let by_name = api.list(&ListParams::default().fields("metadata.name=b")).await.expect("fields");
    assert_eq!(by_name.items.len(), 1);
    let not_ns = api.list(&ListParams::default().fields("metadata.namespace!=default")).await.expect("fields");
    assert!(not_ns.items.is_empty());
}

#[tokio::test]
async fn stale_resource_version_conflicts() {
    let (_server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let made = api.create(&PostParams::default(), &cm("cc", &[])).await.expect("create");
    let mut first = made.clone();
    first.data = Some(BTreeMap::from([("a".to_string(), "first".to_string())]));
    api.replace("cc", &PostParams::default(), &first).await.expect("first writer wins");
    let mut second = made.clone();
    second.data = Some(BTreeMap::from([("a".to_string(), "second".to_string())]));
    let conflict = status(api.replace("cc", &PostParams::default(), &second).await);
    assert!(conflict.is_conflict(), "{conflict:?}");
    assert!(conflict.message.contains("the object has been modified"), "{}", conflict.message);
    // A merge patch carrying the stale version is refused the same way.
    let patch = json!({"metadata": {"resourceVersion": made.resource_version()}, "data": {"a": "x"}});
    assert!(status(api.patch("cc", &PatchParams::default(), &Patch::Merge(&patch)).await).is_conflict());
    // A JSON patch (RFC 6902) works on the current object.
    let request = http::Request::patch("/api/v1/namespaces/default/configmaps/cc")
        .header("content-type", "application/json-patch+json")
        .body(br#"[{"op": "replace", "path": "/data/a", "value": "j"}]"#.to_vec())
        .expect("request");
    let patched: ConfigMap = client.request(request).await.expect("json patch");
    assert_eq!(patched.data.expect("data")["a"], "j");
}

#[tokio::test]
async fn server_side_apply_ownership_conflicts_force_and_removal() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let config = |data: serde_json::Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": data});
    let created = api
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(config(json!({"a": "1", "b": "2"}))))
        .await
        .expect("apply creates");
    let managed = created.metadata.managed_fields.clone().expect("managedFields");
    assert_eq!(managed.len(), 1);
    assert_eq!((managed[0].manager.as_deref(), managed[0].operation.as_deref()), (Some("alice"), Some("Apply")));
    let fields = serde_json::to_value(&managed[0].fields_v1).expect("fieldsV1");
    assert_eq!(fields["f:data"], json!({"f:a": {}, "f:b": {}}));

    // bob agrees on a (shared) and wants b changed: conflict with alice.
    let err =
        status(api.patch("ssa", &PatchParams::apply("bob"), &Patch::Apply(config(json!({"a": "1", "b": "3"})))).await);
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert_eq!(err.message, "Apply failed with 1 conflict: conflict with \"alice\": .data.b");
    let causes = err.details.expect("details").causes;
    assert_eq!(causes[0].field, ".data.b");
    assert_eq!(causes[0].reason, "FieldManagerConflict");

    // Forced: bob takes b; a stays shared.
    let forced = api
        .patch("ssa", &PatchParams::apply("bob").force(), &Patch::Apply(config(json!({"a": "1", "b": "3"}))))
        .await
        .expect("forced apply");
    assert_eq!(forced.data.as_ref().expect("data")["b"], "3");
    // alice stops applying a and b: a survives (bob owns it too), b is bob's.
    let after = api
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(config(json!({"c": "9"}))))
        .await
        .expect("alice re-applies");
    let data = after.data.expect("data");
    assert_eq!(data, BTreeMap::from([("a".into(), "1".into()), ("b".into(), "3".into()), ("c".into(), "9".into())]));
    // bob stops applying b: nobody else owns it, so it is removed.
    let last = api
        .patch("ssa", &PatchParams::apply("bob"), &Patch::Apply(config(json!({"a": "1"}))))
        .await
        .expect("bob re-applies");
    assert!(!last.data.expect("data").contains_key("b"));
    // An update by another manager takes the field it changed.
    api.patch("ssa", &PatchParams::default(), &Patch::Merge(json!({"data": {"c": "edited"}})))
        .await
        .expect("merge patch");
    let stored = server.get("configmaps", Some("default"), "ssa").expect("stored");
    let updaters: Vec<&str> = stored["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter(|e| e["operation"] == "Update")
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert_eq!(updaters.len(), 1, "{stored}");
    // Apply without a field manager is refused.
    let no_manager = api.patch("ssa", &PatchParams::default(), &Patch::Apply(config(json!({})))).await;
    assert!(no_manager.is_err(), "kube refuses it before sending; the server would answer 422");
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let (_server, client) = setup().await;
    let api: Api<Deployment> = Api::default_namespaced(client);
    let deploy: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
        "status": {"replicas": 7},
    }))
    .expect("deployment");
    let made = api.create(&PostParams::default(), &deploy).await.expect("create");
    assert_eq!(made.metadata.generation, Some(1));
    assert!(made.status.is_none(), "status is dropped on create");
    let st = api
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 1}, "spec": {"replicas": 5}})),
        )
        .await
        .expect("status patch");
    assert_eq!(st.status.as_ref().and_then(|s| s.replicas), Some(1));
    assert_eq!(st.spec.as_ref().and_then(|s| s.replicas), Some(1), "status endpoint ignores spec");
    assert_eq!(st.metadata.generation, Some(1));
    let main = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 9}, "spec": {"replicas": 3}})),
        )
        .await
        .expect("main patch");
    assert_eq!(main.status.as_ref().and_then(|s| s.replicas), Some(1), "main endpoint ignores status");
    assert_eq!(main.metadata.generation, Some(2));
    let labelled = api
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})))
        .await
        .expect("label");
    assert_eq!(labelled.metadata.generation, Some(2), "metadata does not bump generation");
    let fetched = api.get_status("web").await.expect("get status");
    assert_eq!(fetched.status.and_then(|s| s.replicas), Some(1));
}

#[tokio::test]
async fn watcher_sees_adds_modifications_and_deletions() {
    let (_server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    api.create(&PostParams::default(), &cm("pre", &[])).await.expect("pre-existing");
    let mut stream = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut seen_init = Vec::new();
    loop {
        match stream.try_next().await.expect("watch ok").expect("stream open") {
            watcher::Event::InitApply(o) => seen_init.push(o.name_any()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(seen_init, ["pre"]);
    api.create(&PostParams::default(), &cm("new", &[])).await.expect("create");
    api.patch("new", &PatchParams::default(), &Patch::Merge(json!({"data": {"a": "2"}}))).await.expect("patch");
    api.delete("new", &DeleteParams::default()).await.expect("delete");
    let mut got = Vec::new();
    while got.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("event in time")
            .expect("watch ok")
            .expect("stream open");
        match ev {
            watcher::Event::Apply(o) => got.push(format!("apply {} {}", o.name_any(), o.data.unwrap_or_default()["a"])),
            watcher::Event::Delete(o) => got.push(format!("delete {}", o.name_any())),
            _ => {}
        }
    }
    assert_eq!(got, ["apply new 1", "apply new 2", "delete new"]);
}

#[tokio::test]
async fn streaming_list_watcher_gets_the_initial_state() {
    let (_server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    api.create(&PostParams::default(), &cm("s1", &[])).await.expect("create");
    let mut stream = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut names = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("in time")
            .expect("ok")
            .expect("open")
        {
            watcher::Event::InitApply(o) => names.push(o.name_any()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(names, ["s1"]);
}

#[tokio::test]
async fn raw_watch_bookmarks_selector_transitions_and_expiry() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let start = api.list(&ListParams::default()).await.expect("list").metadata.resource_version.expect("rv");
    let params = WatchParams::default().labels("app=web").timeout(10);
    let mut stream = api.watch(&params, &start).await.expect("watch").boxed();
    api.create(&PostParams::default(), &cm("w", &[("app", "db")])).await.expect("create");
    api.patch("w", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})))
        .await
        .expect("into selection");
    api.patch("w", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})))
        .await
        .expect("out of selection");
    let mut kinds = Vec::new();
    let mut bookmark_rv = None;
    while bookmark_rv.is_none() || kinds.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("in time")
            .expect("ok")
            .expect("open")
        {
            WatchEvent::Added(o) => kinds.push(format!("ADDED {}", o.name_any())),
            WatchEvent::Modified(o) => kinds.push(format!("MODIFIED {}", o.name_any())),
            WatchEvent::Deleted(o) => kinds.push(format!("DELETED {}", o.name_any())),
            WatchEvent::Bookmark(b) => bookmark_rv = Some(b.metadata.resource_version),
            WatchEvent::Error(e) => panic!("watch error {e:?}"),
        }
    }
    assert_eq!(kinds, ["ADDED w", "DELETED w"], "selector transitions");
    assert!(bookmark_rv.is_some());

    server.compact();
    let mut expired = api.watch(&WatchParams::default(), &start).await.expect("watch").boxed();
    match tokio::time::timeout(Duration::from_secs(5), expired.try_next()).await.expect("in time").expect("ok") {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

fn owner_ref(owner: &ConfigMap) -> OwnerReference {
    owner.controller_owner_ref(&()).expect("owner has name and uid")
}

#[tokio::test]
async fn garbage_collection_by_owner_uid_and_propagation_policies() {
    let (server, client) = setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let secrets: Api<Secret> = Api::default_namespaced(client);
    let owner = cms.create(&PostParams::default(), &cm("owner", &[])).await.expect("owner");
    let secret = |name: &str, owner: &ConfigMap| Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            owner_references: Some(vec![owner_ref(owner)]),
            ..ObjectMeta::default()
        },
        ..Secret::default()
    };
    secrets.create(&PostParams::default(), &secret("dep", &owner)).await.expect("dependent");
    cms.delete("owner", &DeleteParams::background()).await.expect("delete owner");
    eventually("dependent collected", || server.get("secrets", Some("default"), "dep").is_none()).await;

    let owner = cms.create(&PostParams::default(), &cm("owner2", &[])).await.expect("owner2");
    secrets.create(&PostParams::default(), &secret("kept", &owner)).await.expect("dependent");
    cms.delete("owner2", &DeleteParams::orphan()).await.expect("orphan delete");
    eventually("owner gone", || server.get("configmaps", Some("default"), "owner2").is_none()).await;
    let kept = secrets.get("kept").await.expect("orphaned dependent survives");
    assert!(kept.metadata.owner_references.unwrap_or_default().is_empty());

    let owner = cms.create(&PostParams::default(), &cm("owner3", &[])).await.expect("owner3");
    secrets.create(&PostParams::default(), &secret("fg", &owner)).await.expect("dependent");
    cms.delete("owner3", &DeleteParams::foreground()).await.expect("foreground delete");
    eventually("foreground done", || {
        server.get("secrets", Some("default"), "fg").is_none()
            && server.get("configmaps", Some("default"), "owner3").is_none()
    })
    .await;
}

#[tokio::test]
async fn finalizers_keep_the_object_until_removed() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let mut obj = cm("held", &[]);
    obj.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    let made = api.create(&PostParams::default(), &obj).await.expect("create");
    let deleted = api.delete("held", &DeleteParams::default()).await.expect("delete");
    let pending = deleted.left().expect("object still there");
    assert!(pending.metadata.deletion_timestamp.is_some());
    assert!(server.get("configmaps", Some("default"), "held").is_some());
    let uid = made.uid().expect("uid");
    let waiter = await_condition(api.clone(), "held", conditions::is_deleted(&uid));
    let (pp, unhold) = (PatchParams::default(), Patch::Merge(json!({"metadata": {"finalizers": null}})));
    let remove = api.patch("held", &pp, &unhold);
    let (gone, removed) =
        tokio::time::timeout(Duration::from_secs(5), async { tokio::join!(waiter, remove) }).await.expect("in time");
    removed.expect("remove finalizer");
    gone.expect("deleted");
    assert!(server.get("configmaps", Some("default"), "held").is_none());
}

#[tokio::test]
async fn delete_collection_by_label() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    for (n, l) in [("x1", "gone"), ("x2", "gone"), ("x3", "stay")] {
        api.create(&PostParams::default(), &cm(n, &[("fate", l)])).await.expect("create");
    }
    let out = api
        .delete_collection(&DeleteParams::default(), &ListParams::default().labels("fate=gone"))
        .await
        .expect("deletecollection");
    assert_eq!(out.left().expect("list of deleted").items.len(), 2);
    assert_eq!(server.list("configmaps", Some("default")).len(), 1);
}

#[derive(CustomResource, Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Widget", namespaced)]
#[kube(status = "WidgetStatus", shortname = "wd")]
struct WidgetSpec {
    size: i32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
struct WidgetStatus {
    ready: bool,
}

#[tokio::test]
async fn crd_registration_then_custom_resource_crud() {
    let (server, client) = setup().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch("widgets.example.com", &PatchParams::apply("test").force(), &Patch::Apply(Widget::crd()))
        .await
        .expect("apply CRD");
    let established = await_condition(crds.clone(), "widgets.example.com", conditions::is_crd_established());
    tokio::time::timeout(Duration::from_secs(5), established).await.expect("in time").expect("established");
    assert!(server.serves("widgets.example.com"));

    let disc = Discovery::new(client.clone()).run().await.expect("discovery");
    let (ar, caps) =
        disc.resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget")).expect("widget discovered");
    assert_eq!((ar.plural.as_str(), caps.scope), ("widgets", Scope::Namespaced));

    let widgets: Api<Widget> = Api::default_namespaced(client.clone());
    let w = widgets
        .create(&PostParams::default(), &Widget::new("w1", WidgetSpec { size: 3 }))
        .await
        .expect("create widget");
    assert_eq!(w.metadata.generation, Some(1));
    let st = widgets
        .patch_status(
            "w1",
            &PatchParams::apply("ctl").force(),
            &Patch::Apply(json!({
                "apiVersion": "example.com/v1", "kind": "Widget", "status": {"ready": true}
            })),
        )
        .await
        .expect("status apply");
    assert!(st.status.expect("status").ready);
    let dynamic: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &ar);
    let listed = dynamic.list(&ListParams::default()).await.expect("dynamic list");
    assert_eq!(listed.items[0].data["spec"]["size"], 3);

    crds.delete("widgets.example.com", &DeleteParams::default()).await.expect("delete CRD");
    eventually("CRD gone", || !server.serves("widgets.example.com")).await;
    assert!(server.list("widgets.example.com", None).is_empty());
    assert!(status(widgets.list(&ListParams::default()).await).is_not_found());
}

#[tokio::test]
async fn faults_errors_conflicts_delays_and_dropped_watches() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
    server.faults().fail_next(1, 500, sealops_test_apiserver::Matcher::verb("get"));
    let err = status(api.get("default-nope").await);
    assert_eq!((err.code, err.reason.as_str()), (500, "InternalError"));
    assert!(status(api.get("default-nope").await).is_not_found(), "the fault was used up");

    server.faults().conflict_next_writes(1);
    assert!(status(api.create(&PostParams::default(), &cm("f", &[])).await).is_conflict());
    api.create(&PostParams::default(), &cm("f", &[])).await.expect("second try passes");

    server.faults().delay(Duration::from_millis(300), sealops_test_apiserver::Matcher::verb("list"));
    let t = Instant::now();
    api.list(&ListParams::default()).await.expect("slow list");
    assert!(t.elapsed() >= Duration::from_millis(300));
    server.faults().clear();

    server.faults().drop_watches_after_events(1);
    api.create(&PostParams::default(), &cm("g", &[])).await.expect("create");
    let before = server.count_requests(|r| r.verb == "watch");
    let mut stream = watcher(api.clone(), watcher::Config::default()).default_backoff().applied_objects().boxed();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await.expect("in time");
    assert!(first.expect("ok").is_some());
    api.create(&PostParams::default(), &cm("h", &[])).await.expect("create");
    api.create(&PostParams::default(), &cm("i", &[])).await.expect("create");
    let mut names = Vec::new();
    while !names.contains(&"i".to_string()) {
        let o = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .expect("in time")
            .expect("ok")
            .expect("open");
        names.push(o.name_any());
    }
    assert!(server.count_requests(|r| r.verb == "watch") - before >= 2, "the watch was re-established");
    assert!(server.faults().injected() >= 4);
}

#[tokio::test]
async fn lease_create_and_update_with_concurrency() {
    let (_server, client) = setup().await;
    let leases: Api<Lease> = Api::namespaced(client, "kube-system");
    let lease = Lease {
        metadata: ObjectMeta { name: Some("sealops-leader".into()), ..ObjectMeta::default() },
        spec: Some(LeaseSpec {
            holder_identity: Some("pod-a".into()),
            lease_duration_seconds: Some(15),
            ..LeaseSpec::default()
        }),
    };
    let made = leases.create(&PostParams::default(), &lease).await.expect("create lease");
    let mut taken = made.clone();
    taken.spec.as_mut().expect("spec").holder_identity = Some("pod-b".into());
    let updated = leases.replace("sealops-leader", &PostParams::default(), &taken).await.expect("update");
    assert_eq!(updated.spec.and_then(|s| s.holder_identity).as_deref(), Some("pod-b"));
    let mut stale = made;
    stale.spec.as_mut().expect("spec").holder_identity = Some("pod-c".into());
    assert!(status(leases.replace("sealops-leader", &PostParams::default(), &stale).await).is_conflict());
}

#[tokio::test]
async fn events_recorder_creates_then_patches_a_series() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let obj = api.create(&PostParams::default(), &cm("evented", &[])).await.expect("create");
    let recorder = Recorder::new(client, Reporter { controller: "sealops".into(), instance: None });
    let ev = Event {
        type_: EventType::Normal,
        reason: "Unsealed".into(),
        note: Some("done".into()),
        action: "Reconcile".into(),
        secondary: None,
    };
    recorder.publish(&ev, &obj.object_ref(&())).await.expect("first publish creates");
    recorder.publish(&ev, &obj.object_ref(&())).await.expect("second publish patches");
    let stored = server.list("events.events.k8s.io", Some("default"));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["reason"], "Unsealed");
    assert_eq!(stored[0]["series"]["count"], 2);
}

#[tokio::test]
async fn controller_reconciles_and_owns_children() {
    use kube::runtime::controller::{Action, Controller};
    use std::sync::Arc;

    let (server, client) = setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &cm("src", &[])).await.expect("create");

    async fn reconcile(obj: Arc<ConfigMap>, secrets: Arc<Api<Secret>>) -> Result<Action, kube::Error> {
        let child = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": format!("{}-copy", obj.name_any()), "ownerReferences": [obj.controller_owner_ref(&())]},
            "stringData": {"a": "1"},
        });
        secrets
            .patch(&format!("{}-copy", obj.name_any()), &PatchParams::apply("ctl").force(), &Patch::Apply(child))
            .await?;
        Ok(Action::await_change())
    }
    fn error_policy(_: Arc<ConfigMap>, _: &kube::Error, _: Arc<Api<Secret>>) -> Action {
        Action::requeue(Duration::from_secs(1))
    }
    let ctl = Controller::new(cms.clone(), watcher::Config::default())
        .owns(secrets.clone(), watcher::Config::default())
        .run(reconcile, error_policy, Arc::new(secrets))
        .for_each(|_| async {});
    let task = tokio::spawn(ctl);
    eventually("child created", || server.get("secrets", Some("default"), "src-copy").is_some()).await;
    cms.delete("src", &DeleteParams::default()).await.expect("delete parent");
    eventually("child collected", || server.get("secrets", Some("default"), "src-copy").is_none()).await;
    task.abort();
}

#[tokio::test]
async fn namespace_deletion_takes_its_objects() {
    let (server, client) = setup().await;
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &Namespace {
            metadata: ObjectMeta { name: Some("team".into()), ..ObjectMeta::default() },
            ..Namespace::default()
        },
    )
    .await
    .expect("namespace");
    let api: Api<ConfigMap> = Api::namespaced(client, "team");
    api.create(&PostParams::default(), &cm("inside", &[])).await.expect("create inside");
    nss.delete("team", &DeleteParams::default()).await.expect("delete namespace");
    eventually("namespace gone", || server.get("namespaces", None, "team").is_none()).await;
    assert!(server.list("configmaps", Some("team")).is_empty());
}

#[tokio::test]
async fn shutdown_ends_watches() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let mut stream = api.watch(&WatchParams::default(), "0").await.expect("watch").boxed();
    server.shutdown().await;
    let end =
        tokio::time::timeout(Duration::from_secs(5), async { while let Ok(Some(_)) = stream.try_next().await {} })
            .await;
    assert!(end.is_ok(), "the stream ended");
}

#[tokio::test]
async fn service_proxy_forwards_to_a_registered_endpoint() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, client) = setup().await;
    let path = "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:/proxy/v1/cert.pem";
    // Without a registered endpoint the proxy answers 503, which kube's default retry policy
    // retries for minutes: not exercised here.
    let endpoint = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = endpoint.local_addr().expect("addr");
    let seen = tokio::spawn(async move {
        let (mut sock, _) = endpoint.accept().await.expect("accept");
        let mut buf = vec![0u8; 4096];
        let n = sock.read(&mut buf).await.expect("read");
        let body = "-----BEGIN CERTIFICATE-----\n";
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-pem-file\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(reply.as_bytes()).await.expect("write");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    server.proxy_service("kube-system", "sealed-secrets-controller", addr);
    let text = client.request_text(http::Request::get(path).body(Vec::new()).expect("request")).await.expect("proxied");
    assert_eq!(text, "-----BEGIN CERTIFICATE-----\n");
    let request = seen.await.expect("join");
    assert!(request.starts_with("GET /v1/cert.pem HTTP/1.1"), "{request}");
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let (server, client) = setup().await;
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let params = PostParams { dry_run: true, ..PostParams::default() };
    let answered = api.create(&params, &cm("dry", &[])).await.expect("dry-run create");
    assert_eq!(answered.name_any(), "dry");
    assert!(server.get("configmaps", Some("default"), "dry").is_none());
    api.create(&PostParams::default(), &cm("wet", &[])).await.expect("create");
    let before = server.resource_version();
    let dry_patch = PatchParams { dry_run: true, ..PatchParams::default() };
    let patched = api.patch("wet", &dry_patch, &Patch::Merge(json!({"data": {"a": "9"}}))).await.expect("dry patch");
    assert_eq!(patched.data.expect("data")["a"], "9");
    assert_eq!(server.resource_version(), before);
    assert_eq!(server.get("configmaps", Some("default"), "wet").expect("stored")["data"]["a"], "1");
}
