//! Credentials parsing, checking and the failure limit, as tables.

use std::time::{Duration, Instant};

use super::*;

const ACCOUNT: Account<'static> = Account {
    user: "ann",
    password: "sesame",
    api_key: Some("key-123"),
};

fn creds(query: &str) -> Result<Credentials, Code> {
    credentials(&Params::parse(Some(query), None)).map_err(|e| e.code)
}

fn verdict(query: &str) -> Result<(), Code> {
    let c = creds(query)?;
    check(&c, &ACCOUNT).map_err(|e| e.code)
}

/// md5("sesame" + "c19b2d") in hex, computed independently (`printf sesamec19b2d | md5sum`).
const TOKEN: &str = "26719a1196d2a940705a59634eb18eab";

#[test]
fn the_three_mechanisms() {
    let table: &[(&str, Result<(), Code>)] = &[
        ("u=ann&p=sesame", Ok(())),
        ("u=ANN&p=sesame", Ok(())),
        ("u=ann&p=enc:736573616d65", Ok(())),
        ("u=ann&p=enc:736573616D65", Ok(())),
        ("u=ann&p=Sesame", Err(Code::WrongCredentials)),
        ("u=bob&p=sesame", Err(Code::WrongCredentials)),
        ("u=ann&p=enc:zz", Err(Code::WrongCredentials)),
        ("u=ann&p=enc:ff", Err(Code::WrongCredentials)),
        ("u=ann&p=", Err(Code::WrongCredentials)),
        (&format!("u=ann&t={TOKEN}&s=c19b2d"), Ok(())),
        (
            &format!("u=ann&t={}&s=c19b2d", TOKEN.to_uppercase()),
            Ok(()),
        ),
        (
            &format!("u=ann&t={TOKEN}&s=c19b2e"),
            Err(Code::WrongCredentials),
        ),
        ("u=ann&t=00&s=c19b2d", Err(Code::WrongCredentials)),
        ("apiKey=key-123", Ok(())),
        ("apiKey=key-124", Err(Code::InvalidApiKey)),
        ("apiKey=key-123&u=ann", Err(Code::ConflictingMechanisms)),
        (
            &format!("u=ann&p=sesame&t={TOKEN}&s=c19b2d"),
            Err(Code::ConflictingMechanisms),
        ),
        ("p=sesame", Err(Code::MissingParameter)),
        ("u=ann", Err(Code::MissingParameter)),
        (&format!("u=ann&t={TOKEN}"), Err(Code::MissingParameter)),
    ];
    for (query, want) in table {
        assert_eq!(&verdict(query), want, "{query}");
    }
}

#[test]
fn an_api_key_without_one_made_is_not_supported() {
    let account = Account {
        api_key: None,
        ..ACCOUNT
    };
    let c = Credentials::ApiKey("anything".into());
    assert_eq!(
        check(&c, &account).map_err(|e| e.code),
        Err(Code::MechanismNotSupported)
    );
}

#[test]
fn failures_are_limited_per_client_and_window() {
    let t0 = Instant::now();
    let window = Duration::from_secs(60);
    let mut limit = FailureLimit::new(3, window, 2);
    for _ in 0..3 {
        assert_eq!(limit.allowed(&"a", t0), Ok(()));
        limit.failed(&"a", t0);
    }
    assert_eq!(
        limit.allowed(&"a", t0 + Duration::from_secs(10)),
        Err(Duration::from_secs(50))
    );
    // Another client is not affected.
    assert_eq!(limit.allowed(&"b", t0), Ok(()));
    // The window ends: allowed again, and a new failure starts a new window.
    assert_eq!(limit.allowed(&"a", t0 + window), Ok(()));
    limit.failed(&"a", t0 + window);
    assert_eq!(limit.allowed(&"a", t0 + window), Ok(()));
    // A success forgets.
    limit.failed(&"a", t0 + window);
    limit.failed(&"a", t0 + window);
    assert!(limit.allowed(&"a", t0 + window).is_err());
    limit.succeeded(&"a");
    assert_eq!(limit.allowed(&"a", t0 + window), Ok(()));
    // Memory is bounded: a third client evicts the oldest window.
    limit.failed(&"b", t0);
    limit.failed(&"c", t0 + window);
    limit.failed(&"d", t0 + window + Duration::from_secs(1));
    assert!(limit.clients.len() <= 2);
}
