//! The kustomization file model (`kustomize.config.k8s.io/v1beta1` Kustomization and
//! `v1alpha1` Component); fields the engine does not implement are errors naming them.
//! Owner: the core work package.
