//! sops's own command line, for when the binary is invoked through a link named `sops`.
//!
//! sops (urfave/cli v1) takes subcommands (`sops decrypt f`) and, for compatibility, its older
//! flag form: `sops -d f`, `sops -e f`, `sops -r f`, `sops --set '["k"] "v"' f`, and `sops f`
//! to edit. This module rewrites the old forms into subcommands; everything else is parsed by
//! the same definitions as `sealops`'s own commands.

use std::ffi::OsString;
use std::path::Path;

/// The subcommands both front ends share.
const SUBCOMMANDS: [&str; 10] =
    ["encrypt", "decrypt", "rotate", "updatekeys", "set", "unset", "edit", "exec-env", "exec-file", "filestatus"];

/// sops subcommands sealops does not implement, with the reason.
const UNSUPPORTED: [(&str, &str); 5] = [
    ("groups", "edit the key groups in .sops.yaml and run `sops updatekeys`"),
    ("keyservice", "remote key services are not supported"),
    ("publish", "publishing to S3/GCS/Vault is not supported"),
    ("completion", "use `sealops completion` (not yet available)"),
    ("help", ""),
];

/// Rewrites `argv` when the program was called as `sops`.
pub fn translate(argv: Vec<OsString>) -> Vec<OsString> {
    let invoked_as_sops = argv.first().and_then(|a| Path::new(a).file_stem()).is_some_and(|name| name == "sops");
    if !invoked_as_sops {
        return argv;
    }
    let mut out: Vec<OsString> = vec![OsString::from("sops")];
    let rest: Vec<OsString> = argv.into_iter().skip(1).collect();
    if rest.iter().any(|a| a == "--version" || a == "-v" || a == "-V")
        && !rest.iter().any(|a| SUBCOMMANDS.iter().any(|s| a == s))
    {
        println!("sops {} (sealops {})", sealops::sops::metadata::FORMAT_VERSION, env!("CARGO_PKG_VERSION"));
        std::process::exit(0);
    }
    // Global flags may come before the subcommand; find the first non-flag word.
    let first_word = first_positional(&rest);
    if let Some(i) = first_word {
        let word = rest[i].to_string_lossy();
        if SUBCOMMANDS.contains(&word.as_ref()) {
            out.extend(rest);
            return out;
        }
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(name, _)| *name == word) {
            if !why.is_empty() {
                eprintln!("sops {word} is not supported by sealops: {why}");
                std::process::exit(1);
            }
            out.push("--help".into());
            return out;
        }
    }
    // The old flag form.
    let mut command = "edit";
    let mut args: Vec<OsString> = Vec::new();
    let mut iter = rest.into_iter().peekable();
    while let Some(arg) = iter.next() {
        match arg.to_str() {
            Some("-d" | "--decrypt") => command = "decrypt",
            Some("-e" | "--encrypt") => command = "encrypt",
            Some("-r" | "--rotate") => command = "rotate",
            Some("--set") => {
                command = "set";
                // `--set '["path"] value'`: split at the first "] ", as sops does
                // (`strings.SplitAfterN(set, "] ", 2)`). Not at the last ']': the JSON value
                // may hold brackets itself (`["k"] {"a": [1, 2]}`).
                if let Some(spec) = iter.next() {
                    let spec = spec.to_string_lossy().into_owned();
                    let split = spec.find("] ").map(|i| i + 1).unwrap_or(spec.len());
                    let (path, value) = spec.split_at(split);
                    args.push("--sops-set-path".into());
                    args.push(path.trim().into());
                    args.push("--sops-set-value".into());
                    args.push(value.trim().into());
                }
            }
            _ => args.push(arg),
        }
    }
    if command == "set" || command == "edit" {
        // sops's flags are global, and `--set` and edit always write in place: `sops -i --set …`
        // is accepted there. Our `set`/`edit` have no --in-place, so drop it.
        args.retain(|a| a != "-i" && a != "--in-place");
    }
    out.push(command.into());
    out.extend(reorder_set(args));
    out
}

/// Turns the `--sops-set-*` markers into `set FILE PATH VALUE` positionals.
fn reorder_set(args: Vec<OsString>) -> Vec<OsString> {
    let mut path = None;
    let mut value = None;
    let mut rest = Vec::new();
    let mut iter = args.into_iter();
    while let Some(a) = iter.next() {
        if a == "--sops-set-path" {
            path = iter.next();
        } else if a == "--sops-set-value" {
            value = iter.next();
        } else {
            rest.push(a);
        }
    }
    if let (Some(path), Some(value)) = (path, value) {
        // The file is the last positional in sops's syntax.
        let file_at = rest.iter().rposition(|a| !a.to_string_lossy().starts_with('-'));
        if let Some(i) = file_at {
            let file = rest.remove(i);
            let mut out = vec![file, path, value];
            out.extend(rest);
            return out;
        }
    }
    rest
}

/// Flags of sops's top level that take a value (so their value is not the first positional).
const VALUE_FLAGS: [&str; 8] =
    ["--config", "--indent", "--keyservice", "--input-type", "--output-type", "--output", "--extract", "--age"];

fn first_positional(args: &[OsString]) -> Option<usize> {
    let mut skip = false;
    for (i, a) in args.iter().enumerate() {
        if skip {
            skip = false;
            continue;
        }
        let s = a.to_string_lossy();
        if s.starts_with('-') {
            skip = VALUE_FLAGS.contains(&s.as_ref());
            continue;
        }
        return Some(i);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(args: &[&str]) -> Vec<String> {
        translate(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn sealops_argv_is_untouched() {
        assert_eq!(t(&["sealops", "-d", "f"]), ["sealops", "-d", "f"]);
    }

    #[test]
    fn legacy_sops_forms() {
        assert_eq!(t(&["/usr/bin/sops", "-d", "f.yaml"]), ["sops", "decrypt", "f.yaml"]);
        assert_eq!(t(&["sops", "--input-type", "json", "-e", "f"]), ["sops", "encrypt", "--input-type", "json", "f"]);
        assert_eq!(t(&["sops", "f.yaml"]), ["sops", "edit", "f.yaml"]);
        assert_eq!(
            t(&["sops", "decrypt", "--extract", "[\"a\"]", "f"]),
            ["sops", "decrypt", "--extract", "[\"a\"]", "f"]
        );
        assert_eq!(
            t(&["sops", "--set", "[\"a\"][0] {\"b\": 1}", "f.yaml"]),
            ["sops", "set", "f.yaml", "[\"a\"][0]", "{\"b\": 1}"]
        );
        assert_eq!(t(&["sops", "--config", "c.yaml", "encrypt", "f"]), ["sops", "--config", "c.yaml", "encrypt", "f"]);
        assert_eq!(t(&["sops", "-i", "--set", "[\"a\"] 1", "f.yaml"]), ["sops", "set", "f.yaml", "[\"a\"]", "1"]);
        assert_eq!(t(&["sops", "-i", "f.yaml"]), ["sops", "edit", "f.yaml"]);
        assert_eq!(
            t(&["sops", "--set", "[\"a\"] {\"b\": [1, 2]}", "f.yaml"]),
            ["sops", "set", "f.yaml", "[\"a\"]", "{\"b\": [1, 2]}"]
        );
    }
}
