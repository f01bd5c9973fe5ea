//! Exit codes: sops's, so scripts that check them keep working.
//!
//! The numbers come from sops's `cmd/sops/codes/codes.go`; which failure gets which code follows
//! what the real sops does (see `docs/formats/sops.md`, "exit codes").

use std::fmt;

use sealops::sops::ops::OpError;

/// sops's exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    Generic = 1,
    CouldNotReadInputFile = 2,
    CouldNotWriteOutputFile = 3,
    ErrorDumpingTree = 4,
    ErrorReadingConfig = 5,
    InvalidSetFormat = 7,
    ConflictingParameters = 8,
    EncryptingTree = 23,
    DecryptingTree = 25,
    MacMismatch = 51,
    InvalidTreePathFormat = 91,
    NeedAtLeastOneDocument = 92,
    NoFileSpecified = 100,
    NoEncryptionKeyFound = 111,
    DuplicateDecryptionKeyType = 112,
    CouldNotRetrieveKey = 128,
    FileHasNotBeenModified = 200,
    NoEditorFound = 201,
    FileAlreadyEncrypted = 203,
}

/// An error with the exit code it should end the process with.
#[derive(Debug)]
pub struct Exit {
    pub code: Code,
    pub message: String,
}

impl Exit {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// The exit code of an engine error.
pub fn code_of(err: &OpError) -> Code {
    match err.kind() {
        "could_not_read_input" => Code::CouldNotReadInputFile,
        "error_dumping_tree" => Code::ErrorDumpingTree,
        "need_at_least_one_document" => Code::NeedAtLeastOneDocument,
        "metadata_not_found" | "invalid_metadata" => Code::Generic,
        "encrypt_tree" => Code::EncryptingTree,
        "decrypt_tree" => Code::DecryptingTree,
        "mac_mismatch" => Code::MacMismatch,
        "could_not_retrieve_key" => Code::CouldNotRetrieveKey,
        "duplicate_decryption_key_type" => Code::DuplicateDecryptionKeyType,
        "file_already_encrypted" => Code::FileAlreadyEncrypted,
        "invalid_tree_path" => Code::InvalidTreePathFormat,
        "no_encryption_key" => Code::NoEncryptionKeyFound,
        _ => Code::Generic,
    }
}

/// Wraps an engine error with its exit code and, where sops adds one, its message prefix.
pub fn op_error(err: OpError) -> anyhow::Error {
    let code = code_of(&err);
    let message = match code {
        Code::EncryptingTree => format!("Error encrypting tree: Error walking tree: {err}"),
        Code::DecryptingTree => format!("Error decrypting tree: Error walking tree: {err}"),
        _ => err.to_string(),
    };
    anyhow::Error::new(Exit::new(code, message))
}

/// The exit code for any error reaching `main`.
pub fn code_for(err: &anyhow::Error) -> u8 {
    err.chain().find_map(|e| e.downcast_ref::<Exit>()).map(|e| e.code as u8).unwrap_or(Code::Generic as u8)
}
