//! `labels:` and `commonLabels:`.
//!
//! Kustomize's LabelTransformer (v5.5) with the field specs `kusttarget_configplugin.go`
//! chooses: an entry's own `fields`, then with `includeSelectors` the whole `commonLabels`
//! set (selectors of Services, workloads, PDBs, NetworkPolicies, plus templates), otherwise
//! the `templateLabels` set if `includeTemplates`, and always `metadata/labels`.
//! `commonLabels:` is an entry with `includeSelectors: true`.

use super::{TransformError, set_entry};
use crate::build::fieldspec::{self, FieldSpec, Leaf, TEMPLATE_LABELS};
use crate::manifest::Resource;

/// One `labels:` entry's switches (`commonLabels:` is `include_selectors: true`).
#[derive(Clone, Debug, Default)]
pub struct LabelOptions {
    pub include_selectors: bool,
    pub include_templates: bool,
    pub fields: Vec<FieldSpec>,
}

impl LabelOptions {
    /// The field specs this entry writes, merged as kustomize merges them.
    pub fn field_specs(&self) -> Result<Vec<FieldSpec>, TransformError> {
        let config = |e: fieldspec::WalkError| TransformError::Config {
            field: "labels.fields".to_owned(),
            message: e.to_string(),
        };
        let mut specs = self.fields.clone();
        if self.include_selectors {
            for spec in fieldspec::common_labels() {
                fieldspec::merge_one(&mut specs, spec).map_err(config)?;
            }
        } else {
            if self.include_templates {
                for spec in fieldspec::from_rows(TEMPLATE_LABELS) {
                    fieldspec::merge_one(&mut specs, spec).map_err(config)?;
                }
            }
            let metadata = FieldSpec::builtin("", "", "", "metadata/labels", true);
            fieldspec::merge_one(&mut specs, metadata).map_err(config)?;
        }
        Ok(specs)
    }
}

pub fn apply(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    options: &LabelOptions,
) -> Result<(), TransformError> {
    if pairs.is_empty() {
        return Ok(());
    }
    let specs = options.field_specs()?;
    set_pairs(resources, pairs, &specs)
}

