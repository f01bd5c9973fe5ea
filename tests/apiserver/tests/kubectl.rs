//! The test API server through `kubectl` (v1.32 on the build machines): the kubeconfig works
//! for it, and get / server-side apply / delete behave. Skipped when `kubectl` is absent.

use std::path::Path;
use std::process::Command;

use sealops_test_apiserver::TestApiServer;

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig").arg(kubeconfig).args(args);
    let output = match stdin {
        None => cmd.output(),
        Some(text) => {
            use std::io::Write as _;
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())?;
            if let Some(mut input) = child.stdin.take() {
                input.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
            }
            child.wait_with_output()
        }
    }
    .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("kubectl {args:?} failed: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_apply_delete() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("kubectl not installed; skipping");
        return;
    }
    let server = TestApiServer::start().await.expect("server starts");
    let dir = std::env::temp_dir().join(format!("sealops-apiserver-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig written");

    let kc = kubeconfig.clone();
    let out = tokio::task::spawn_blocking(move || {
        let names = kubectl(&kc, &["get", "namespaces", "-o", "name"], None)?;
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-kubectl\ndata:\n  a: \"1\"\n";
        kubectl(
            &kc,
            &["apply", "--server-side", "--field-manager=kubectl-test", "--validate=false", "-f", "-"],
            Some(manifest),
        )?;
        let value = kubectl(&kc, &["get", "configmap", "from-kubectl", "-o", "jsonpath={.data.a}"], None)?;
        Ok::<_, String>((names, value))
    })
    .await
    .expect("join");
    let (names, value) = out.expect("kubectl works");
    assert!(names.lines().any(|l| l == "namespace/default"), "{names}");
    assert_eq!(value, "1");
    let stored = server.get("configmaps", Some("default"), "from-kubectl").expect("stored");
    assert_eq!(stored["metadata"]["managedFields"][0]["manager"], "kubectl-test");

    let kc = kubeconfig.clone();
    tokio::task::spawn_blocking(move || kubectl(&kc, &["delete", "configmap", "from-kubectl"], None))
        .await
        .expect("join")
        .expect("kubectl delete");
    assert!(server.get("configmaps", Some("default"), "from-kubectl").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
