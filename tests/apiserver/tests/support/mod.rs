//! Shared setup: a server and a kube client built from its kubeconfig, the way the daemon's
//! tests build theirs.

use std::time::Duration;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use sealops_test_apiserver::{ApiServerHandle, TestApiServer};

/// A started server and a client for it.
pub async fn setup() -> (ApiServerHandle, Client) {
    let server =
        TestApiServer::builder().bookmark_interval(Duration::from_millis(100)).start().await.expect("server starts");
    let client = client_for(&server).await;
    (server, client)
}

/// A kube client through the server's kubeconfig.
pub async fn client_for(server: &ApiServerHandle) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig_yaml()).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    assert_eq!(config.default_namespace, "default");
    Client::try_from(config).expect("client builds")
}

/// The Status of a failed call, or a panic naming what happened instead.
pub fn status<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(s)) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Polls `cond` every 20 ms for up to 5 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..250 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}
