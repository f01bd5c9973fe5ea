//! The builtin transformers kustomize runs for a kustomization's fields, each a function over
//! the resources of one kustomization level. Owner: the transform work package.

pub mod annotations;
pub mod images;
pub mod labels;
pub mod namespace;
pub mod prefix_suffix;
pub mod replicas;

#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error("{object}: {field}: {message}")]
    Field { object: String, field: String, message: String },
}

impl TransformError {
    pub fn kind(&self) -> &'static str {
        match self {
            TransformError::Field { .. } => "transform",
        }
    }
}
