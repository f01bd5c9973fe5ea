//! The `sealops` binary. Invoked through a link named `sops`, it takes sops's command line.
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
