//! Go `text/template` with the Sprig functions the sealed-secrets controller allows, for
//! `spec.template.data`.
