//! `--kubeclient-qps` / `--kubeclient-burst` (`shared/specs/sealed-secrets.md` §3.6): upstream
//! sets `rest.Config.QPS/Burst`, and client-go then puts a token bucket
//! (`flowcontrol.NewTokenBucketRateLimiter`, i.e. `golang.org/x/time/rate`) in front of every
//! request to the API server, watches included. Here the same bucket is a tower layer on kube's
//! client stack.
//!
//! client-go's reading of the two numbers is kept: a negative QPS turns throttling off, a QPS of
//! 0 means its default 5 and a burst of 0 its default 10 (`rest.RESTClientFor`).

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// client-go's `rest.DefaultQPS` and `rest.DefaultBurst`.
pub const DEFAULT_QPS: f32 = 5.0;
pub const DEFAULT_BURST: i32 = 10;

/// Errors of the limiter's settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    #[error("--kubeclient-qps: {0} is not a number")]
    Qps(f32),
    #[error("--kubeclient-burst: {0} is negative (0 means client-go's default of {DEFAULT_BURST})")]
    Burst(i32),
}

impl RateLimitError {
    /// A stable identifier for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Qps(_) => "qps",
            Self::Burst(_) => "burst",
        }
    }
}

/// The bucket's rate and size as client-go derives them from `--kubeclient-qps` and
/// `--kubeclient-burst`; `None` when throttling is off (a negative QPS).
pub fn client_go_limits(qps: f32, burst: i32) -> Result<Option<(f64, u32)>, RateLimitError> {
    if qps.is_nan() {
        return Err(RateLimitError::Qps(qps));
    }
    if burst < 0 {
        return Err(RateLimitError::Burst(burst));
    }
    if qps < 0.0 || qps == f32::INFINITY {
        return Ok(None);
    }
    let qps = if qps == 0.0 { DEFAULT_QPS } else { qps };
    let burst = if burst == 0 { DEFAULT_BURST } else { burst };
    Ok(Some((f64::from(qps), burst.unsigned_abs())))
}

/// A token bucket holding up to `burst` tokens, refilled at `rate` per second, full at start.
/// Like `rate.Limiter.Reserve`, a caller may take a token that is not there yet: it waits for
/// it, and the debt makes later callers wait their turn, so requests leave at `rate` on average.
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<Fill>,
}

struct Fill {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self { rate, burst, state: Mutex::new(Fill { tokens: burst, at: Instant::now() }) }
    }

    /// Takes one token at `now`; returns how long to wait before using it (zero when one was
    /// in the bucket).
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut fill = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now > fill.at {
            let refill = now.duration_since(fill.at).as_secs_f64() * self.rate;
            fill.tokens = (fill.tokens + refill).min(self.burst);
            fill.at = now;
        }
        fill.tokens -= 1.0;
        if fill.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-fill.tokens / self.rate) }
    }
}

/// The tower layer for `kube::client::ClientBuilder::with_layer`.
#[derive(Clone)]
pub struct ThrottleLayer {
    bucket: Arc<TokenBucket>,
}

impl ThrottleLayer {
    pub fn new(rate: f64, burst: u32) -> Self {
        Self { bucket: Arc::new(TokenBucket::new(rate, burst)) }
    }
}

impl<S> tower_layer::Layer<S> for ThrottleLayer {
    type Service = Throttle<S>;

    fn layer(&self, inner: S) -> Throttle<S> {
        Throttle { inner, bucket: self.bucket.clone(), wait: None, permitted: false }
    }
}

/// A service that is ready only once it holds a token. kube's client drives its stack through
/// a buffer that asks for readiness before each request, so every request waits its turn here.
pub struct Throttle<S> {
    inner: S,
    bucket: Arc<TokenBucket>,
    wait: Option<Pin<Box<Sleep>>>,
    permitted: bool,
}

impl<S, R> tower_service::Service<R> for Throttle<S>
where
    S: tower_service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        loop {
            if self.permitted {
                return self.inner.poll_ready(cx);
            }
            if let Some(wait) = self.wait.as_mut() {
                if wait.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.wait = None;
                self.permitted = true;
                continue;
            }
            let delay = self.bucket.reserve(Instant::now());
            if delay.is_zero() {
                self.permitted = true;
            } else {
                self.wait = Some(Box::pin(tokio::time::sleep(delay)));
            }
        }
    }

    fn call(&mut self, request: R) -> S::Future {
        self.permitted = false;
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{Ready, poll_fn, ready};
    use tower_layer::Layer as _;
    use tower_service::Service;

    fn millis(d: Duration) -> u128 {
        (d.as_secs_f64() * 1000.0).round() as u128
    }

    /// Records when each request reached it.
    struct Recorder(Arc<Mutex<Vec<Instant>>>);

    impl Service<()> for Recorder {
        type Response = ();
        type Error = std::convert::Infallible;
        type Future = Ready<Result<(), Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, (): ()) -> Self::Future {
            self.0.lock().expect("lock").push(Instant::now());
            ready(Ok(()))
        }
    }

    #[test]
    fn client_go_reads_zero_as_default_and_negative_qps_as_off() {
        assert_eq!(client_go_limits(5.0, 10).expect("ok"), Some((5.0, 10)));
        assert_eq!(client_go_limits(0.0, 0).expect("ok"), Some((5.0, 10)));
        assert_eq!(client_go_limits(-1.0, 10).expect("ok"), None);
        assert_eq!(client_go_limits(50.0, 100).expect("ok"), Some((50.0, 100)));
        let e = client_go_limits(5.0, -1).expect_err("negative burst");
        assert!(e.to_string().starts_with("--kubeclient-burst:"), "{e}");
        assert!(client_go_limits(f32::NAN, 10).expect_err("NaN").to_string().contains("--kubeclient-qps"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_burst_goes_at_once_then_one_token_per_interval() {
        let bucket = TokenBucket::new(5.0, 10);
        let t0 = Instant::now();
        for i in 0..10 {
            assert_eq!(bucket.reserve(t0), Duration::ZERO, "token {i} of the burst");
        }
        assert_eq!(millis(bucket.reserve(t0)), 200);
        assert_eq!(millis(bucket.reserve(t0)), 400, "the debt queues later callers");
        // 2 s later the debt (2 tokens) is paid and 8 tokens are back.
        let later = t0 + Duration::from_secs(2);
        for _ in 0..8 {
            assert_eq!(bucket.reserve(later), Duration::ZERO);
        }
        assert_eq!(millis(bucket.reserve(later)), 200);
        // A long pause refills to the burst, never beyond.
        let much_later = later + Duration::from_secs(3600);
        for _ in 0..10 {
            assert_eq!(bucket.reserve(much_later), Duration::ZERO);
        }
        assert!(!bucket.reserve(much_later).is_zero());
    }

    #[tokio::test(start_paused = true)]
    async fn the_layer_holds_requests_until_a_token_is_there() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut service = ThrottleLayer::new(5.0, 2).layer(Recorder(seen.clone()));
        let t0 = Instant::now();
        for _ in 0..5 {
            poll_fn(|cx| service.poll_ready(cx)).await.expect("ready");
            service.call(()).await.expect("call");
        }
        let offsets: Vec<u128> = seen.lock().expect("lock").iter().map(|t| millis(t.duration_since(t0))).collect();
        assert_eq!(offsets, vec![0, 0, 200, 400, 600]);
    }
}
