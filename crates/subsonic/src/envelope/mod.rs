//! Every answer as one tree ([`Node`]), rendered in one place as Subsonic XML or JSON.
//!
//! A handler decides what to answer as a value; [`render`] wraps it in `subsonic-response`
//! (status, version, `type`, `serverVersion`, `openSubsonic`) and writes it in the format the
//! client asked for. The JSON follows the convention every Subsonic server uses: an element's
//! attributes are its fields, a child element is an object field, repeated children declared
//! with [`Node::list`] are an array (even of one), and text content is `value`.
//!
//! Tags and file names are hostile input: XML escapes `& < > " '` and drops the characters
//! XML 1.0 cannot carry (controls other than tab and newlines, unpaired-surrogate stand-ins
//! U+FFFE/U+FFFF), so a client's parser never fails on a song title.

use serde_json::{Map, Value as Json};

use crate::error::SubsonicError;
use crate::{API_VERSION, SERVER_TYPE};

/// The format of the answer, from the request's `f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The spec's default.
    Xml,
    /// `f=json`.
    Json,
}

impl Format {
    /// The format for the value of `f`: JSON for `json`, XML for anything else (as
    /// Subsonic does; `jsonp` is not offered, since it would let any web page read answers).
    pub fn from_param(f: Option<&str>) -> Format {
        match f {
            Some("json") => Format::Json,
            _ => Format::Xml,
        }
    }

    /// The Content-Type of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number with a fraction (non-finite values are left out).
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
}

impl Value {
    /// As XML text (an attribute's or an element's), escaped.
    fn write_xml(&self, out: &mut String) {
        match self {
            Value::Text(t) => escape_into(t, out),
            Value::Int(n) => out.push_str(&n.to_string()),
            Value::Float(f) => out.push_str(&f.to_string()),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }

    /// As a JSON scalar.
    fn to_json(&self) -> Json {
        match self {
            Value::Text(t) => Json::String(t.clone()),
            Value::Int(n) => Json::from(*n),
            Value::Float(f) => Json::from(*f),
            Value::Bool(b) => Json::Bool(*b),
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(i64::from(v))
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

/// One element of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    name: &'static str,
    attrs: Vec<(&'static str, Value)>,
    children: Vec<Child>,
    text: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Child {
    One(Node),
    Many(&'static str, Vec<Node>),
    Values(&'static str, Vec<Value>),
}

impl Node {
    /// An empty element `name`.
    pub fn new(name: &'static str) -> Node {
        Node {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
            text: None,
        }
    }

    /// With attribute `name` (a non-finite float is left out).
    pub fn attr(mut self, name: &'static str, value: impl Into<Value>) -> Node {
        let value = value.into();
        if !matches!(value, Value::Float(f) if !f.is_finite()) {
            self.attrs.push((name, value));
        }
        self
    }

    /// With attribute `name` when `value` is `Some`.
    pub fn opt<V: Into<Value>>(self, name: &'static str, value: Option<V>) -> Node {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// With one child element (a JSON object field named after it).
    pub fn child(mut self, node: Node) -> Node {
        self.children.push(Child::One(node));
        self
    }

    /// With repeated children named `name` (a JSON array, even of one; left out when empty).
    pub fn list(mut self, name: &'static str, nodes: Vec<Node>) -> Node {
        self.children.push(Child::Many(name, nodes));
        self
    }

    /// With repeated text-only children named `name` (`<folder>1</folder>`; a JSON array of
    /// the values, even of one; left out when empty).
    pub fn values(mut self, name: &'static str, values: Vec<Value>) -> Node {
        self.children.push(Child::Values(name, values));
        self
    }

    /// With text content (`value` in JSON).
    pub fn text(mut self, text: impl Into<String>) -> Node {
        self.text = Some(text.into());
        self
    }

    fn write_xml(&self, name: &str, out: &mut String) {
        out.push('<');
        out.push_str(name);
        for (key, value) in &self.attrs {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            value.write_xml(out);
            out.push('"');
        }
        if self.children.is_empty() && self.text.is_none() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if let Some(text) = &self.text {
            escape_into(text, out);
        }
        for child in &self.children {
            match child {
                Child::One(node) => node.write_xml(node.name, out),
                Child::Many(name, nodes) => nodes.iter().for_each(|n| n.write_xml(name, out)),
                Child::Values(name, values) => {
                    for value in values {
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                        value.write_xml(out);
                        out.push_str("</");
                        out.push_str(name);
                        out.push('>');
                    }
                }
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }

    fn to_json(&self) -> Json {
        let mut map = Map::new();
        for (key, value) in &self.attrs {
            map.insert((*key).to_owned(), value.to_json());
        }
        if let Some(text) = &self.text {
            map.insert("value".to_owned(), Json::String(text.clone()));
        }
        for child in &self.children {
            match child {
                Child::One(node) => {
                    map.insert(node.name.to_owned(), node.to_json());
                }
                Child::Many(_, nodes) if nodes.is_empty() => {}
                Child::Values(_, values) if values.is_empty() => {}
                Child::Values(name, values) => {
                    map.insert(
                        (*name).to_owned(),
                        Json::Array(values.iter().map(Value::to_json).collect()),
                    );
                }
                Child::Many(name, nodes) => {
                    map.insert(
                        (*name).to_owned(),
                        Json::Array(nodes.iter().map(Node::to_json).collect()),
                    );
                }
            }
        }
        Json::Object(map)
    }
}

/// Whether XML 1.0 can carry `c`.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars().filter(|&c| xml_char(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// The whole answer: `subsonic-response` holding `body` (or the error), in `format`.
/// `server_version` is Bucketstream's version, shown by clients.
pub fn render(
    format: Format,
    answer: Result<Option<&Node>, &SubsonicError>,
    server_version: &str,
) -> String {
    let mut root = Node::new("subsonic-response")
        .attr("status", if answer.is_ok() { "ok" } else { "failed" })
        .attr("version", API_VERSION)
        .attr("type", SERVER_TYPE)
        .attr("serverVersion", server_version)
        .attr("openSubsonic", true);
    match answer {
        Ok(Some(body)) => root = root.child(body.clone()),
        Ok(None) => {}
        Err(err) => {
            root = root.child(
                Node::new("error")
                    .attr("code", err.code.number())
                    .attr("message", err.message.as_str()),
            )
        }
    }
    match format {
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            // The namespace goes on the root only; it is not an attribute in JSON.
            let mut tagged = root;
            tagged
                .attrs
                .insert(0, ("xmlns", Value::from("http://subsonic.org/restapi")));
            tagged.write_xml("subsonic-response", &mut out);
            out
        }
        Format::Json => {
            let mut map = Map::new();
            map.insert("subsonic-response".to_owned(), root.to_json());
            Json::Object(map).to_string()
        }
    }
}

#[cfg(test)]
mod tests;
