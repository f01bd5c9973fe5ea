//! `commonAnnotations:`.
//!
//! Kustomize's AnnotationsTransformer (v5.5) with the builtin `commonAnnotations` field specs:
//! `metadata/annotations` of every object plus the pod templates of workloads and the job
//! templates of CronJobs (not StatefulSet volume claim templates, unlike labels).

use super::TransformError;
use super::labels::set_pairs;
use crate::build::fieldspec::{self, COMMON_ANNOTATIONS};
use crate::manifest::Resource;

pub fn apply(resources: &mut [Resource], pairs: &[(String, String)]) -> Result<(), TransformError> {
    if pairs.is_empty() {
        return Ok(());
    }
    set_pairs(resources, pairs, &fieldspec::from_rows(COMMON_ANNOTATIONS))
}
