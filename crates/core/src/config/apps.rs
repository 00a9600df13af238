//! The owner's settings for other people's apps, as the desktop window edits them: the Subsonic
//! API's sign-in (kept in the OS keyring) and the DLNA switch (kept in the settings file).
//!
//! The sign-in is stored through [`crate::secret::SecretStore`] under [`SUBSONIC_ACCOUNT`],
//! in the shape the store already keeps ([`Credentials`]: the user name where an access key id
//! goes, the password as the secret), so it needs no store of its own and never reaches the
//! settings file. With it the API is on; without it (and without
//! `BUCKETSTREAM_SUBSONIC_PASSWORD`) it is off, as on the headless server.
//!
//! An API key (OpenSubsonic's `apiKeyAuthentication`, for apps that sign in without a
//! password) is made here ([`new_subsonic_api_key`]) and kept the same way under
//! [`SUBSONIC_API_KEY_ACCOUNT`]; it wins over `BUCKETSTREAM_SUBSONIC_API_KEY`.

use crate::config::{FileConfig, FileLan, LanConfig, SubsonicAccount};
use crate::error::{Error, Result};
use crate::secret::{Credentials, Sensitive};

/// The keyring account of the Subsonic sign-in (beside the S3 credentials' `default`).
pub const SUBSONIC_ACCOUNT: &str = "subsonic";

/// The keyring account of the Subsonic API key.
pub const SUBSONIC_API_KEY_ACCOUNT: &str = "subsonic-api-key";

/// A new API key for Subsonic apps, as the keyring keeps it: 32 random bytes as 64 hex
/// digits (where a secret key goes; `api-key` where an access key id goes).
pub fn new_subsonic_api_key() -> Result<Credentials> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Config(format!("no randomness for an API key: {e}")))?;
    Ok(Credentials {
        access_key_id: "api-key".to_owned(),
        secret_access_key: Sensitive::new(hex::encode(bytes)),
        session_token: None,
    })
}

/// The longest Subsonic password accepted (clients send it, or a token made from it, on every
/// request).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The Subsonic sign-in `user` / `password` as the keyring keeps it, after checking both: a
/// user name of 1 to 128 characters (surrounding spaces dropped), a password of 1 to
/// [`MAX_PASSWORD_CHARS`] characters without control characters.
pub fn subsonic_credentials(user: &str, password: &str) -> Result<Credentials> {
    let user = user.trim();
    if user.is_empty() || user.chars().count() > 128 || user.chars().any(char::is_control) {
        return Err(Error::Config(
            "the Subsonic user name must be 1 to 128 characters, without control characters".into(),
        ));
    }
    if password.is_empty()
        || password.chars().count() > MAX_PASSWORD_CHARS
        || password.chars().any(char::is_control)
    {
        return Err(Error::Config(format!(
            "the Subsonic password must be 1 to {MAX_PASSWORD_CHARS} characters, without control characters"
        )));
    }
    Ok(Credentials {
        access_key_id: user.to_owned(),
        secret_access_key: Sensitive::new(password.to_owned()),
        session_token: None,
    })
}

/// `lan` with the sign-in the keyring holds (`stored`), which wins over the environment's
/// password, and the API key it holds (`stored_key`), which wins over the environment's key
/// (a key needs a sign-in: the API is off without one). `None`s leave `lan` as it is.
pub fn with_stored_subsonic(
    mut lan: LanConfig,
    stored: Option<&Credentials>,
    stored_key: Option<&Credentials>,
) -> LanConfig {
    if let Some(creds) = stored {
        let api_key = lan.subsonic.take().and_then(|a| a.api_key);
        lan.subsonic = Some(SubsonicAccount {
            user: creds.access_key_id.clone(),
            password: creds.secret_access_key.clone(),
            api_key,
        });
    }
    if let (Some(account), Some(key)) = (lan.subsonic.as_mut(), stored_key) {
        account.api_key = Some(key.secret_access_key.clone());
    }
    lan
}

