//! The DLNA/UPnP MediaServer, for TVs, Kodi and VLC that find media servers by themselves:
//! the device and service descriptions and the SOAP control endpoints under `/dlna`, over the
//! same catalog, views and `/media` URLs as everything else.
//!
//! DLNA has no authentication, so it is off by default (`lan.dlna`) and, when on, answers only
//! clients in the trusted networks (the owner's); everyone else gets the same 404 as for a
//! path that does not exist. Each request is decided as an [`Answer`] and rendered in one
//! place. Discovery (SSDP) is a separate task; these routes also work given the description
//! URL directly.

pub mod events;
pub mod ssdp;
mod tree;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bucketstream_core::library::Viewer;
use bucketstream_dlna::description::{device_xml, CONNECTION_MANAGER_SCPD, CONTENT_DIRECTORY_SCPD};
use bucketstream_dlna::didl;
use bucketstream_dlna::gena::{self, Refused};
use bucketstream_dlna::soap::{self, Browse, BrowseFlag, Fault};
use bucketstream_dlna::{Device, CONNECTION_MANAGER, CONTENT_DIRECTORY};
use sha2::{Digest, Sha256};

use super::ServerState;
use events::update_id;
use tree::Tree;

/// What a DLNA request gets.
enum Answer {
    /// An XML document (description or SOAP response).
    Xml(String),
    /// A SOAP fault (HTTP 500, as UPnP wants).
    Fault(Fault),
    /// An event subscription made or renewed: its SID and granted seconds.
    Subscribed(String, u32),
    /// An event subscription ended.
    Unsubscribed,
    /// An event (un)subscription refused (400, 412 or 503).
    Refused(Refused),
    /// DLNA is off, the client is not trusted, or no such document.
    NotFound,
}

