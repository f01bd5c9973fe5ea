//! Merge keys and patch strategies of the builtin Kubernetes types.
