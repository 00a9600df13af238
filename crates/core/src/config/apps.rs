//! The owner's settings for other people's apps, as the desktop window edits them: the Subsonic
//! API's sign-in (kept in the OS keyring) and the DLNA switch (kept in the settings file).
//!
//! The sign-in is stored through [`crate::secret::SecretStore`] under [`SUBSONIC_ACCOUNT`],
//! in the shape the store already keeps ([`Credentials`]: the user name where an access key id
//! goes, the password as the secret), so it needs no store of its own and never reaches the
//! settings file. With it the API is on; without it (and without
//! `BUCKETSTREAM_SUBSONIC_PASSWORD`) it is off, as on the headless server.

use crate::config::{FileConfig, FileLan, LanConfig, SubsonicAccount};
use crate::error::{Error, Result};
use crate::secret::{Credentials, Sensitive};

/// The keyring account of the Subsonic sign-in (beside the S3 credentials' `default`).
pub const SUBSONIC_ACCOUNT: &str = "subsonic";

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
/// password; the environment's API key stays. `None` leaves `lan` as it is.
pub fn with_stored_subsonic(mut lan: LanConfig, stored: Option<&Credentials>) -> LanConfig {
    if let Some(creds) = stored {
        let api_key = lan.subsonic.take().and_then(|a| a.api_key);
        lan.subsonic = Some(SubsonicAccount {
            user: creds.access_key_id.clone(),
            password: creds.secret_access_key.clone(),
            api_key,
        });
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
        let got = with_stored_subsonic(lan.clone(), Some(&stored))
            .subsonic
            .expect("on");
        assert_eq!(got.user, "ann");
        assert_eq!(got.password.expose(), "from keyring");
        assert_eq!(got.api_key, env.api_key);
        assert_eq!(with_stored_subsonic(lan, None).subsonic, Some(env));
        let off = with_stored_subsonic(LanConfig::default(), None);
        assert_eq!(off.subsonic, None, "no keyring, no variable: off");
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
