//! Starts a test API server for manual use: prints its kubeconfig (and writes it to the path
//! given as the only argument), then serves until Ctrl-C.
//!
//! `cargo run --manifest-path tests/apiserver/Cargo.toml -- /tmp/kubeconfig`
//! then `KUBECONFIG=/tmp/kubeconfig kubectl get ns`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use sealops_test_apiserver::TestApiServer;

#[tokio::main]
async fn main() -> ExitCode {
    let server = match TestApiServer::start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) {
        if let Err(e) = server.write_kubeconfig(&path) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        eprintln!("kubeconfig written to {}", path.display());
    }
    print!("{}", server.kubeconfig_yaml());
    eprintln!("serving on {}; Ctrl-C stops", server.url());
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("cannot listen for Ctrl-C; stopping");
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}
