//! Who is asking: Subsonic's three ways to authenticate (token `t` = md5(password + salt)
//! with `s`; the password `p`, plain or `enc:`-hex; OpenSubsonic's `apiKey`), checked against
//! the one account the owner set, and a limit on failed attempts per client so a password
//! cannot be guessed at network speed.
//!
//! Parsing ([`credentials`]) and checking ([`check`]) are pure; the limit ([`FailureLimit`])
//! takes the time as an argument, so all three are table-tested without clocks or sockets.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};

use crate::error::{Code, SubsonicError};
use crate::params::Params;

/// How a request says who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `u` and `p` (decoded when it was `enc:`-hex).
    Password {
        /// The user name.
        user: String,
        /// The password as sent.
        password: String,
    },
    /// `u`, `t` and `s`: the token is md5(password + salt) in hex.
    Token {
        /// The user name.
        user: String,
        /// The token.
        token: String,
        /// The salt.
        salt: String,
    },
    /// OpenSubsonic's `apiKey`, which names the user by itself.
    ApiKey(String),
}

/// The account requests are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    /// The user name (compared without regard to ASCII case, as Subsonic servers do).
    pub user: &'a str,
    /// The password.
    pub password: &'a str,
    /// The API key, when the owner made one.
    pub api_key: Option<&'a str>,
}

fn wrong() -> SubsonicError {
    SubsonicError::new(Code::WrongCredentials, "Wrong username or password")
}

/// The credentials in `params`, or the error that tells the client what is missing or
/// conflicting (10, 43, or 40 for an `enc:` password that is not hex of UTF-8).
pub fn credentials(params: &Params) -> Result<Credentials, SubsonicError> {
    let (u, p, t, s) = (
        params.get("u"),
        params.get("p"),
        params.get("t"),
        params.get("s"),
    );
    if let Some(key) = params.get("apiKey") {
        if u.is_some() || p.is_some() || t.is_some() || s.is_some() {
            return Err(SubsonicError::new(
                Code::ConflictingMechanisms,
                "apiKey cannot be combined with u, p, t or s",
            ));
        }
        return Ok(Credentials::ApiKey(key.to_owned()));
    }
    let user = u.ok_or_else(|| SubsonicError::missing("u"))?.to_owned();
    match (p, t, s) {
        (Some(_), Some(_), _) => Err(SubsonicError::new(
            Code::ConflictingMechanisms,
            "give either p, or t and s, not both",
        )),
        (Some(p), None, _) => Ok(Credentials::Password {
            user,
            password: decode_password(p)?,
        }),
        (None, Some(t), Some(s)) => Ok(Credentials::Token {
            user,
            token: t.to_owned(),
            salt: s.to_owned(),
        }),
        (None, Some(_), None) => Err(SubsonicError::missing("s")),
        (None, None, _) => Err(SubsonicError::missing("p")),
    }
}

/// `p` as sent: `enc:` followed by the hex of its UTF-8 bytes, or plain.
fn decode_password(p: &str) -> Result<String, SubsonicError> {
    match p.strip_prefix("enc:") {
        Some(h) => hex::decode(h)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(wrong),
        None => Ok(p.to_owned()),
    }
}

/// Equality that takes the same time wherever the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `creds` are those of `account`: 40 for a wrong user, password or token; 42 for an
/// API key when the owner made none; 44 for a wrong API key.
pub fn check(creds: &Credentials, account: &Account<'_>) -> Result<(), SubsonicError> {
    let user_ok = |user: &str| user.eq_ignore_ascii_case(account.user);
    match creds {
        Credentials::Password { user, password } => (user_ok(user)
            && same(password.as_bytes(), account.password.as_bytes()))
        .then_some(())
        .ok_or_else(wrong),
        Credentials::Token { user, token, salt } => {
            let mut md5 = Md5::new();
            md5.update(account.password.as_bytes());
            md5.update(salt.as_bytes());
            let want = hex::encode(md5.finalize());
            let got = token.to_ascii_lowercase();
            (user_ok(user) && same(got.as_bytes(), want.as_bytes()))
                .then_some(())
                .ok_or_else(wrong)
        }
        Credentials::ApiKey(key) => match account.api_key {
            None => Err(SubsonicError::new(
                Code::MechanismNotSupported,
                "no API key has been made for this server; use a password",
            )),
            Some(want) if same(key.as_bytes(), want.as_bytes()) => Ok(()),
            Some(_) => Err(SubsonicError::new(Code::InvalidApiKey, "Invalid API key")),
        },
    }
}

/// Failed attempts per client: after `max_failures` within `window`, the client is refused
/// without a check until the window ends, so a guess costs a minute per `max_failures`.
#[derive(Debug)]
pub struct FailureLimit<K> {
    clients: HashMap<K, Failures>,
    max_failures: u32,
    window: Duration,
    max_clients: usize,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

impl<K: Hash + Eq + Clone> FailureLimit<K> {
    /// At most `max_failures` failed attempts per client per `window`, remembering at most
    /// `max_clients` clients (the oldest windows are forgotten first).
    pub fn new(max_failures: u32, window: Duration, max_clients: usize) -> FailureLimit<K> {
        FailureLimit {
            clients: HashMap::new(),
            max_failures: max_failures.max(1),
            window,
            max_clients: max_clients.max(1),
        }
    }

    /// `Ok` when `client` may try now; otherwise how long until it may.
    pub fn allowed(&self, client: &K, now: Instant) -> Result<(), Duration> {
        match self.clients.get(client) {
            Some(f) if f.count >= self.max_failures => {
                let ends = f.since + self.window;
                match ends.checked_duration_since(now) {
                    Some(left) if !left.is_zero() => Err(left),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Records a failed attempt of `client`.
    pub fn failed(&mut self, client: &K, now: Instant) {
        let window = self.window;
        if !self.clients.contains_key(client) && self.clients.len() >= self.max_clients {
            self.clients
                .retain(|_, f| now.duration_since(f.since) < window);
            if self.clients.len() >= self.max_clients {
                if let Some(oldest) = self
                    .clients
                    .iter()
                    .min_by_key(|(_, f)| f.since)
                    .map(|(k, _)| k.clone())
                {
                    self.clients.remove(&oldest);
                }
            }
        }
        let entry = self.clients.entry(client.clone()).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now.duration_since(entry.since) >= window {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        entry.count = entry.count.saturating_add(1);
    }

    /// Forgets `client`'s failures (it authenticated).
    pub fn succeeded(&mut self, client: &K) {
        self.clients.remove(client);
    }
}

#[cfg(test)]
mod tests;
