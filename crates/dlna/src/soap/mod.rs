//! SOAP, the control half of UPnP: a renderer POSTs an action (`Browse`, `GetProtocolInfo`…)
//! as an XML envelope; we answer with the action's response envelope or a UPnP fault.
//!
//! Requests come from any device on the network, so [`parse_action`] reads them as untrusted:
//! a size bound, no DTD (a `<!DOCTYPE` is refused, so no entity can be defined or expanded),
//! at most [`MAX_ARGS`] arguments, and only the five predefined entities and character
//! references in text. [`Browse::from_action`] turns the arguments into typed values, with
//! UPnP's error 402 for a bad one.

use quick_xml::events::Event;
use quick_xml::Reader;
use thiserror::Error;

use crate::xml::escape;

/// Largest request body read (a `Browse` is well under 2 KiB).
pub const MAX_BODY: usize = 64 * 1024;
/// Most arguments kept from one action.
pub const MAX_ARGS: usize = 32;

/// A UPnP error, answered as a SOAP fault with HTTP 500.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("UPnP error {code}: {description}")]
pub struct Fault {
    /// The UPnP error code (401 invalid action, 402 invalid args, 701 no such object…).
    pub code: u16,
    /// Its description.
    pub description: String,
}

impl Fault {
    /// 401: the action is not one the service has, or the request is not a SOAP action.
    pub fn invalid_action(why: impl Into<String>) -> Fault {
        Fault {
            code: 401,
            description: why.into(),
        }
    }

    /// 402: an argument is missing or has a value that cannot be used.
    pub fn invalid_args(why: impl Into<String>) -> Fault {
        Fault {
            code: 402,
            description: why.into(),
        }
    }

    /// 701: the object id names nothing.
    pub fn no_such_object() -> Fault {
        Fault {
            code: 701,
            description: "No such object".into(),
        }
    }

    /// The fault's SOAP envelope.
    pub fn to_xml(&self) -> String {
        envelope(&format!(
            "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>\
             <UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>{}</errorCode>\
             <errorDescription>{}</errorDescription></UPnPError></detail></s:Fault>",
            self.code,
            escape(&self.description)
        ))
    }
}

/// A SOAP action request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The action's name (`Browse`).
    pub name: String,
    /// Its arguments, in order.
    pub args: Vec<(String, String)>,
}

impl Action {
    /// The value of argument `name`.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The action named by a `SOAPACTION` header (`"urn:…:ContentDirectory:1#Browse"`, quotes
/// optional): (service type, action name).
pub fn soap_action_header(value: &str) -> Option<(&str, &str)> {
    let v = value.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v);
    let (service, action) = v.rsplit_once('#')?;
    (!service.is_empty() && !action.is_empty()).then_some((service, action))
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Where [`parse_action`] is in the envelope: depth 1 is `Envelope`, 2 `Body`, 3 the action,
/// 4 an argument.
#[derive(Default)]
struct Walk {
    depth: usize,
    in_body: bool,
    action: Option<Action>,
    arg: Option<(String, String)>,
}

impl Walk {
    fn open(&mut self, name: &str) {
        self.depth += 1;
        match self.depth {
            2 => self.in_body = name == "Body",
            3 if self.in_body && self.action.is_none() => {
                self.action = Some(Action {
                    name: name.to_owned(),
                    args: Vec::new(),
                })
            }
            4 if self.in_body => self.arg = Some((name.to_owned(), String::new())),
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if let Some((_, value)) = &mut self.arg {
            value.push_str(text);
        }
    }

    fn close(&mut self) -> Result<(), Fault> {
        if self.depth == 4 {
            if let (Some(done), Some(action)) = (self.arg.take(), self.action.as_mut()) {
                if action.args.len() >= MAX_ARGS {
                    return Err(Fault::invalid_args("too many arguments"));
                }
                action.args.push(done);
            }
        }
        if self.depth == 2 {
            self.in_body = false;
        }
        self.depth = self.depth.saturating_sub(1);
        Ok(())
    }
}

/// The action in a SOAP request body.
pub fn parse_action(body: &[u8]) -> Result<Action, Fault> {
    let bad = |why: &str| Fault::invalid_action(format!("not a SOAP action: {why}"));
    if body.len() > MAX_BODY {
        return Err(bad("too large"));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    let mut walk = Walk::default();
    loop {
        match reader.read_event().map_err(|e| bad(&e.to_string()))? {
            Event::DocType(_) => return Err(bad("a DTD is not accepted")),
            Event::Start(e) => walk.open(e.local_name().as_ref()),
            Event::Empty(e) => {
                walk.open(e.local_name().as_ref());
                walk.close()?;
            }
            Event::End(_) => walk.close()?,
            Event::Text(t) => walk.text(&t),
            Event::CData(t) => walk.text(&t),
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    predefined(&r)
                };
                let mut buf = [0u8; 4];
                walk.text(
                    c.ok_or_else(|| bad("unknown entity"))?
                        .encode_utf8(&mut buf),
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    walk.action.ok_or_else(|| bad("no action in the Body"))
}

/// `inner` inside a SOAP envelope and body.
fn envelope(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<s:Envelope \
         xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>{inner}</s:Body></s:Envelope>"
    )
}

/// The response envelope of `action` of `service` with output arguments `out` (values are
/// text, escaped here; a DIDL-Lite `Result` is thus escaped once more, as UPnP wants).
pub fn response(service: &str, action: &str, out: &[(&str, &str)]) -> String {
    let args: String = out
        .iter()
        .map(|(k, v)| format!("<{k}>{}</{k}>", escape(v)))
        .collect();
    envelope(&format!(
        "<u:{action}Response xmlns:u=\"{}\">{args}</u:{action}Response>",
        escape(service)
    ))
}

/// What `Browse` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowseFlag {
    /// The object itself.
    Metadata,
    /// Its children.
    DirectChildren,
}

/// A ContentDirectory `Browse` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browse {
    /// The object browsed (`0` is the root).
    pub object_id: String,
    /// The object or its children.
    pub flag: BrowseFlag,
    /// Index of the first child returned.
    pub start: u32,
    /// Most children returned (0: all).
    pub count: u32,
}

impl Browse {
    /// The `Browse` in `action`, or fault 402.
    pub fn from_action(action: &Action) -> Result<Browse, Fault> {
        let object_id = action
            .arg("ObjectID")
            .ok_or_else(|| Fault::invalid_args("ObjectID is missing"))?
            .trim()
            .to_owned();
        let flag = match action.arg("BrowseFlag").map(str::trim) {
            Some("BrowseMetadata") => BrowseFlag::Metadata,
            Some("BrowseDirectChildren") => BrowseFlag::DirectChildren,
            _ => {
                return Err(Fault::invalid_args(
                    "BrowseFlag must be BrowseMetadata or BrowseDirectChildren",
                ))
            }
        };
        let number = |name: &str| -> Result<u32, Fault> {
            match action.arg(name).map(str::trim) {
                None | Some("") => Ok(0),
                Some(v) => v
                    .parse::<u32>()
                    .map_err(|_| Fault::invalid_args(format!("{name} is not a number"))),
            }
        };
        Ok(Browse {
            object_id,
            flag,
            start: number("StartingIndex")?,
            count: number("RequestedCount")?,
        })
    }
}

#[cfg(test)]
mod tests;
