//! Sprig's crypto and random functions: `bcrypt`, `htpasswd`, `derivePassword`, `genPrivateKey`, the certificate generators, `encryptAES`/`decryptAES`, `randBytes`, `uuidv4`, `rand*`.

use super::super::funcs::Func;

/// The function `name` of this family, if implemented.
pub(super) fn func(name: &str) -> Option<Func> {
    match name {
        _ => None,
    }
}
