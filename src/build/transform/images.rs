//! `images:`.
//!
//! Kustomize's ImageTagTransformer (v5.5, `api/filters/imagetag`). Each entry runs two passes
//! over every object except CustomResourceDefinitions, exactly as kustomize does:
//! 1. the legacy pass: every `containers` or `initContainers` sequence anywhere in the object
//!    (any kind, any depth; `ephemeralContainers` are not included), each element's `image`;
//! 2. the builtin `images` field specs (`spec/containers[]/image`, `spec/initContainers[]/image`
//!    and the same under `spec/template/spec`), which revisit what pass 1 already changed —
//!    harmless for name/tag/digest, but a `tagSuffix` is appended twice there, as in kustomize.
//!
//! An image matches an entry when it is the entry's `name` (taken as a regular expression, as
//! kustomize does) followed by an optional `:tag` and an optional `@sha256:digest`. The name
//! part of an image ends at the first `:` or `@` after its first `/`, so a registry port
//! (`registry:5000/app:1.0`) stays in the name.

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::TransformError;
use crate::build::fieldspec::{self, IMAGES, WalkError};
use crate::manifest::Resource;

/// One `images:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    /// Appended to the existing tag when neither `newTag` nor `digest` is set.
    pub tag_suffix: Option<String>,
}

pub fn apply(resources: &mut [Resource], images: &[ImageSpec]) -> Result<(), TransformError> {
    if images.is_empty() {
        return Ok(());
    }
    let specs = fieldspec::from_rows(IMAGES);
    // The legacy pass only rewrites image strings, never keys or sequence lengths, so the
    // `containers` sequences it visits are found once for all entries instead of a walk of each
    // whole object per entry. The entries still run one after the other over every object, as
    // in kustomize (and one compiled pattern is alive at a time).
    let sites: Vec<Vec<Site>> = resources
        .iter()
        .map(|res| {
            let mut sites = Vec::new();
            if res.kind() != "CustomResourceDefinition" {
                for (i, (key, value)) in res.object.iter().enumerate() {
                    find_sites(key, key, value, &mut vec![i], &mut sites);
                }
            }
            sites
        })
        .collect();
    for image in images {
        let updater = Updater::new(image)?;
        for (res, sites) in resources.iter_mut().zip(&sites) {
            if res.kind() == "CustomResourceDefinition" {
                continue;
            }
            for site in sites {
                let failed = match site.resolve(&mut res.object) {
                    Some(Value::Array(items)) => update_containers(&site.key, items, &updater).err(),
                    _ => None,
                };
                if let Some(e) = failed {
                    return Err(TransformError::Field {
                        object: fieldspec::describe(res),
                        field: site.top.clone(),
                        message: e.to_string(),
                    });
                }
            }
            for spec in &specs {
                fieldspec::apply_spec(&mut res.object, spec, None, &mut |v| updater.set(v))
                    .map_err(|e| TransformError::at(res, &spec.path, e))?;
            }
        }
    }
    Ok(())
}

/// A `containers`/`initContainers` sequence found by the legacy pass: the positions leading to
/// it (map entry or sequence index, from the object's top level), the top-level field it is
/// under and its own key (both for error messages).
struct Site {
    path: Vec<usize>,
    top: String,
    key: String,
}

impl Site {
    fn resolve<'v>(&self, object: &'v mut serde_json::Map<String, Value>) -> Option<&'v mut Value> {
        let (first, rest) = self.path.split_first()?;
        let mut value = object.values_mut().nth(*first)?;
        for &i in rest {
            value = match value {
                Value::Object(map) => map.values_mut().nth(i)?,
                Value::Array(items) => items.get_mut(i)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

/// Kustomize's `findFieldsFilter` order: depth first, children before the field itself; every
/// `containers` or `initContainers` sequence at any depth.
fn find_sites(top: &str, key: &str, value: &Value, path: &mut Vec<usize>, sites: &mut Vec<Site>) {
    match value {
        Value::Object(map) => {
            for (i, (k, v)) in map.iter().enumerate() {
                path.push(i);
                find_sites(top, k, v, path, sites);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i);
                find_sites(top, "", item, path, sites);
                path.pop();
            }
        }
        _ => return,
    }
    if (key == "containers" || key == "initContainers") && value.is_array() {
        sites.push(Site { path: path.clone(), top: top.to_owned(), key: key.to_owned() });
    }
}

/// The legacy pass at one `containers` sequence: each element's `image`.
fn update_containers(key: &str, items: &mut [Value], updater: &Updater) -> Result<(), WalkError> {
    for item in items.iter_mut() {
        match item {
            Value::Object(container) => {
                if let Some(image) = container.get_mut("image") {
                    updater.set(image)?;
                }
            }
            Value::Null => {}
            _ => {
                return Err(WalkError::Set(format!("expected each element of `{key}` to be a mapping")));
            }
        }
    }
    Ok(())
}

struct Updater<'a> {
    spec: &'a ImageSpec,
    pattern: Regex,
}

impl<'a> Updater<'a> {
    fn new(spec: &'a ImageSpec) -> Result<Self, TransformError> {
        // Kustomize splices the name into the pattern unescaped (api/internal/image).
        let source = format!("^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$", spec.name);
        let pattern = Regex::new(&source).map_err(|e| TransformError::Config {
            field: format!("images[name={}]", spec.name),
            message: format!("the name is not a valid pattern: {e}"),
        })?;
        Ok(Updater { spec, pattern })
    }

