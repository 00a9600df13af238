//! The S3 store's state as the requests see it, and failover across the endpoints of a cluster.
//!
//! Garage (like MinIO and Ceph's RGW) answers S3 on every node, so a cluster has several
//! endpoints that serve the same bucket. [`Failover`] holds them in the configured order and
//! the one in use; an endpoint resolver ([`FailoverResolver`]) sends each attempt of each
//! request to the one in use, and an interceptor ([`Watch`]) looks at each attempt's outcome:
//! a connection that could not be made (refused, reset, connect timeout) moves the client to
//! the next endpoint, so the SDK's own retry of that request goes there. The interceptor also
//! keeps the store's state for `/api/health` (`store`): listings, media fetches, uploads all
//! pass through it, so a failed media fetch shows at once, not at the next listing.
//!
//! The rules (which endpoint an attempt went to, which one is next, how an outcome changes
//! the state) are pure functions with table tests; the SDK glue is thin.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use aws_sdk_s3::config::endpoint::{
    DefaultResolver, Endpoint, EndpointFuture, Params, ResolveEndpoint,
};
use aws_sdk_s3::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};

use crate::error::Error;

/// What one attempt of a request to the store came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The store answered below 500 (an error such as 404 or 412 is still an answer).
    Answered,
    /// The store answered 5xx (no quorum, overloaded): reachable but failing.
    ServerError(u16),
    /// No answer: the connection was refused, reset or timed out (the reason).
    Unreachable(String),
}

/// The store's state kept between requests.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The last attempt's error (`None`: it was answered, or nothing was asked yet).
    pub error: Option<Error>,
    /// When the store became ok or failing (`None`: nothing asked yet).
    pub since: Option<SystemTime>,
}

/// How the store is, as [`Failover::status`] reports it (`/api/health`'s `store` is built
/// from it in [`crate::library`]).
#[derive(Debug, Clone)]
pub struct StoreStatus {
    /// How the last request went.
    pub state: State,
    /// The endpoint requests go to now (`None`: AWS).
    pub endpoint: Option<String>,
    /// How many endpoints are configured (1 without `s3.endpoints`; 0 for AWS).
    pub endpoints: usize,
}

/// The state after `outcome`, from `state`, at `now`: `since` moves only when the store goes
/// from ok to failing or back (or on the first request).
pub fn observe(state: &State, outcome: &Outcome, endpoint: Option<&str>, now: SystemTime) -> State {
    let error = match outcome {
        Outcome::Answered => None,
        Outcome::ServerError(status) => Some(Error::Upstream(format!(
            "the store answered HTTP {status}{}",
            endpoint.map(|e| format!(" at {e}")).unwrap_or_default()
        ))),
        Outcome::Unreachable(reason) => Some(Error::Unreachable(reason.clone())),
    };
    let changed = state.since.is_none() || state.error.is_some() != error.is_some();
    State {
        error,
        since: if changed { Some(now) } else { state.since },
    }
}

