//! Fault injection, configured at runtime from tests: error responses (every request, the next
//! N, or with a probability; optionally only for one verb or path), slow responses, and watches
//! that end early.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Which requests a rule applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matcher {
    /// A verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`,
    /// `discovery`), or `write` for any of create/update/patch/delete/deletecollection.
    /// `None`: every verb.
    pub verb: Option<String>,
    /// A substring of the request path. `None`: every path.
    pub path_contains: Option<String>,
}

impl Matcher {
    /// Every request.
    pub fn any() -> Self {
        Matcher::default()
    }

    /// Writes only.
    pub fn writes() -> Self {
        Matcher { verb: Some("write".into()), path_contains: None }
    }

    /// One verb.
    pub fn verb(verb: &str) -> Self {
        Matcher { verb: Some(verb.into()), path_contains: None }
    }

    /// Restricts to paths containing `fragment`.
    pub fn path(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.into());
        self
    }

    fn matches(&self, verb: &str, path: &str) -> bool {
        let verb_ok = match self.verb.as_deref() {
            None => true,
            Some("write") => {
                matches!(verb, "create" | "update" | "patch" | "delete" | "deletecollection")
            }
            Some(v) => v == verb,
        };
        verb_ok && self.path_contains.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// What a rule does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Answer with this HTTP status and a matching `Status` body (500, 409, 429, 503, 504...).
    Fail(u16),
    /// Wait this long before handling the request.
    Delay(Duration),
    /// End a watch after this many events (counting the initial ones) or this long, whichever
    /// comes first.
    DropWatch {
        /// Events before the stream ends.
        after_events: Option<u32>,
        /// Time before the stream ends.
        after: Option<Duration>,
    },
}

/// One fault rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Which requests.
    pub matcher: Matcher,
    /// What happens to them.
    pub action: Action,
    /// How many more requests it hits; `None`: until cleared.
    pub remaining: Option<u32>,
    /// Chance that a matching request is hit (1.0: always).
    pub probability: f64,
}

/// What the faults decide for one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Total delay.
    pub delay: Duration,
    /// An error status to answer with.
    pub fail: Option<u16>,
    /// For watches: when to end the stream early.
    pub drop_watch: Option<(Option<u32>, Option<Duration>)>,
}

struct Inner {
    rules: Vec<Rule>,
    rng: u64,
    injected: u64,
}

/// The fault switchboard of a running server; clones share it.
#[derive(Clone)]
pub struct Faults(Arc<Mutex<Inner>>);

impl Default for Faults {
    fn default() -> Self {
        Faults(Arc::new(Mutex::new(Inner { rules: Vec::new(), rng: 0x9E37_79B9_7F4A_7C15, injected: 0 })))
    }
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not disable the faults of the others.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a rule (rules are checked in the order added).
    pub fn add(&self, rule: Rule) -> &Self {
        self.lock().rules.push(rule);
        self
    }

    /// Removes every rule.
    pub fn clear(&self) -> &Self {
        self.lock().rules.clear();
        self
    }

    /// Seeds the generator behind `probability` (runs are reproducible per seed).
    pub fn seed(&self, seed: u64) -> &Self {
        self.lock().rng = seed | 1;
        self
    }

    /// How many requests a fault has hit so far.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    /// The next `n` matching requests fail with `code`.
    pub fn fail_next(&self, n: u32, code: u16, matcher: Matcher) -> &Self {
        self.add(Rule { matcher, action: Action::Fail(code), remaining: Some(n), probability: 1.0 })
    }

    /// Each matching request fails with `code` with `probability`, until cleared.
    pub fn fail_randomly(&self, probability: f64, code: u16, matcher: Matcher) -> &Self {
        self.add(Rule { matcher, action: Action::Fail(code), remaining: None, probability })
    }

    /// The next `n` writes answer 409 Conflict.
    pub fn conflict_next_writes(&self, n: u32) -> &Self {
        self.fail_next(n, 409, Matcher::writes())
    }