/// `file` with DLNA switched on or off (`[lan] dlna`), the rest of its LAN table kept.
pub fn with_dlna(file: &FileConfig, on: bool) -> FileConfig {
    let lan = FileLan {
        dlna: Some(on),
        ..file.lan.clone().unwrap_or_default()
    };
    FileConfig {
        lan: Some(lan),
        ..file.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_ins_are_checked() {
        let ok = subsonic_credentials("  ann ", "open sesame").expect("valid");
        assert_eq!(ok.access_key_id, "ann");
        assert_eq!(ok.secret_access_key.expose(), "open sesame");
        for (user, password) in [
            ("", "pw"),
            ("   ", "pw"),
            (&*"u".repeat(129), "pw"),
            ("a\nb", "pw"),
            ("ann", ""),
            ("ann", "tab\there"),
            ("ann", &*"p".repeat(MAX_PASSWORD_CHARS + 1)),
        ] {
            let err = subsonic_credentials(user, password).expect_err("refused");
            assert!(matches!(err, Error::Config(_)), "{user:?} {err}");
            assert!(
                !err.to_string().contains(password) || password.is_empty(),
                "never echoes the password"
            );
        }
        assert!(subsonic_credentials(&"u".repeat(128), &"p".repeat(MAX_PASSWORD_CHARS)).is_ok());
    }

    #[test]
    fn the_stored_sign_in_wins_and_keeps_the_api_key() {
        let env = SubsonicAccount {
            user: "env".into(),
            password: Sensitive::new("from env".into()),
            api_key: Some(Sensitive::new("key".into())),
        };
        let lan = LanConfig {
            subsonic: Some(env.clone()),
            ..LanConfig::default()
        };
        let stored = subsonic_credentials("ann", "from keyring").expect("valid");
        let got = with_stored_subsonic(lan.clone(), Some(&stored), None)
            .subsonic
            .expect("on");
        assert_eq!(got.user, "ann");
        assert_eq!(got.password.expose(), "from keyring");
        assert_eq!(got.api_key, env.api_key);
        assert_eq!(
            with_stored_subsonic(lan.clone(), None, None).subsonic,
            Some(env)
        );
        let off = with_stored_subsonic(LanConfig::default(), None, None);
        assert_eq!(off.subsonic, None, "no keyring, no variable: off");
        // A key from the keyring wins over the environment's; without a sign-in it does not
        // turn the API on.
        let key = new_subsonic_api_key().expect("key");
        let got = with_stored_subsonic(lan, Some(&stored), Some(&key))
            .subsonic
            .expect("on");
        assert_eq!(
            got.api_key.as_ref().map(|k| k.expose().as_str()),
            Some(key.secret_access_key.expose().as_str())
        );
        let alone = with_stored_subsonic(LanConfig::default(), None, Some(&key));
        assert_eq!(alone.subsonic, None);
    }

    #[test]
    fn api_keys_are_64_hex_digits_and_new_each_time() {
        let a = new_subsonic_api_key().expect("a");
        let b = new_subsonic_api_key().expect("b");
        let text = a.secret_access_key.expose();
        assert_eq!(text.len(), 64);
        assert!(text.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(text, b.secret_access_key.expose());
    }

    #[test]
    fn dlna_switch_keeps_the_rest_of_the_file() {
        let file = FileConfig {
            port: Some(9000),
            lan: Some(FileLan {
                mdns: Some(false),
                ..FileLan::default()
            }),
            ..FileConfig::default()
        };
        let on = with_dlna(&file, true);
        let lan = on.lan.clone().expect("table");
        assert_eq!(
            (lan.dlna, lan.mdns, on.port),
            (Some(true), Some(false), Some(9000))
        );
        let off = with_dlna(&on, false);
        assert_eq!(off.lan.and_then(|l| l.dlna), Some(false));
        assert_eq!(
            with_dlna(&FileConfig::default(), true)
                .lan
                .and_then(|l| l.dlna),
            Some(true)
        );
    }
}