/// Writes the pairs (in key order, as kustomize does) at every field spec of every object.
pub(crate) fn set_pairs(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) -> Result<(), TransformError> {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for res in resources.iter_mut() {
        for (key, value) in &sorted {
            for spec in specs {
                fieldspec::apply_spec(&mut res.object, spec, Some(Leaf::Map), &mut |v| set_entry(v, key, value))
                    .map_err(|e| TransformError::at(res, &spec.path, e))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::transform::annotations;
    use crate::build::transform::testutil::{assert_same, parse};

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    // labels/kustomization.yaml:
    //   commonLabels:
    //     team: core
    //   labels:
    //   - pairs:
    //       tier: "1"
    //     includeSelectors: false
    //   - pairs:
    //       tmpl: "yes"
    //     includeTemplates: true
    //   - pairs:
    //       custom: x
    //     fields:
    //     - path: spec/custom/labels
    //       kind: Widget
    //       create: true
    //   commonAnnotations:
    //     owner: ops
    //   resources:
    //   - res.yaml
    const LABELS_INPUT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm:
              topologyKey: x
              labelSelector:
                matchLabels:
                  app: web
      containers:
      - name: app
        image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: ext
spec:
  type: ExternalName
  externalName: example.com
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
  volumeClaimTemplates:
  - metadata:
      name: data
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: c
            image: busybox
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pdb
spec:
  selector:
    matchLabels:
      app: web
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    - ipBlock:
        cidr: 10.0.0.0/8
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec: {}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: job
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox
"#;

    // `kubectl kustomize labels` (kustomize v5.5.0), scratch tree under /tmp/xform-scratch
    const LABELS_EXPECTED: &str = r#"
apiVersion: v1
kind: Service
metadata:
  annotations:
    owner: ops
  labels:
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: ext
spec:
  externalName: example.com
  selector:
    team: core
  type: ExternalName
---
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    owner: ops
  labels:
    app: web
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: web
spec:
  selector:
    matchLabels:
      app: web
      team: core
  template:
    metadata:
      annotations:
        owner: ops
      labels:
        app: web
        team: core
        tmpl: "yes"
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - podAffinityTerm:
              labelSelector:
                matchLabels:
                  app: web
                  team: core
              topologyKey: x
            weight: 1
      containers:
      - image: nginx
        name: app
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  annotations:
    owner: ops
  labels:
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: db
spec:
  selector:
    matchLabels:
      app: db
      team: core
  template:
    metadata:
      annotations:
        owner: ops
      labels:
        app: db
        team: core
        tmpl: "yes"
  volumeClaimTemplates:
  - metadata:
      labels:
        team: core
        tmpl: "yes"
      name: data
---
apiVersion: batch/v1
kind: CronJob
metadata:
  annotations:
    owner: ops
  labels:
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: cron
spec:
  jobTemplate:
    metadata:
      annotations:
        owner: ops
      labels:
        team: core
        tmpl: "yes"
    spec:
      template:
        metadata:
          annotations:
            owner: ops
          labels:
            team: core
            tmpl: "yes"
        spec:
          containers:
          - image: busybox
            name: c
  schedule: '* * * * *'
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  annotations:
    owner: ops
  labels:
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: pdb
spec:
  selector:
    matchLabels:
      app: web
      team: core
---
apiVersion: batch/v1
kind: Job
metadata:
  annotations:
    owner: ops
  labels:
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: job
spec:
  template:
    metadata:
      annotations:
        owner: ops
      labels:
        team: core
        tmpl: "yes"
    spec:
      containers:
      - image: busybox
        name: c
---
apiVersion: example.com/v1
kind: Widget
metadata:
  annotations:
    owner: ops
  labels:
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: w
spec:
  custom:
    labels:
      custom: x
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  annotations:
    owner: ops
  labels:
    custom: x
    team: core
    tier: "1"
    tmpl: "yes"
  name: np
spec:
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
          team: core
    - ipBlock:
        cidr: 10.0.0.0/8
  podSelector: {}
"#;

    /// `labels` without selectors (metadata only), with templates, with custom `fields`, then
    /// `commonLabels` (selectors: created for the ExternalName Service, not created where
    /// kustomize's spec says `create: false` — Job selector, empty NetworkPolicy podSelector),
    /// then `commonAnnotations` (templates, not volume claim templates).
    #[test]
    fn labels_and_annotations_match_kubectl_kustomize() {
        let mut resources = parse(LABELS_INPUT);
        apply(&mut resources, &pairs(&[("tier", "1")]), &LabelOptions::default()).unwrap();
        let templates = LabelOptions { include_templates: true, ..LabelOptions::default() };
        apply(&mut resources, &pairs(&[("tmpl", "yes")]), &templates).unwrap();
        let custom = LabelOptions {
            fields: vec![FieldSpec {
                kind: Some("Widget".into()),
                path: "spec/custom/labels".into(),
                create: true,
                ..FieldSpec::default()
            }],
            ..LabelOptions::default()
        };
        apply(&mut resources, &pairs(&[("custom", "x")]), &custom).unwrap();
        let common = LabelOptions { include_selectors: true, ..LabelOptions::default() };
        apply(&mut resources, &pairs(&[("team", "core")]), &common).unwrap();
        annotations::apply(&mut resources, &pairs(&[("owner", "ops")])).unwrap();
        assert_same(&resources, LABELS_EXPECTED);
    }

    #[test]
    fn conflicting_custom_field_spec_is_an_error() {
        let options = LabelOptions {
            fields: vec![FieldSpec { path: "metadata/labels".into(), ..FieldSpec::default() }],
            ..LabelOptions::default()
        };
        let err = options.field_specs().unwrap_err();
        assert_eq!(err.kind(), "transform_config");
    }
}
