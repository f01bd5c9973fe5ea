//! The identities a decrypting command uses, found the way sops finds them.

use anyhow::Result;
use sealops::crypto::{Keyring, SecretString};
use sealops::sops::identities::{self, DiscoveryOptions, SystemEnv};

use super::exit::{Code, Exit};

/// Collects every age identity from the sops environment, asking on the terminal for the
/// passphrase of a passphrase-protected identity file.
pub fn keyring() -> Result<Keyring> {
    let prompt = |location: &str| -> Result<SecretString, String> {
        if !super::io::stdin_is_terminal() && std::fs::metadata("/dev/tty").is_err() {
            return Err(format!("{location} is passphrase-protected and there is no terminal to ask on"));
        }
        rpassword::prompt_password(identities::passphrase_prompt(location))
            .map(SecretString::new)
            .map_err(|e| e.to_string())
    };
    let options = DiscoveryOptions { recipient: None, passphrase: Some(&prompt) };
    let found =
        identities::discover(&SystemEnv, &options).map_err(|e| Exit::new(Code::CouldNotRetrieveKey, e.to_string()))?;
    Ok(found.keyring)
}
