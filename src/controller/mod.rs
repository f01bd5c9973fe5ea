//! Reconcilers run by the daemon (`shared/ARCHITECTURE.md` "controller"). Each one is a kube-rs
//! `Controller` over one kind; the pure rules live in the layers below (e.g.
//! [`crate::sealed::reconcile`]), the IO around them here.
//!
//! * [`sealed_secret`]: `bitnami.com/v1alpha1` SealedSecret → `v1` Secret.

pub mod sealed_secret;