    /// Every matching request waits `delay` first, until cleared.
    pub fn delay(&self, delay: Duration, matcher: Matcher) -> &Self {
        self.add(Rule { matcher, action: Action::Delay(delay), remaining: None, probability: 1.0 })
    }

    /// Watches started from now on end after `n` events, until cleared.
    pub fn drop_watches_after_events(&self, n: u32) -> &Self {
        self.add(Rule {
            matcher: Matcher::verb("watch"),
            action: Action::DropWatch { after_events: Some(n), after: None },
            remaining: None,
            probability: 1.0,
        })
    }

    /// Watches started from now on end after `after`, until cleared.
    pub fn drop_watches_after(&self, after: Duration) -> &Self {
        self.add(Rule {
            matcher: Matcher::verb("watch"),
            action: Action::DropWatch { after_events: None, after: Some(after) },
            remaining: None,
            probability: 1.0,
        })
    }

    /// Decides the faults of one request, consuming counted rules.
    pub fn decide(&self, verb: &str, path: &str) -> Decision {
        let mut inner = self.lock();
        let mut out = Decision::default();
        let mut hit = false;
        let mut i = 0;
        while i < inner.rules.len() {
            let rule = inner.rules[i].clone();
            if !rule.matcher.matches(verb, path) || !inner.draw(rule.probability) {
                i += 1;
                continue;
            }
            let applies = match &rule.action {
                Action::Fail(code) if out.fail.is_none() => {
                    out.fail = Some(*code);
                    true
                }
                Action::Delay(d) => {
                    out.delay += *d;
                    true
                }
                Action::DropWatch { after_events, after } if out.drop_watch.is_none() => {
                    out.drop_watch = Some((*after_events, *after));
                    true
                }
                _ => false,
            };
            hit |= applies;
            if applies && let Some(n) = inner.rules[i].remaining.as_mut() {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    inner.rules.remove(i);
                    continue;
                }
            }
            i += 1;
        }
        if hit {
            inner.injected += 1;
        }
        out
    }
}

impl Inner {
    fn draw(&mut self, probability: f64) -> bool {
        if probability >= 1.0 {
            return true;
        }
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (x as f64 / (1u64 << 53) as f64) < probability
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_rules_expire_and_matchers_filter() {
        let f = Faults::default();
        f.fail_next(2, 500, Matcher::writes().path("/configmaps"));
        assert_eq!(f.decide("get", "/api/v1/namespaces/default/configmaps").fail, None);
        assert_eq!(f.decide("create", "/api/v1/namespaces/default/secrets").fail, None);
        assert_eq!(f.decide("create", "/api/v1/namespaces/default/configmaps").fail, Some(500));
        assert_eq!(f.decide("patch", "/api/v1/namespaces/default/configmaps/x").fail, Some(500));
        assert_eq!(f.decide("patch", "/api/v1/namespaces/default/configmaps/x").fail, None);
        assert_eq!(f.injected(), 2);
    }

    #[test]
    fn probability_is_roughly_respected() {
        let f = Faults::default();
        f.seed(42).fail_randomly(0.25, 503, Matcher::any());
        let hits = (0..4000).filter(|_| f.decide("get", "/x").fail.is_some()).count();
        assert!((800..1200).contains(&hits), "{hits} of 4000");
    }

    #[test]
    fn delays_add_up_and_watch_drops_apply_to_watches_only() {
        let f = Faults::default();
        f.delay(Duration::from_millis(5), Matcher::any())
            .delay(Duration::from_millis(7), Matcher::verb("list"))
            .drop_watches_after_events(3);
        assert_eq!(f.decide("list", "/x").delay, Duration::from_millis(12));
        assert_eq!(f.decide("get", "/x").drop_watch, None);
        assert_eq!(f.decide("watch", "/x").drop_watch, Some((Some(3), None)));
    }
}
