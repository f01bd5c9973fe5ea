//! Writes the CRDs of `sealops::k8s::crd` into `crds/` (or the directory given as the only
//! argument), one file per CRD plus the `kustomization.yaml` listing them. `tests/it/crds.rs` fails when the committed files are stale.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(|| PathBuf::from("crds"), PathBuf::from);
    if let Err(message) = std::fs::create_dir_all(&dir) {
        eprintln!("crdgen: cannot create {}: {message}", dir.display());
        return ExitCode::FAILURE;
    }
    let all = sealops::k8s::crd::crds();
    let kustomization = dir.join("kustomization.yaml");
    if let Err(message) = std::fs::write(&kustomization, sealops::k8s::crd::render_kustomization(&all)) {
        eprintln!("crdgen: cannot write {}: {message}", kustomization.display());
        return ExitCode::FAILURE;
    }
    for generated in &all {
        let path = dir.join(&generated.file_name);
        let written = sealops::k8s::crd::render(generated)
            .map_err(|e| e.to_string())
            .and_then(|yaml| std::fs::write(&path, yaml).map_err(|e| e.to_string()));
        if let Err(message) = written {
            eprintln!("crdgen: cannot write {}: {message}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
