//! The custom resources sealops serves, as Rust types, and the CRDs generated from them.
//!
//! The API groups, versions, names and schemas match upstream's so that existing manifests apply
//! unchanged (`shared/ARCHITECTURE.md`, decision "API groups"): every object upstream's CRD admits,
//! ours admits too (`tests/it/crds.rs` checks this against copies of upstream's CRDs). `crds/` holds
//! the YAML written by `cargo run --bin crdgen`; a test fails when it is stale.

// kube's `printcolumn(name = …, type_ = …, json_path = …)` repeats the same keys in each
// column; clippy reads them as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{CustomResourceDefinition, JSON};
use kube::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod git_repository;
pub mod kustomization;
pub mod sealed_secret;

pub use git_repository::{GitRepository, GitRepositorySpec, GitRepositoryStatus};
pub use kustomization::{Kustomization, KustomizationSpec, KustomizationStatus};
pub use sealed_secret::{SealedSecret, SealedSecretSpec, SealedSecretStatus};

/// Go `time.Duration` strings as Flux's CRDs accept them (`metav1.Duration` kubebuilder pattern).
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// The same without hours: GitRepository `spec.timeout` (flux.md §1.4).
pub const DURATION_PATTERN_NO_HOURS: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$";

/// A reference to an object in the same namespace (Flux `meta.LocalObjectReference`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct LocalObjectReference {
    /// Name of the referent.
    pub name: String,
}

/// Errors of CRD generation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The CRD could not be rendered as YAML.
    #[error("cannot render the CRD {crd} as YAML: {message}")]
    Render {
        /// `metadata.name` of the CRD.
        crd: String,
        /// The serializer's message.
        message: String,
    },
}

impl Error {
    /// A stable identifier for metrics and event reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Render { .. } => "crd_render",
        }
    }
}

/// One generated CRD and the file it is kept in under `crds/`.
pub struct GeneratedCrd {
    /// File name under `crds/`: `<group>_<plural>.yaml`, as controller-gen names them.
    pub file_name: String,
    /// The definition.
    pub crd: CustomResourceDefinition,
}

/// Every CRD sealops serves, in a fixed order.
pub fn crds() -> Vec<GeneratedCrd> {
    [SealedSecret::crd(), flux(GitRepository::crd()), flux(Kustomization::crd())]
        .into_iter()
        .map(with_list_kind)
        .map(|crd| GeneratedCrd { file_name: format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural), crd })
        .collect()
}

/// kube leaves `listKind` to the apiserver's default (`<kind>List`); upstream spells it out.
fn with_list_kind(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    if crd.spec.names.list_kind.is_none() {
        crd.spec.names.list_kind = Some(format!("{}List", crd.spec.names.kind));
    }
    crd
}

/// Two things of Flux's CRDs kube's derive cannot express:
/// * the status structs default `observedGeneration` to -1 (`+kubebuilder:default` on the
///   `status` property itself);
/// * `spec` is optional at the top level (Go `Spec` has no `+required`), while kube always
///   requires it. Dropping the requirement keeps the API as permissive as upstream's; an object
///   without `spec` is still refused by our Rust types when read.
fn flux(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    let default = serde_json::json!({"observedGeneration": -1});
    for version in &mut crd.spec.versions {
        let Some(root) = version.schema.as_mut().and_then(|s| s.open_api_v3_schema.as_mut()) else { continue };
        if let Some(required) = root.required.as_mut() {
            required.retain(|field| field != "spec");
        }
        if root.required.as_ref().is_some_and(Vec::is_empty) {
            root.required = None;
        }
        if let Some(status) = root.properties.as_mut().and_then(|props| props.get_mut("status")) {
            status.default = Some(JSON(default.clone()));
        }
    }
    crd
}

/// Renders one CRD the way `crds/` stores it: a header naming the generator, then YAML.
pub fn render(generated: &GeneratedCrd) -> Result<String, Error> {
    let name = generated.crd.metadata.name.clone().unwrap_or_default();
    let body =
        serde_saphyr::to_string(&generated.crd).map_err(|e| Error::Render { crd: name, message: e.to_string() })?;
    Ok(format!("# Generated from src/k8s/crd by `cargo run --bin crdgen`; do not edit.\n---\n{body}"))
}

/// `crds/kustomization.yaml`, so `deploy/` can include the CRDs as a kustomize resource (a
/// directory outside a kustomization root is only allowed when it is a kustomization itself).
pub fn render_kustomization(all: &[GeneratedCrd]) -> String {
    let mut out = String::from(
        "# Generated from src/k8s/crd by `cargo run --bin crdgen`; do not edit.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for generated in all {
        out.push_str("  - ");
        out.push_str(&generated.file_name);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_scope_match_upstream() {
        let all = crds();
        let files: Vec<&str> = all.iter().map(|c| c.file_name.as_str()).collect();
        assert_eq!(
            files,
            [
                "bitnami.com_sealedsecrets.yaml",
                "source.toolkit.fluxcd.io_gitrepositories.yaml",
                "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
            ]
        );
        for generated in &all {
            assert_eq!(generated.crd.spec.scope, "Namespaced");
            assert_eq!(generated.crd.spec.versions.len(), 1);
            let version = &generated.crd.spec.versions[0];
            assert!(version.served && version.storage);
        }
        let ks = &all[2].crd.spec.names;
        assert_eq!(ks.short_names.as_deref(), Some(&["ks".to_owned()][..]));
        let gitrepo = &all[1].crd.spec.names;
        assert_eq!(gitrepo.short_names.as_deref(), Some(&["gitrepo".to_owned()][..]));
    }

    #[test]
    fn flux_status_defaults_observed_generation() {
        let all = crds();
        let status = |i: usize| {
            let schema = all[i].crd.spec.versions[0].schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref());
            schema.and_then(|s| s.properties.as_ref()).and_then(|p| p.get("status")).and_then(|s| s.default.clone())
        };
        assert_eq!(status(1).map(|d| d.0), Some(serde_json::json!({"observedGeneration": -1})));
        assert_eq!(status(0), None, "upstream's SealedSecret status has no default");
    }
}
