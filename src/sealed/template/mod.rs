//! Go `text/template` with the Sprig functions the sealed-secrets controller allows, for
//! `spec.template.data`.
//!
//! The controller executes every `spec.template.data[key]` as a Go template named `key`, with
//! Sprig's `GenericFuncMap` minus `env`, `expandenv` and `getHostByName` (sealed-secrets PR
//! #1703), and the dot bound to the decrypted items as a `map[string]string`. [`render`] does the
//! same, with three differences that only ever turn Go's output into an error, never into other
//! output:
//!
//! * a Sprig function sealops does not implement fails the parse, naming the function
//!   ([`ErrorKind::Unsupported`]), even in a branch that would not run;
//! * untrusted templates are bounded ([`Limits`]): template size, output size, steps, nesting;
//! * error messages never quote values, only types and the template's own text.
//!
//! Every string the engine builds lives in a zeroizing buffer, and the rendered value is a
//! [`SecretBytes`]. The expected behaviour is Go's own: `tests/data/gotemplate/cases.json` is
//! produced by `tests/gotemplate-oracle` (real `text/template` + Sprig) and checked in CI. The
//! supported functions are listed in `docs/formats/sealed-secrets-templates.md`.

mod exec;
mod fmt;
mod funcs;
mod json;
mod parse;
mod sprig;
mod value;

use std::collections::BTreeMap;

use crate::crypto::SecretBytes;

/// What the controller passes as the dot: the decrypted items, by name.
///
/// Upstream builds a `map[string]string` of item name → plaintext and executes each template
/// with it, so `{{ .password }}` is the item `password` and a missing item renders `<no value>`.
#[derive(Default, Clone)]
pub struct TemplateData {
    items: BTreeMap<String, SecretBytes>,
}

impl TemplateData {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the decrypted item `name`.
    pub fn insert(&mut self, name: impl Into<String>, value: SecretBytes) {
        self.items.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&SecretBytes> {
        self.items.get(name)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl FromIterator<(String, SecretBytes)> for TemplateData {
    fn from_iter<I: IntoIterator<Item = (String, SecretBytes)>>(iter: I) -> Self {
        Self { items: iter.into_iter().collect() }
    }
}

/// Bounds for untrusted templates. The defaults fit a Kubernetes Secret (1 MiB in total).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest template source accepted, in bytes.
    pub max_template_bytes: usize,
    /// Largest rendered value (and largest intermediate string), in bytes.
    pub max_output_bytes: usize,
    /// Evaluation steps (actions, commands, loop iterations) before the render is stopped.
    pub max_steps: u64,
    /// Deepest nesting of control structures, parentheses, `template` calls, and of lists and
    /// dicts built by the template (`list`, `dict`, `set`, `fromJson`).
    pub max_depth: usize,
    /// Calls of the costly functions (key and certificate generation, `bcrypt`, `htpasswd`,
    /// `derivePassword`) in all the templates of one object together ([`Renderer`]). Go has no
    /// such bound.
    pub max_costly_calls: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_template_bytes: 256 * 1024,
            max_output_bytes: 1024 * 1024,
            max_steps: 1_000_000,
            max_depth: 64,
            max_costly_calls: 8,
        }
    }
}

/// A template that could not be parsed or executed.
///
/// The message has Go's shape (`template: KEY:LINE:COL: ...`) but never contains a value: only
/// the template's own text, function names and Go type names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {key}:{line}:{col}: {kind}")]
pub struct TemplateError {
    /// The `spec.template.data` key, as named by the caller ([`TemplateError::with_key`]).
    pub key: String,
    pub line: usize,
    pub col: usize,
    pub kind: ErrorKind,
}

impl TemplateError {
    /// Names the template (the `spec.template.data` key) in the message.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }
}

/// Why a template failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The template text is not a valid Go template (Go fails it at parse time too).
    #[error("{0}")]
    Syntax(String),
    /// A Sprig function the controller has but sealops does not implement.
    #[error("function {0:?} is not supported by sealops")]
    Unsupported(String),
    /// Execution failed where Go's fails (wrong types, bad index, a failing function...).
    #[error("executing: {0}")]
    Exec(String),
    /// A [`Limits`] bound was hit.
    #[error("limit exceeded: {0}")]
    Limit(&'static str),
}

/// Renders `template` as the controller renders a `spec.template.data` value, with the
/// default [`Limits`]. Errors name the template `template`; see [`render_named`].
pub fn render(template: &str, data: &TemplateData) -> Result<SecretBytes, TemplateError> {
    render_named("template", template, data, Limits::default())
}

/// Renders `template` named `key` (the `spec.template.data` key, used in error messages and as
/// the name of the top-level template) within `limits`.
pub fn render_named(
    key: &str,
    template: &str,
    data: &TemplateData,
    limits: Limits,
) -> Result<SecretBytes, TemplateError> {
    Renderer::new(limits).render(key, template, data)
}

/// Renders the templates of one object: each within `limits`, and all of them together within
/// one allowance of costly calls ([`Limits::max_costly_calls`]), so that splitting the work
/// over many keys does not multiply it.
pub struct Renderer {
    limits: Limits,
    costly_left: std::cell::Cell<u32>,
}

impl Renderer {
    pub fn new(limits: Limits) -> Self {
        Self { limits, costly_left: std::cell::Cell::new(limits.max_costly_calls) }
    }

    /// Renders `template` named `key` (see [`render_named`]).
    pub fn render(&self, key: &str, template: &str, data: &TemplateData) -> Result<SecretBytes, TemplateError> {
        let at = |offset: usize, kind: ErrorKind| {
            let (line, col) = parse::line_col(template, offset);
            TemplateError { key: key.to_owned(), line, col, kind }
        };
        if template.len() > self.limits.max_template_bytes {
            return Err(at(0, ErrorKind::Limit("template too large")));
        }
        let tree = parse::parse(template, self.limits.max_depth).map_err(|(offset, kind)| at(offset, kind))?;
        exec::execute(&tree, data, self.limits, &self.costly_left).map_err(|(offset, kind)| at(offset, kind))
    }
}
