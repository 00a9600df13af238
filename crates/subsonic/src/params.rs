//! The parameters of a Subsonic request: from the query string, and from a form body for
//! clients that POST (OpenSubsonic's `formPost`), merged in that order. Names may repeat
//! (`id=1&id=2` in `star`, `songIdToAdd` in `updatePlaylist`), so they are kept as a list.
//!
//! Every accessor is a pure function of the parsed list, table-tested below: a missing
//! required parameter is error 10, a value that cannot be used is error 0 naming it.

use crate::envelope::Format;
use crate::error::SubsonicError;

/// Most parameters kept from one request: a client sends a dozen; the rest is ignored.
pub const MAX_PARAMS: usize = 1_000;

/// The parameters of one request, in the order they came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// The parameters of `query` (the URL's, without `?`) then of `form` (an
    /// `application/x-www-form-urlencoded` body), at most [`MAX_PARAMS`] in all.
    pub fn parse(query: Option<&str>, form: Option<&[u8]>) -> Params {
        let from_query = query
            .map(|q| form_urlencoded::parse(q.as_bytes()))
            .into_iter()
            .flatten();
        let from_form = form.map(form_urlencoded::parse).into_iter().flatten();
        let pairs = from_query
            .chain(from_form)
            .take(MAX_PARAMS)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params { pairs }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or error 10.
    pub fn required(&self, name: &str) -> Result<&str, SubsonicError> {
        self.get(name).ok_or_else(|| SubsonicError::missing(name))
    }

    /// `name` as a whole number from 0 to `max`; `default` when absent; error 0 otherwise.
    pub fn number(&self, name: &str, default: u64, max: u64) -> Result<u64, SubsonicError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(text) => match text.trim().parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                Ok(_) => Err(SubsonicError::invalid(name, &format!("is above {max}"))),
                Err(_) => Err(SubsonicError::invalid(name, "is not a whole number")),
            },
        }
    }

    /// `name` as a boolean (`true`/`false`, `1`/`0`); `default` when absent; error 0 otherwise.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, SubsonicError> {
        // Any case: Python clients send `True` and `False`.
        match self
            .get(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") => Ok(default),
            Some("true") | Some("1") => Ok(true),
            Some("false") | Some("0") => Ok(false),
            Some(_) => Err(SubsonicError::invalid(name, "is not true or false")),
        }
    }

    /// The answer's format, from `f` (XML, the spec's default, for anything but `json`).
    pub fn format(&self) -> Format {
        Format::from_param(self.get("f"))
    }
}

/// The method a path names: the last segment of `/rest/getAlbum.view` or `/rest/getAlbum`,
/// without the `.view` suffix older clients add. `None` for an empty or odd name.
pub fn method(path: &str) -> Option<&str> {
    let last = path.rsplit('/').next()?;
    let name = last.strip_suffix(".view").unwrap_or(last);
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn query_and_form_merge_in_order_and_repeat() {
        let p = Params::parse(Some("u=ann&id=1&f=json"), Some(b"id=2&id=3&t=x%20y"));
        assert_eq!(p.get("u"), Some("ann"));
        assert_eq!(p.all("id").collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!(p.get("t"), Some("x y"));
        assert_eq!(p.format(), Format::Json);
        assert_eq!(Params::parse(None, None).format(), Format::Xml);
        let many = "a=1&".repeat(MAX_PARAMS + 50);
        assert_eq!(
            Params::parse(Some(&many), None).all("a").count(),
            MAX_PARAMS
        );
    }

    #[test]
    fn typed_values() {
        let p = Params::parse(
            Some("size=20&big=999999&neg=-1&word=x&yes=true&one=1&no=0&bad=yes&py=True&pn=False"),
            None,
        );
        assert_eq!(p.number("size", 10, 500), Ok(20));
        assert_eq!(p.number("absent", 10, 500), Ok(10));
        assert_eq!(
            p.number("big", 10, 500).map_err(|e| e.code),
            Err(Code::Generic)
        );
        assert_eq!(
            p.number("neg", 10, 500).map_err(|e| e.code),
            Err(Code::Generic)
        );
        assert_eq!(
            p.number("word", 10, 500).map_err(|e| e.code),
            Err(Code::Generic)
        );
        assert_eq!(p.flag("yes", false), Ok(true));
        assert_eq!(p.flag("one", false), Ok(true));
        assert_eq!(p.flag("no", true), Ok(false));
        assert_eq!(p.flag("absent", true), Ok(true));
        assert_eq!(p.flag("py", false), Ok(true));
        assert_eq!(p.flag("pn", true), Ok(false));
        assert!(p.flag("bad", true).is_err());
        assert_eq!(p.required("size"), Ok("20"));
        assert_eq!(
            p.required("id").map_err(|e| e.code),
            Err(Code::MissingParameter)
        );
    }

    #[test]
    fn method_names() {
        for (path, want) in [
            ("/rest/ping.view", Some("ping")),
            ("/rest/ping", Some("ping")),
            ("/rest/getAlbumList2.view", Some("getAlbumList2")),
            ("/rest/", None),
            ("/rest/.view", None),
            ("/rest/get%41lbum", None),
            ("/rest/a.b.view", None),
        ] {
            assert_eq!(method(path), want, "{path}");
        }
    }
}