/// The index of the configured endpoint `url` (an attempt's resolved URL, which may carry
/// the bucket as a path) belongs to.
pub fn endpoint_index(url: &str, endpoints: &[String]) -> Option<usize> {
    endpoints.iter().position(|e| {
        let e = e.trim_end_matches('/');
        url == e
            || url
                .strip_prefix(e)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The endpoint after `failed` among `n` (in order, wrapping round).
pub fn next_after(failed: usize, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (failed + 1) % n
    }
}

/// The endpoints of one store, the one in use and the store's state.
#[derive(Debug)]
pub struct Failover {
    /// Configured endpoints, in order (empty: AWS's own endpoint resolution).
    endpoints: Vec<String>,
    /// Index of the endpoint in use.
    current: AtomicUsize,
    /// The store's state.
    state: Mutex<State>,
}

impl Failover {
    /// Over `endpoints` (the configured one first); starts on the first.
    pub fn new(endpoints: Vec<String>) -> Failover {
        Failover {
            endpoints,
            current: AtomicUsize::new(0),
            state: Mutex::default(),
        }
    }

    /// The endpoint requests go to now (`None`: AWS).
    pub fn in_use(&self) -> Option<&str> {
        let i = self.current.load(Ordering::Acquire);
        self.endpoints.get(i).map(String::as_str)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an attempt's `outcome` at `url`: an unreachable endpoint hands over to the
    /// next one (unless another request already moved on).
    pub fn record(&self, url: Option<&str>, outcome: &Outcome) {
        let index = url.and_then(|u| endpoint_index(u, &self.endpoints));
        let endpoint = index
            .and_then(|i| self.endpoints.get(i))
            .map(String::as_str);
        {
            let mut state = self.lock();
            *state = observe(&state, outcome, endpoint, SystemTime::now());
        }
        if let (Outcome::Unreachable(reason), Some(i)) = (outcome, index) {
            let next = next_after(i, self.endpoints.len());
            if next != i
                && self
                    .current
                    .compare_exchange(i, next, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                tracing::warn!(
                    from = %self.endpoints[i],
                    to = %self.endpoints[next],
                    %reason,
                    "S3 endpoint unreachable; trying the next one"
                );
            }
        }
    }

    /// The store's state and the endpoint in use.
    pub fn status(&self) -> StoreStatus {
        StoreStatus {
            state: self.lock().clone(),
            endpoint: self.in_use().map(str::to_owned),
            endpoints: self.endpoints.len(),
        }
    }
}

/// The S3 endpoint rules with the endpoint in use instead of the configured one.
#[derive(Debug)]
pub struct FailoverResolver {
    /// The SDK's own S3 rules (path style, bucket placement).
    inner: DefaultResolver,
    /// Which endpoint is in use.
    failover: Arc<Failover>,
}

impl FailoverResolver {
    /// Resolves through `failover`'s endpoint in use.
    pub fn new(failover: Arc<Failover>) -> FailoverResolver {
        FailoverResolver {
            inner: DefaultResolver::new(),
            failover,
        }
    }
}

impl ResolveEndpoint for FailoverResolver {
    fn resolve_endpoint<'a>(&'a self, params: &'a Params) -> EndpointFuture<'a> {
        let params = with_endpoint(params, self.failover.in_use());
        EndpointFuture::new(async move {
            match params {
                Ok(params) => self.inner.resolve_endpoint(&params).await,
                Err(err) => Err(err.into()),
            }
        })
    }
}

/// `params` with `endpoint` in place of the configured endpoint (every other field kept).
fn with_endpoint(
    p: &Params,
    endpoint: Option<&str>,
) -> Result<Params, aws_sdk_s3::config::endpoint::InvalidParams> {
    let own = |v: Option<&str>| v.map(str::to_owned);
    Params::builder()
        .set_bucket(own(p.bucket()))
        .set_region(own(p.region()))
        .set_use_fips(p.use_fips())
        .set_use_dual_stack(p.use_dual_stack())
        .set_endpoint(own(endpoint.or(p.endpoint())))
        .set_force_path_style(p.force_path_style())
        .set_accelerate(p.accelerate())
        .set_use_global_endpoint(p.use_global_endpoint())
        .set_use_object_lambda_endpoint(p.use_object_lambda_endpoint())
        .set_key(own(p.key()))
        .set_prefix(own(p.prefix()))
        .set_copy_source(own(p.copy_source()))
        .set_disable_access_points(p.disable_access_points())
        .set_disable_multi_region_access_points(p.disable_multi_region_access_points())
        .set_use_arn_region(p.use_arn_region())
        .set_use_s3_express_control_endpoint(p.use_s3_express_control_endpoint())
        .set_disable_s3_express_session_auth(p.disable_s3_express_session_auth())
        .build()
}

/// Sees every attempt of every request of the client and records its outcome.
#[derive(Debug)]
pub struct Watch(pub Arc<Failover>);

impl Intercept for Watch {
    fn name(&self) -> &'static str {
        "bucketstream-store-watch"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let url = cfg.load::<Endpoint>().map(|e| e.url().to_owned());
        let outcome = match (context.response(), context.output_or_error()) {
            (Some(resp), _) if resp.status().as_u16() >= 500 => {
                Outcome::ServerError(resp.status().as_u16())
            }
            (Some(_), _) => Outcome::Answered,
            (None, Some(Err(err))) if err.is_connector_error() || err.is_timeout_error() => {
                Outcome::Unreachable(super::s3::describe_chain(err))
            }
            _ => return Ok(()),
        };
        self.0.record(url.as_deref(), &outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::error::ErrorCode;

    fn eps() -> Vec<String> {
        ["http://a:3900", "http://b:3900/", "https://c"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn an_attempt_url_belongs_to_its_endpoint() {
        let cases: &[(&str, Option<usize>)] = &[
            ("http://a:3900", Some(0)),
            ("http://a:3900/bucket", Some(0)),
            ("http://b:3900/bucket/key", Some(1)),
            ("https://c/b", Some(2)),
            ("http://a:39001/bucket", None),
            ("http://bucket.a:3900", None),
            ("", None),
        ];
        for (url, want) in cases {
            assert_eq!(endpoint_index(url, &eps()), *want, "{url}");
        }
    }

    #[test]
    fn the_next_endpoint_wraps_round() {
        let cases = [(0, 3, 1), (1, 3, 2), (2, 3, 0), (0, 1, 0), (0, 0, 0)];
        for (failed, n, want) in cases {
            assert_eq!(next_after(failed, n), want, "{failed} of {n}");
        }
    }

    #[test]
    fn since_moves_only_when_the_store_changes_state() {
        let t = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let down = Outcome::Unreachable("connection refused".into());
        let mut state = State::default();
        // (outcome, time, ok after, since after)
        let steps = [
            (Outcome::Answered, 1, true, 1),
            (Outcome::Answered, 2, true, 1),
            (down.clone(), 3, false, 3),
            (down.clone(), 4, false, 3),
            (Outcome::ServerError(503), 5, false, 3),
            (Outcome::Answered, 6, true, 6),
        ];
        for (outcome, now, ok, since) in steps {
            state = observe(&state, &outcome, Some("http://a:3900"), t(now));
            assert_eq!(state.error.is_none(), ok, "{outcome:?} at {now}");
            assert_eq!(state.since, Some(t(since)), "{outcome:?} at {now}");
        }
        let first = observe(&State::default(), &down, None, t(9));
        let error = first.error.clone().expect("an error");
        assert_eq!(error.code(), ErrorCode::EndpointUnreachable);
        assert!(error.to_string().contains("connection refused"), "{error}");
        let five = observe(&first, &Outcome::ServerError(500), Some("http://b"), t(10));
        let error = five.error.expect("an error");
        assert_eq!(error.code(), ErrorCode::Upstream);
        assert!(
            error.to_string().contains("HTTP 500 at http://b"),
            "{error}"
        );
    }

    #[test]
    fn an_unreachable_endpoint_hands_over_once() {
        let f = Failover::new(eps());
        assert_eq!(f.in_use(), Some("http://a:3900"));
        let down = Outcome::Unreachable("refused".into());
        f.record(Some("http://a:3900/bucket"), &down);
        assert_eq!(f.in_use(), Some("http://b:3900/"));
        // A second failure of the same endpoint (a request in flight) does not skip b.
        f.record(Some("http://a:3900/bucket"), &down);
        assert_eq!(f.in_use(), Some("http://b:3900/"));
        f.record(Some("http://b:3900/bucket"), &Outcome::Answered);
        let s = f.status();
        assert!(s.state.error.is_none() && s.state.since.is_some());
        assert_eq!(
            (s.endpoint.as_deref(), s.endpoints),
            (Some("http://b:3900/"), 3)
        );
        f.record(Some("http://b:3900/bucket"), &down);
        f.record(Some("https://c/bucket"), &down);
        assert_eq!(f.in_use(), Some("http://a:3900"));
        assert!(f.status().state.error.is_some());
        // A single endpoint stays put; AWS (none) has nothing to move.
        let one = Failover::new(vec!["http://a:3900".into()]);
        one.record(Some("http://a:3900/b"), &down);
        assert_eq!(one.in_use(), Some("http://a:3900"));
        let aws = Failover::new(Vec::new());
        aws.record(Some("https://s3.amazonaws.com/b"), &down);
        assert_eq!(aws.in_use(), None);
        assert!(aws.status().state.error.is_some());
    }
}
