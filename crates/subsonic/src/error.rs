//! Subsonic's error codes and the error every request path returns, so that each failure is
//! answered in the Subsonic envelope (`status="failed"` with `<error code message/>`), which
//! clients show to their users, instead of an HTTP error they do not read.

use thiserror::Error;

/// The error codes of the Subsonic API (1.16.1) and OpenSubsonic's additions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 0: a generic error.
    Generic,
    /// 10: a required parameter is missing.
    MissingParameter,
    /// 20: incompatible protocol version; the client must upgrade.
    ClientTooOld,
    /// 30: incompatible protocol version; the server must upgrade.
    ServerTooOld,
    /// 40: wrong username or password.
    WrongCredentials,
    /// 41: token authentication is not supported for this user.
    TokenNotSupported,
    /// 42: the authentication mechanism given is not supported (OpenSubsonic).
    MechanismNotSupported,
    /// 43: several conflicting authentication mechanisms given (OpenSubsonic).
    ConflictingMechanisms,
    /// 44: the API key is not valid (OpenSubsonic).
    InvalidApiKey,
    /// 50: the user is not authorised for this operation.
    NotAuthorized,
    /// 70: the requested data was not found.
    NotFound,
}

impl Code {
    /// The number clients see.
    pub fn number(self) -> u32 {
        match self {
            Code::Generic => 0,
            Code::MissingParameter => 10,
            Code::ClientTooOld => 20,
            Code::ServerTooOld => 30,
            Code::WrongCredentials => 40,
            Code::TokenNotSupported => 41,
            Code::MechanismNotSupported => 42,
            Code::ConflictingMechanisms => 43,
            Code::InvalidApiKey => 44,
            Code::NotAuthorized => 50,
            Code::NotFound => 70,
        }
    }
}

/// A request that failed, as a Subsonic error: a code and a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct SubsonicError {
    /// The Subsonic code.
    pub code: Code,
    /// What went wrong, in words a client can show.
    pub message: String,
}

impl SubsonicError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> SubsonicError {
        SubsonicError {
            code,
            message: message.into(),
        }
    }

    /// Code 10 for the parameter `name`.
    pub fn missing(name: &str) -> SubsonicError {
        SubsonicError::new(
            Code::MissingParameter,
            format!("required parameter '{name}' is missing"),
        )
    }

    /// Code 0 for a parameter whose value cannot be used.
    pub fn invalid(name: &str, why: &str) -> SubsonicError {
        SubsonicError::new(Code::Generic, format!("parameter '{name}' {why}"))
    }

    /// Code 70 for `what`.
    pub fn not_found(what: &str) -> SubsonicError {
        SubsonicError::new(Code::NotFound, format!("{what} not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_spec_numbers() {
        let table = [
            (Code::Generic, 0),
            (Code::MissingParameter, 10),
            (Code::ClientTooOld, 20),
            (Code::ServerTooOld, 30),
            (Code::WrongCredentials, 40),
            (Code::TokenNotSupported, 41),
            (Code::MechanismNotSupported, 42),
            (Code::ConflictingMechanisms, 43),
            (Code::InvalidApiKey, 44),
            (Code::NotAuthorized, 50),
            (Code::NotFound, 70),
        ];
        for (code, number) in table {
            assert_eq!(code.number(), number, "{code:?}");
        }
        assert_eq!(
            SubsonicError::missing("id").to_string(),
            "required parameter 'id' is missing"
        );
    }
}
