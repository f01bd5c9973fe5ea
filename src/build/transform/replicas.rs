//! `replicas:`.
//!
//! Kustomize's ReplicaCountTransformer (v5.5): each entry sets `spec/replicas` (created if
//! missing) on the Deployments, StatefulSets, ReplicaSets and ReplicationControllers whose
//! current *or any previous* name is the entry's name — so an overlay may name the object
//! as its base does, before a prefix was added. An entry that matches nothing is an error.

use serde::Deserialize;
use serde_json::Value;

use super::{TransformError, set_scalar};
use crate::build::fieldspec::{self, Leaf, REPLICAS};
use crate::build::nameref;
use crate::manifest::Resource;

/// One `replicas:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSpec {
    pub name: String,
    pub count: i64,
}

pub fn apply(resources: &mut [Resource], replicas: &[ReplicaSpec]) -> Result<(), TransformError> {
    let specs = fieldspec::from_rows(REPLICAS);
    for replica in replicas {
        let mut found = false;
        for spec in &specs {
            for res in resources.iter_mut() {
                let (group, version) = fieldspec::object_group_version(&res.object);
                let (group, version) = (group.to_owned(), version.to_owned());
                let named = nameref::all_ids(res)
                    .iter()
                    .any(|id| id.name == replica.name && spec.selects(&group, &version, &id.kind));
                if !named {
                    continue;
                }
                found = true;
                fieldspec::apply_spec(&mut res.object, spec, Some(Leaf::Scalar), &mut |v| {
                    set_scalar(v, Value::from(replica.count))
                })
                .map_err(|e| TransformError::at(res, &spec.path, e))?;
            }
        }
        if !found {
            let kinds: Vec<&str> = REPLICAS.iter().map(|row| row.2).collect();
            return Err(TransformError::Config {
                field: format!("replicas[name={}]", replica.name),
                message: format!("no object with this name among the kinds {}", kinds.join(", ")),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::transform::prefix_suffix;
    use crate::build::transform::testutil::{assert_same, parse};

    // rep/base/kustomization.yaml:
    //   namePrefix: base-
    //   resources:
    //   - res.yaml
    const REP_BASE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
"#;

    // rep/overlay/kustomization.yaml:
    //   namePrefix: prod-
    //   resources:
    //   - ../base
    //   replicas:
    //   - name: web
    //     count: 5
    //   - name: base-db
    //     count: 3
    // `kubectl kustomize rep/overlay` (kustomize v5.5.0), scratch tree under /tmp/xform-scratch
    const REP_EXPECTED: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: prod-base-web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: prod-base-web
spec:
  replicas: 5
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: prod-base-db
spec:
  replicas: 3
"#;

    /// An overlay names one Deployment by its name before any prefix and a StatefulSet by its
    /// base-level name; a same-named ConfigMap is not touched; `replicas` is created.
    #[test]
    fn replicas_match_kubectl_kustomize() {
        let mut resources = parse(REP_BASE);
        prefix_suffix::apply(&mut resources, "base-", "").unwrap();
        prefix_suffix::apply(&mut resources, "prod-", "").unwrap();
        let replicas = [ReplicaSpec { name: "web".into(), count: 5 }, ReplicaSpec { name: "base-db".into(), count: 3 }];
        apply(&mut resources, &replicas).unwrap();
        assert_same(&resources, REP_EXPECTED);
    }

    /// `kubectl kustomize` fails with "resource with name nothing does not match a config"
    /// for an entry naming no workload (tree /tmp/xform-scratch/rep/bad).
    #[test]
    fn unmatched_entry_is_an_error() {
        let mut resources = parse(REP_BASE);
        let err = apply(&mut resources, &[ReplicaSpec { name: "nothing".into(), count: 2 }]);
        assert_eq!(err.unwrap_err().kind(), "transform_config");
    }
}
