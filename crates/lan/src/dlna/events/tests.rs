//! The subscriptions' rules: own-address callbacks, renewal, expiry, bounds, sequence.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use bucketstream_dlna::gena::{Refused, Subscribe};

use super::{Events, Service, MAX_SUBSCRIPTIONS};

const PEER: [u8; 4] = [192, 168, 1, 20];

fn new(callback: &str, timeout: u32) -> Subscribe {
    Subscribe::New {
        callbacks: vec![callback.to_owned()],
        timeout,
    }
}

fn peer() -> IpAddr {
    IpAddr::from(PEER)
}

#[test]
fn events_go_only_to_the_subscribers_own_address() {
    let events = Events::default();
    let now = Instant::now();
    let cd = Service::ContentDirectory;
    for elsewhere in [
        "http://192.168.1.21:4004/ev",
        "http://router.local:80/ev",
        "http://127.0.0.1:4004/ev",
    ] {
        assert_eq!(
            events.subscribe(cd, peer(), new(elsewhere, 300), now),
            Err(Refused::Precondition(
                "CALLBACK must be an http URL on the subscriber's own address"
            )),
            "{elsewhere}"
        );
    }
    let (sid, timeout, fresh) = events
        .subscribe(cd, peer(), new("http://192.168.1.20:4004/ev", 300), now)
        .expect("own address");
    assert!(sid.starts_with("uuid:") && sid.len() == 41, "{sid}");
    assert_eq!((timeout, fresh), (300, true));
    // An IPv4 client seen on an IPv6 socket is the same client.
    let mapped: IpAddr = "::ffff:192.168.1.20".parse().expect("ip");
    assert!(events
        .subscribe(cd, mapped, new("http://192.168.1.20:1/", 300), now)
        .is_ok());
}

#[test]
fn renewal_expiry_and_unsubscribe() {
    let events = Events::default();
    let t0 = Instant::now();
    let cd = Service::ContentDirectory;
    let (sid, _, _) = events
        .subscribe(cd, peer(), new("http://192.168.1.20:9/", 300), t0)
        .expect("subscribed");
    let renew = |sid: &str| Subscribe::Renew {
        sid: sid.to_owned(),
        timeout: 600,
    };
    // Renewed at 299 s for 600 more; still there at 800 s; gone at 900 s.
    let at = |s: u64| t0 + Duration::from_secs(s);
    assert_eq!(
        events.subscribe(cd, peer(), renew(&sid), at(299)),
        Ok((sid.clone(), 600, false))
    );
    assert!(events.subscribe(cd, peer(), renew(&sid), at(800)).is_ok());
    assert_eq!(
        events.subscribe(cd, peer(), renew(&sid), at(1401)),
        Err(Refused::Precondition("no such subscription"))
    );
    // A subscription is renewed and ended on its own service only.
    let (sid, _, _) = events
        .subscribe(cd, peer(), new("http://192.168.1.20:9/", 300), t0)
        .expect("subscribed");
    let cm = Service::ConnectionManager;
    assert!(events.subscribe(cm, peer(), renew(&sid), t0).is_err());
    assert!(events.unsubscribe(cm, &sid).is_err());
    assert_eq!(events.unsubscribe(cd, &sid), Ok(()));
    assert!(events.unsubscribe(cd, &sid).is_err());
    assert!(events.is_empty());
}

#[test]
fn subscriptions_are_bounded_and_expired_ones_make_room() {
    let events = Events::default();
    let t0 = Instant::now();
    let cd = Service::ContentDirectory;
    for _ in 0..MAX_SUBSCRIPTIONS {
        events
            .subscribe(cd, peer(), new("http://192.168.1.20:9/", 300), t0)
            .expect("room");
    }
    assert_eq!(
        events.subscribe(cd, peer(), new("http://192.168.1.20:9/", 300), t0),
        Err(Refused::Busy)
    );
    let later = t0 + Duration::from_secs(301);
    assert!(events
        .subscribe(cd, peer(), new("http://192.168.1.20:9/", 300), later)
        .is_ok());
    assert_eq!(events.len(), 1);
}

#[test]
fn the_initial_event_is_seq_0_and_change_events_follow_it() {
    let events = Events::default();
    let now = Instant::now();
    let cd = Service::ContentDirectory;
    let (a, _, _) = events
        .subscribe(cd, peer(), new("http://192.168.1.20:9/", 300), now)
        .expect("a");
    // Not started: a change event does not go to it before its initial event.
    assert!(events.due(cd, None, now).is_empty());
    let first = events.due(cd, Some(&a), now);
    assert_eq!(first.iter().map(|d| d.seq).collect::<Vec<_>>(), [0]);
    assert!(
        events.due(cd, Some(&a), now).is_empty(),
        "one initial event"
    );
    let seqs = |d: Vec<super::Delivery>| d.iter().map(|d| d.seq).collect::<Vec<_>>();
    assert_eq!(seqs(events.due(cd, None, now)), [1]);
    assert_eq!(seqs(events.due(cd, None, now)), [2]);
    assert!(events.due(Service::ConnectionManager, None, now).is_empty());
}