impl Answer {
    /// The one place an answer becomes HTTP.
    fn render(self) -> Response {
        let xml = |status: StatusCode, body: String| {
            let mut resp = (status, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=\"utf-8\""),
            );
            resp
        };
        match self {
            Answer::Xml(body) => xml(StatusCode::OK, body),
            Answer::Fault(fault) => xml(StatusCode::INTERNAL_SERVER_ERROR, fault.to_xml()),
            Answer::Subscribed(sid, timeout) => {
                let mut resp = StatusCode::OK.into_response();
                let h = resp.headers_mut();
                if let Ok(sid) = HeaderValue::from_str(&sid) {
                    h.insert("SID", sid);
                }
                if let Ok(timeout) = HeaderValue::from_str(&format!("Second-{timeout}")) {
                    h.insert("TIMEOUT", timeout);
                }
                resp
            }
            Answer::Unsubscribed => StatusCode::OK.into_response(),
            Answer::Refused(refused) => {
                let status = StatusCode::from_u16(refused.status())
                    .unwrap_or(StatusCode::PRECONDITION_FAILED);
                (status, refused.to_string()).into_response()
            }
            Answer::NotFound => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

/// What a media request asks of the DLNA headers (`getcontentFeatures.dlna.org`,
/// `transferMode.dlna.org`, `TimeSeekRange.dlna.org`): read here for `/media` and
/// `/transcode` alike.
pub fn asked(headers: &HeaderMap) -> bucketstream_dlna::streaming::Asked {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    bucketstream_dlna::streaming::Asked::read(
        text("getcontentfeatures.dlna.org"),
        text("transfermode.dlna.org"),
        text("timeseekrange.dlna.org"),
    )
}

/// Puts the DLNA answer headers `answer` (lowercase names) on a media answer.
pub fn put_answer(h: &mut HeaderMap, answer: Vec<(&'static str, String)>) {
    for (name, value) in answer {
        if let Ok(value) = HeaderValue::from_str(&value) {
            h.insert(header::HeaderName::from_static(name), value);
        }
    }
}

/// Whether this request may see the DLNA server: it is on and the client is trusted.
fn admitted(state: &ServerState, req: &Request) -> bool {
    state.options.dlna && req.extensions().get::<Viewer>() == Some(&Viewer::Owner)
}

/// `http://host[:port]` as the client reached us (the Host header, checked by the gate).
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// This server as a UPnP device: a uuid stable for this library on this machine.
pub fn device(state: &ServerState, base: &str) -> Device {
    let host = state
        .options
        .host_name
        .clone()
        .unwrap_or_else(super::discovery::os_host_name);
    let mut hash = Sha256::new();
    hash.update(b"bucketstream dlna\0");
    hash.update(state.library.catalog().identity().as_bytes());
    hash.update([0u8]);
    hash.update(host.as_bytes());
    let h = hex::encode(&hash.finalize()[..16]);
    Device {
        uuid: format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ),
        friendly_name: format!("Bucketstream on {host}"),
        location: format!("{base}{}", bucketstream_dlna::description::Paths::DEVICE),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// `GET /dlna/{document}`: the device or a service description.
pub async fn document(State(state): State<ServerState>, req: Request) -> Response {
    use bucketstream_dlna::description::Paths;
    if !admitted(&state, &req) {
        return Answer::NotFound.render();
    }
    let base = base_url(req.headers());
    match req.uri().path() {
        Paths::DEVICE => Answer::Xml(device_xml(&device(&state, &base))),
        Paths::CONTENT_DIRECTORY_SCPD => Answer::Xml(CONTENT_DIRECTORY_SCPD.to_owned()),
        Paths::CONNECTION_MANAGER_SCPD => Answer::Xml(CONNECTION_MANAGER_SCPD.to_owned()),
        _ => Answer::NotFound,
    }
    .render()
}

/// `SUBSCRIBE|UNSUBSCRIBE /dlna/events/{service}` ([`events`]).
pub async fn events(State(state): State<ServerState>, req: Request) -> Response {
    use bucketstream_dlna::description::Paths;
    if !admitted(&state, &req) {
        return Answer::NotFound.render();
    }
    let service = match req.uri().path() {
        Paths::CONTENT_DIRECTORY_EVENTS => events::Service::ContentDirectory,
        Paths::CONNECTION_MANAGER_EVENTS => events::Service::ConnectionManager,
        _ => return Answer::NotFound.render(),
    };
    let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return Answer::NotFound.render();
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let (sid, callback, nt) = (header("sid"), header("callback"), header("nt"));
    let answer = match req.method().as_str() {
        "SUBSCRIBE" => gena::parse_subscribe(sid, callback, nt, header("timeout"))
            .and_then(|ask| {
                state
                    .dlna_events
                    .subscribe(service, peer, ask, std::time::Instant::now())
            })
            .map(|(sid, timeout, fresh)| {
                if fresh {
                    state.dlna_events.initial(&state, service, sid.clone());
                }
                Answer::Subscribed(sid, timeout)
            }),
        "UNSUBSCRIBE" => gena::parse_unsubscribe(sid, callback, nt)
            .and_then(|sid| state.dlna_events.unsubscribe(service, &sid))
            .map(|()| Answer::Unsubscribed),
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    };
    answer.unwrap_or_else(Answer::Refused).render()
}

/// `POST /dlna/control/{service}`: a SOAP action.
pub async fn control(State(state): State<ServerState>, req: Request) -> Response {
    use bucketstream_dlna::description::Paths;
    if !admitted(&state, &req) || req.method() != Method::POST {
        return Answer::NotFound.render();
    }
    let base = base_url(req.headers());
    let service = match req.uri().path() {
        Paths::CONTENT_DIRECTORY_CONTROL => CONTENT_DIRECTORY,
        Paths::CONNECTION_MANAGER_CONTROL => CONNECTION_MANAGER,
        _ => return Answer::NotFound.render(),
    };
    let body = match axum::body::to_bytes(req.into_body(), soap::MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return Answer::Fault(Fault::invalid_action("request too large")).render(),
    };
    let action = match soap::parse_action(&body) {
        Ok(action) => action,
        Err(fault) => return Answer::Fault(fault).render(),
    };
    match decide(&state, service, &action, &base).await {
        Ok(xml) => Answer::Xml(xml),
        Err(fault) => Answer::Fault(fault),
    }
    .render()
}

/// The response envelope of `action` on `service`.
async fn decide(
    state: &ServerState,
    service: &str,
    action: &soap::Action,
    base: &str,
) -> Result<String, Fault> {
    let reply = |out: &[(&str, &str)]| Ok(soap::response(service, &action.name, out));
    match (service, action.name.as_str()) {
        (CONNECTION_MANAGER, "GetProtocolInfo") => {
            reply(&[("Source", &events::source_protocol_info()), ("Sink", "")])
        }
        (CONNECTION_MANAGER, "GetCurrentConnectionIDs") => reply(&[("ConnectionIDs", "0")]),
        (CONNECTION_MANAGER, "GetCurrentConnectionInfo") => reply(&[
            ("RcsID", "-1"),
            ("AVTransportID", "-1"),
            ("ProtocolInfo", ""),
            ("PeerConnectionManager", ""),
            ("PeerConnectionID", "-1"),
            ("Direction", "Output"),
            ("Status", "OK"),
        ]),
        (CONTENT_DIRECTORY, "GetSearchCapabilities") => reply(&[("SearchCaps", "")]),
        (CONTENT_DIRECTORY, "GetSortCapabilities") => reply(&[("SortCaps", "")]),
        (CONTENT_DIRECTORY, "GetSystemUpdateID") => {
            let id = update_id(state.library.snapshot().generation);
            reply(&[("Id", &id.to_string())])
        }
        (CONTENT_DIRECTORY, "Browse") => {
            let browse = Browse::from_action(action)?;
            let snap = state.library.snapshot();
            let views = state
                .views
                .get(state)
                .await
                .map_err(|e| Fault::invalid_action(e.to_string()))?;
            let tree = Tree {
                items: &snap.items,
                albums: &views.albums,
                artists: &views.artists,
                base,
                transcode: state.transcode.is_some(),
            };
            let (entries, total) = match browse.flag {
                BrowseFlag::Metadata => (vec![tree.metadata(&browse.object_id)?], 1),
                BrowseFlag::DirectChildren => {
                    let all = tree.children(&browse.object_id)?;
                    let total = all.len();
                    let start = usize::try_from(browse.start).unwrap_or(usize::MAX);
                    let count = match browse.count {
                        0 => usize::MAX,
                        n => usize::try_from(n).unwrap_or(usize::MAX),
                    };
                    (all.into_iter().skip(start).take(count).collect(), total)
                }
            };
            let result = didl::render(&entries);
            reply(&[
                ("Result", &result),
                ("NumberReturned", &entries.len().to_string()),
                ("TotalMatches", &total.to_string()),
                ("UpdateID", &update_id(snap.generation).to_string()),
            ])
        }
        _ => Err(Fault::invalid_action(format!(
            "no action {:?} here",
            action.name
        ))),
    }
}
