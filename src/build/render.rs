//! The build itself: accumulate resources through bases, overlays and components, run
//! generators and transformers in kustomize's order, hash suffixes and name references at the
//! end, then kustomize's output order. Owner: the core work package.
