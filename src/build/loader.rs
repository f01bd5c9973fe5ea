//! File access for a build: confined to the build root, kustomize's load restrictor, the 5 MiB
//! per-file limit, remote resources refused. Owner: the core work package.
