//! Keyring round trip against a real Secret Service, and the "no keyring" report without one.
//!
//! `round_trip` needs a Secret Service on the session bus and only runs when
//! `BUCKETSTREAM_SECRET_SERVICE_TEST=1` (set by `src-tauri/tests/run-keyring.sh`, which starts
//! gnome-keyring under `dbus-run-session` with a throwaway HOME). It saves credentials, reads
//! them back in a *new process* (this test binary re-run on `child_reads_back`), then forgets
//! them and checks they are gone.
//!
//! `no_bus_means_unavailable` runs everywhere: with the session bus pointing nowhere, the
//! store must say "no keyring available" instead of silently keeping secrets in memory.

use std::process::Command;

use bucketstream_core::secret::keystore::KeyStore;
use bucketstream_core::secret::{Credentials, SecretError, SecretStore, Sensitive};
use bucketstream_keyring::{KeyringStore, LanKeyStore};

const SERVICE: &str = "bucketstream-test";
const ACCOUNT: &str = "round-trip";
const SECRET: &str = "test-secret-9f8e7d6c5b4a";

fn enabled() -> bool {
    std::env::var("BUCKETSTREAM_SECRET_SERVICE_TEST").is_ok_and(|v| v == "1")
}

#[test]
fn round_trip() {
    if !enabled() {
        eprintln!("skipped: set BUCKETSTREAM_SECRET_SERVICE_TEST=1 under a Secret Service");
        return;
    }
    let store = KeyringStore::new(SERVICE);
    store.forget(ACCOUNT).expect("forget before");
    assert!(store.load(ACCOUNT).expect("load empty").is_none());
    let creds = Credentials {
        access_key_id: "GKtestkeyid".into(),
        secret_access_key: Sensitive::new(SECRET.into()),
        session_token: Some(Sensitive::new("tok-123".into())),
    };
    store.save(ACCOUNT, &creds).expect("save");

    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([
            "--exact",
            "child_reads_back",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BUCKETSTREAM_KEYRING_CHILD", "1")
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("CHILD-OK"),
        "child did not read the entry back: {stdout}"
    );
    assert!(!stdout.contains(SECRET), "secret printed by the child");

    store.forget(ACCOUNT).expect("forget");
    assert!(store.load(ACCOUNT).expect("load after forget").is_none());

    // The LAN access key lives in the same keyring, under its own account.
    let lan = LanKeyStore(KeyringStore::new(SERVICE));
    assert!(lan.load().expect("no key yet").is_none());
    lan.save(&Sensitive::new("lan-key-0123".into()))
        .expect("save key");
    assert_eq!(
        lan.load()
            .expect("load key")
            .map(|k| k.expose().clone())
            .as_deref(),
        Some("lan-key-0123")
    );
    KeyringStore::new(SERVICE)
        .forget(bucketstream_keyring::LAN_KEY_ACCOUNT)
        .expect("forget key");
    store.forget(ACCOUNT).expect("forgetting nothing is fine");
}

/// Runs only as the child process of `round_trip`.
#[test]
fn child_reads_back() {
    if std::env::var("BUCKETSTREAM_KEYRING_CHILD").is_err() {
        return;
    }
    let store = KeyringStore::new(SERVICE);
    let creds = store.load(ACCOUNT).expect("load").expect("entry exists");
    assert_eq!(creds.access_key_id, "GKtestkeyid");
    assert_eq!(creds.secret_access_key.expose(), SECRET);
    assert_eq!(
        creds.session_token.as_ref().map(|t| t.expose().as_str()),
        Some("tok-123")
    );
    println!("CHILD-OK pid={}", std::process::id());
}

#[test]
fn no_bus_means_unavailable() {
    if std::env::var("BUCKETSTREAM_KEYRING_CHILD").is_ok() {
        return;
    }
    // A child process with the session bus pointing at nothing (env is per process).
    if std::env::var("BUCKETSTREAM_NO_BUS_CHILD").is_ok() {
        let err = KeyringStore::new(SERVICE)
            .probe()
            .expect_err("must not succeed without a bus");
        assert!(matches!(err, SecretError::Unavailable(_)), "{err}");
        println!("NOBUS-OK {err}");
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([
            "--exact",
            "no_bus_means_unavailable",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BUCKETSTREAM_NO_BUS_CHILD", "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/bucketstream-bus",
        )
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("NOBUS-OK"),
        "{stdout}"
    );
    assert!(stdout.contains("no keyring available"), "{stdout}");
}
