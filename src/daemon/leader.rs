//! Leader election through a `coordination.k8s.io/v1` Lease, following client-go's
//! `leaderelection` package: the holder renews every retry period; another replica takes over
//! only after it has seen the same record unchanged for a whole lease duration (measured on its
//! own clock, so clock skew between nodes does not matter); every write carries the
//! resourceVersion it read, so two candidates can never both win one round. A leader that cannot
//! renew within two thirds of the lease duration steps down before anyone may take over, and a
//! leader that shuts down releases the Lease so the next one starts at once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::Shared;

/// What one look at the Lease decided.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// We hold it: renew.
    Renew,
    /// Someone else holds it and it has not expired (on our clock).
    Follow,
    /// Free or expired: take it over.
    TakeOver,
}

/// Decides from the Lease's holder, whether its record changed recently, and our identity.
fn decide(holder: Option<&str>, me: &str, unchanged_for: Duration, lease_duration: Duration) -> Step {
    match holder {
        Some(h) if h == me => Step::Renew,
        Some(h) if !h.is_empty() && unchanged_for < lease_duration => Step::Follow,
        _ => Step::TakeOver,
    }
}

fn lease_resource() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::coordination::v1::Lease>(&())
}

/// Campaigns until `stopped`, publishing whether this replica leads on `leading`.
pub async fn campaign(shared: Arc<Shared>, leading: watch::Sender<bool>, mut stopped: watch::Receiver<bool>) {
    let config = &shared.config;
    let api: Api<DynamicObject> = Api::namespaced_with(shared.client.clone(), &config.namespace, &lease_resource());
    let me = config.identity.clone();
    let duration_secs = i64::try_from(config.lease_duration.as_secs()).unwrap_or(15).max(1);
    let renew_deadline = config.lease_duration.mul_f64(2.0 / 3.0);
    // The last record seen (holder + renewTime) and when it was first seen, on our clock.
    let mut observed: Option<(String, Instant)> = None;
    let mut last_renewal: Option<Instant> = None;
    let set_leading = |value: bool| {
        if *leading.borrow() != value {
            tracing::info!(identity = %me, leading = value, lease = %config.lease_name, "leadership changed");
        }
        shared.leading.store(value, Ordering::SeqCst);
        leading.send_replace(value);
    };
    loop {
        let now = super::now_micro();
        let outcome = match api.get_opt(&config.lease_name).await {
            Err(e) => Err(e),
            Ok(None) => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": { "name": config.lease_name, "namespace": config.namespace },
                    "spec": {
                        "holderIdentity": me,
                        "leaseDurationSeconds": duration_secs,
                        "acquireTime": now,
                        "renewTime": now,
                        "leaseTransitions": 0,
                    },
                });
                match serde_json::from_value::<DynamicObject>(lease) {
                    Ok(lease) => api.create(&PostParams::default(), &lease).await.map(|_| true),
                    Err(_) => Ok(false),
                }
            }
            Ok(Some(mut lease)) => {
                let spec = lease.data.get("spec").cloned().unwrap_or_else(|| json!({}));
                let holder = spec.get("holderIdentity").and_then(Value::as_str).map(str::to_owned);
                let record = format!(
                    "{}|{}",
                    holder.as_deref().unwrap_or(""),
                    spec.get("renewTime").and_then(Value::as_str).unwrap_or("")
                );
                let since = match &observed {
                    Some((seen, at)) if *seen == record => *at,
                    _ => {
                        let at = Instant::now();
                        observed = Some((record, at));
                        at
                    }
                };
                let step = decide(holder.as_deref(), &me, since.elapsed(), config.lease_duration);
                match step {
                    Step::Follow => Ok(false),
                    Step::Renew | Step::TakeOver => {
                        let mut next = spec.clone();
                        next["holderIdentity"] = json!(me);
                        next["leaseDurationSeconds"] = json!(duration_secs);
                        next["renewTime"] = json!(now);
                        if step == Step::TakeOver {
                            next["acquireTime"] = json!(now);
                            let transitions = spec.get("leaseTransitions").and_then(Value::as_i64).unwrap_or(0);
                            next["leaseTransitions"] = json!(transitions + 1);
                        }
                        lease.data["spec"] = next;
                        // `lease` keeps the resourceVersion it was read at: a stale write is a 409.
                        api.replace(&config.lease_name, &PostParams::default(), &lease).await.map(|_| true)
                    }
                }
            }
        };
        match outcome {
            Ok(true) => {
                last_renewal = Some(Instant::now());
                set_leading(true);
            }
            Ok(false) => set_leading(false),
            Err(e) => {
                tracing::debug!(error = %e, "lease update failed");
                if last_renewal.is_none_or(|t| t.elapsed() > renew_deadline) {
                    set_leading(false);
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(config.lease_retry) => {}
            _ = stopped.changed() => break,
        }
    }
    if *leading.borrow() {
        set_leading(false);
        release(&api, &config.lease_name, &me).await;
    }
}

/// Gives the Lease up (client-go's `ReleaseOnCancel`): empty holder, one-second duration.
async fn release(api: &Api<DynamicObject>, name: &str, me: &str) {
    let Ok(Some(mut lease)) = api.get_opt(name).await else { return };
    if lease.data.get("spec").and_then(|s| s.get("holderIdentity")).and_then(Value::as_str) != Some(me) {
        return;
    }
    lease.data["spec"]["holderIdentity"] = json!("");
    lease.data["spec"]["leaseDurationSeconds"] = json!(1);
    if let Err(e) = api.replace(name, &PostParams::default(), &lease).await {
        tracing::warn!(error = %e, "cannot release the Lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(15);

    #[test]
    fn a_held_lease_is_followed_until_it_expires_on_our_clock() {
        assert_eq!(decide(Some("b"), "a", Duration::from_secs(3), LEASE), Step::Follow);
        assert_eq!(decide(Some("b"), "a", Duration::from_secs(16), LEASE), Step::TakeOver);
    }

    #[test]
    fn own_and_free_leases() {
        assert_eq!(decide(Some("a"), "a", Duration::ZERO, LEASE), Step::Renew);
        assert_eq!(decide(Some(""), "a", Duration::ZERO, LEASE), Step::TakeOver, "a released lease is free");
        assert_eq!(decide(None, "a", Duration::ZERO, LEASE), Step::TakeOver);
    }
}