    fn set(&self, value: &mut Value) -> Result<(), WalkError> {
        let current = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => return Ok(()),
            Value::Array(_) | Value::Object(_) => {
                return Err(WalkError::Set("image: expected a scalar".to_owned()));
            }
        };
        if !self.pattern.is_match(&current) {
            return Ok(());
        }
        let (name, tag, digest) = split(&current);
        let mut name = name.to_owned();
        let mut tag = tag.to_owned();
        let mut digest = digest.to_owned();
        let nonempty = |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(new_name) = nonempty(&self.spec.new_name) {
            name = new_name;
        }
        match (nonempty(&self.spec.new_tag), nonempty(&self.spec.digest), nonempty(&self.spec.tag_suffix)) {
            (Some(t), Some(d), _) => {
                tag = t;
                digest = d;
            }
            (Some(t), None, _) => {
                tag = t;
                digest.clear();
            }
            (None, Some(d), _) => {
                tag.clear();
                digest = d;
            }
            (None, None, Some(suffix)) => {
                tag.push_str(&suffix);
                digest.clear();
            }
            (None, None, None) => {}
        }
        if !tag.is_empty() {
            name.push(':');
            name.push_str(&tag);
        }
        if !digest.is_empty() {
            name.push('@');
            name.push_str(&digest);
        }
        *value = Value::String(name);
        Ok(())
    }
}

/// Kustomize's `image.Split`: `(name, tag, digest)`, looking for `:`/`@` only after the first
/// `/` so that a registry port stays in the name.
pub fn split(image: &str) -> (&str, &str, &str) {
    let offset = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[offset..];
    let at = search.find('@').map(|i| i + offset);
    let colon = search.find(':').map(|i| i + offset);
    match (colon, at) {
        (None, None) => (image, "", ""),
        (c, Some(a)) if c.is_none_or(|c| a < c) => (&image[..a], "", &image[a + 1..]),
        (Some(c), Some(a)) => (&image[..c], &image[c + 1..a], &image[a + 1..]),
        (Some(c), None) => (&image[..c], &image[c + 1..], ""),
        (None, Some(_)) => (image, "", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::transform::testutil::{assert_same, parse};

    fn image(
        name: &str,
        new_name: Option<&str>,
        new_tag: Option<&str>,
        digest: Option<&str>,
        suffix: Option<&str>,
    ) -> ImageSpec {
        ImageSpec {
            name: name.to_owned(),
            new_name: new_name.map(str::to_owned),
            new_tag: new_tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
            tag_suffix: suffix.map(str::to_owned),
        }
    }

    // images/kustomization.yaml:
    //   images:
    //   - name: nginx
    //     newTag: "1.25"
    //   - name: registry.local:5000/team/api
    //     newName: registry.local:5000/team/api-v2
    //     digest: sha256:0123456789abcdef
    //   - name: busybox
    //     tagSuffix: -debug
    //   - name: redis
    //     newName: mirror.io/redis
    //   - name: pinned
    //     newTag: v2
    //     digest: sha256:aaaa
    //   resources:
    //   - res.yaml
    const IMAGES_INPUT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: app
        image: nginx:1.19@sha256:deadbeef
      - name: api
        image: registry.local:5000/team/api:3.1
      - name: cache
        image: redis
      - name: other
        image: nginx-extra:1.0
      - name: pin
        image: pinned@sha256:bbbb
      ephemeralContainers:
      - name: dbg
        image: nginx
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - name: b
    image: busybox
---
apiVersion: example.com/v1
kind: Runner
metadata:
  name: r
spec:
  deep:
    containers:
    - name: x
      image: nginx
    - name: "y"
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: runners.example.com
spec:
  containers:
  - image: nginx
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: c
            image: busybox:latest
"#;

    // `kubectl kustomize images` (kustomize v5.5.0), scratch tree under /tmp/xform-scratch
    const IMAGES_EXPECTED: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: runners.example.com
spec:
  containers:
  - image: nginx
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - image: nginx:1.25
        name: app
      - image: registry.local:5000/team/api-v2@sha256:0123456789abcdef
        name: api
      - image: mirror.io/redis
        name: cache
      - image: nginx-extra:1.0
        name: other
      - image: pinned:v2@sha256:aaaa
        name: pin
      ephemeralContainers:
      - image: nginx
        name: dbg
      initContainers:
      - image: busybox:1.36-debug-debug
        name: init
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - image: busybox:latest-debug
            name: c
---
apiVersion: example.com/v1
kind: Runner
metadata:
  name: r
spec:
  deep:
    containers:
    - image: nginx:1.25
      name: x
    - name: "y"
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - image: busybox:-debug-debug
    name: b
"#;

    /// Tags replacing a tag+digest, a registry with a port renamed and pinned by digest, a
    /// `tagSuffix` (applied twice in pod templates, as kustomize does), containers deep in a
    /// custom resource, CRDs and ephemeralContainers untouched, `nginx-extra` not matched.
    #[test]
    fn images_match_kubectl_kustomize() {
        let mut resources = parse(IMAGES_INPUT);
        let images = [
            image("nginx", None, Some("1.25"), None, None),
            image(
                "registry.local:5000/team/api",
                Some("registry.local:5000/team/api-v2"),
                None,
                Some("sha256:0123456789abcdef"),
                None,
            ),
            image("busybox", None, None, None, Some("-debug")),
            image("redis", Some("mirror.io/redis"), None, None, None),
            image("pinned", None, Some("v2"), Some("sha256:aaaa"), None),
        ];
        apply(&mut resources, &images).unwrap();
        assert_same(&resources, IMAGES_EXPECTED);
    }

    #[test]
    fn split_keeps_registry_port_in_the_name() {
        assert_eq!(split("registry:5000/app:1.0"), ("registry:5000/app", "1.0", ""));
        assert_eq!(split("app@sha256:abc"), ("app", "", "sha256:abc"));
        assert_eq!(split("app:1@sha256:abc"), ("app", "1", "sha256:abc"));
        assert_eq!(split("registry:5000/app"), ("registry:5000/app", "", ""));
    }
}
