//! The OpenSubsonic API at `/rest/*`, so Subsonic apps on phones and desktops (Symfonium,
//! DSub, Feishin, Sublime Music…) browse and play the library through this host and its edge
//! cache.
//!
//! One handler takes every method (GET or form POST, with or without `.view`): it reads the
//! parameters, checks the account (token, password or API key; failed attempts limited per
//! client), decides a [`Reply`] and renders it in one place, in XML or JSON as asked. The API
//! is off (error 50 for everything) until the owner sets a password. The LAN gate's Host and
//! resource rules apply; the pairing key does not, since these clients sign in themselves.

mod account;
mod browse;
mod dialect;
mod map;
mod marks;
mod rating;
mod user;

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bucketstream_subsonic::auth::{self, Account, FailureLimit};
use bucketstream_subsonic::envelope::render;
use bucketstream_subsonic::{params, Code, Format, Node, Params, SubsonicError};

use super::ServerState;
use browse::Ctx;
use dialect::Dialect;
use marks::Marks;

/// Failed sign-ins per client before it must wait.
const MAX_FAILURES: u32 = 10;
/// The window those are counted in, and the wait.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Clients whose failures are remembered.
const MAX_CLIENTS: usize = 4096;
/// Largest form body read.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The Subsonic API's state: the failed sign-ins per client, and what each player said it
/// plays now.
pub struct Gate {
    failures: Mutex<FailureLimit<IpAddr>>,
    now: account::NowPlaying,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            failures: Mutex::new(FailureLimit::new(MAX_FAILURES, FAILURE_WINDOW, MAX_CLIENTS)),
            now: account::NowPlaying::default(),
        }
    }
}

/// The account's user name (empty while the API is off, when no method runs).
fn account_user(state: &ServerState) -> String {
    state
        .options
        .subsonic
        .as_ref()
        .map(|a| a.user.clone())
        .unwrap_or_default()
}

/// What a method answers.
enum Reply {
    /// An answer element (or none, for `ping` and the like).
    Body(Option<Node>),
    /// The bytes of item `id` (with ranges), as `/media/{id}` serves them.
    Media(String),
    /// Art `hash` at `size`, as `/art/{hash}` serves it.
    Art(String, Option<String>),
    /// Item `id` transcoded with these `/transcode` parameters (`stream?maxBitRate=`).
    Transcode(String, Vec<(String, String)>),
}

/// The one place a reply becomes HTTP.
async fn render_reply(
    state: ServerState,
    reply: Result<Reply, SubsonicError>,
    format: Format,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let body = match reply {
        Ok(Reply::Media(id)) => {
            return super::media::serve(State(state), Path(id), method, None, headers).await;
        }
        Ok(Reply::Transcode(id, query)) => {
            let asked = bucketstream_dlna::streaming::Asked::default();
            return super::transcode::stream(&state, &id, Ok(query), &asked).await;
        }
        Ok(Reply::Art(hash, size)) => {
            return super::collection::art_with_size(state, hash, size, headers).await;
        }
        Ok(Reply::Body(node)) => render(format, Ok(node.as_ref()), env!("CARGO_PKG_VERSION")),
        Err(err) => render(format, Err(&err), env!("CARGO_PKG_VERSION")),
    };
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET|POST /rest/{method}`.
pub async fn rest(
    State(state): State<ServerState>,
    Path(path): Path<String>,
    req: Request,
) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
    let (parts, body) = req.into_parts();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // A form larger than the bound is not read: its parameters count as absent.
    let form = if parts.method == Method::POST && is_form {
        axum::body::to_bytes(body, MAX_FORM_BYTES).await.ok()
    } else {
        None
    };
    let params = Params::parse(parts.uri.query(), form.as_deref());
    let format = params.format();
    let reply = match signed_in(&state, &params, client) {
        Ok(()) => decide(&state, &path, &params).await,
        Err(err) => Err(err),
    };
    render_reply(state, reply, format, parts.method, parts.headers).await
}

/// Whether the request carries the account's credentials (and the client may try).
fn signed_in(state: &ServerState, params: &Params, client: IpAddr) -> Result<(), SubsonicError> {
    let Some(account) = state.options.subsonic.as_ref() else {
        return Err(SubsonicError::new(
            Code::NotAuthorized,
            "the Subsonic API is off: the owner sets a password to turn it on",
        ));
    };
    let now = Instant::now();
    let mut failures = state
        .subsonic
        .failures
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Err(wait) = failures.allowed(&client, now) {
        return Err(SubsonicError::new(
            Code::WrongCredentials,
            format!(
                "too many failed sign-ins: try again in {} s",
                wait.as_secs().max(1)
            ),
        ));
    }
    let account = Account {
        user: &account.user,
        password: account.password.expose(),
        api_key: account.api_key.as_ref().map(|k| k.expose().as_str()),
    };
    let verdict = auth::credentials(params).and_then(|c| auth::check(&c, &account));
    match &verdict {
        Ok(()) => failures.succeeded(&client),
        Err(e) if matches!(e.code, Code::WrongCredentials | Code::InvalidApiKey) => {
            failures.failed(&client, now)
        }
        Err(_) => {}
    }
    verdict
}

/// The `/transcode` parameters of `stream?maxBitRate=N&format=F` for an item of `kind` at
/// `bitrate` kbit/s: an audio item at a lower bitrate than its own (or than unknown), as AAC,
/// or Opus for `format=opus`. `None` (the bytes as they are): `format=raw`, no or zero
/// `maxBitRate`, not below the item's, or a video.
pub fn transcode_query(
    kind: bucketstream_core::media::Kind,
    bitrate: Option<u32>,
    max_bit_rate: Option<&str>,
    format: Option<&str>,
) -> Option<Vec<(String, String)>> {
    let max: u32 = max_bit_rate?.trim().parse().ok().filter(|m| *m > 0)?;
    let lower = bitrate.is_none_or(|b| max < b);
    if kind != bucketstream_core::media::Kind::Audio || format == Some("raw") || !lower {
        return None;
    }
    let mut query = vec![
        ("mode".to_owned(), "audio".to_owned()),
        ("max_bitrate".to_owned(), max.to_string()),
    ];
    if format == Some("opus") {
        query.push(("codec".to_owned(), "opus".to_owned()));
    }
    Some(query)
}

/// The reply of method `path` (`getAlbum`, `getAlbum.view`…).
async fn decide(state: &ServerState, path: &str, params: &Params) -> Result<Reply, SubsonicError> {
    let name = params::method(path)
        .ok_or_else(|| SubsonicError::not_found(&format!("method {path:?}")))?;
    // The folder-based twins run as their ID3 method, rendered in their own dialect.
    let (dialect, name) = Dialect::of(name).unwrap_or((Dialect::Id3, name));
    let node = |n: Node| Ok(Reply::Body(Some(n)));
    match name {
        "ping" => return Ok(Reply::Body(None)),
        "getLicense" => return node(Node::new("license").attr("valid", true)),
        "getOpenSubsonicExtensions" => {
            let extension = |name: &str| {
                Node::new("openSubsonicExtensions")
                    .attr("name", name)
                    .list("versions", vec![Node::new("versions").text("1")])
            };
            let mut offered = vec![extension("formPost")];
            let has_key = state
                .options
                .subsonic
                .as_ref()
                .is_some_and(|a| a.api_key.is_some());
            if has_key {
                offered.push(extension("apiKeyAuthentication"));
            }
            return node(
                Node::new("openSubsonicExtensions").list("openSubsonicExtensions", offered),
            );
        }
        "getMusicFolders" => return node(browse::music_folders("Music")),
        "stream" | "download" => {
            let id = params.required("id")?;
            let snap = state.library.snapshot();
            let Some(item) = snap.get(id) else {
                return Err(SubsonicError::not_found("song"));
            };
            let lower = match name {
                "stream" => transcode_query(
                    item.kind,
                    item.meta.bitrate_kbps,
                    params.get("maxBitRate"),
                    params.get("format"),
                ),
                _ => None,
            };
            return Ok(match lower {
                Some(query) => Reply::Transcode(id.to_owned(), query),
                None => Reply::Media(id.to_owned()),
            });
        }
        "getCoverArt" => {
            let id = params.required("id")?;
            return Ok(Reply::Art(
                id.to_owned(),
                params.get("size").map(str::to_owned),
            ));
        }
        _ => {}
    }
    let snap = state.library.snapshot();
    let views = state
        .views
        .get(state)
        .await
        .map_err(|e| SubsonicError::new(Code::Generic, e.to_string()))?;
    let listed_ms = snap
        .refreshed_at
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
    // "Now playing" notices are kept in memory; a finished play is counted in the database.
    if name == "scrobble" && !params.flag("submission", true)? {
        state.subsonic.now.notice(&snap, params)?;
        return Ok(Reply::Body(None));
    }
    if name == "getUser" {
        return node(account::user(params, &account_user(state))?);
    }
    let marks = std::sync::Arc::new(load_marks(state, &snap).await);
    if name == "getNowPlaying" {
        return node(
            state
                .subsonic
                .now
                .entries(&snap, &marks, &account_user(state)),
        );
    }
    let ctx = Ctx {
        items: &snap.items,
        albums: &views.albums,
        artists: &views.artists,
        genres: &views.genres,
        listed_ms,
        marks: &marks,
    };
    // The methods that read or write the listener's data (the album lists by use among them).
    let by_use = matches!(
        params.get("type"),
        Some("frequent" | "recent" | "starred" | "highest")
    );
    if USER_METHODS.contains(&name) || (name == "getAlbumList2" && by_use) {
        return user_method(
            state,
            name,
            dialect,
            params,
            snap.clone(),
            views.clone(),
            marks,
        )
        .await;
    }
    let found = match name {
        "getIndexes" => browse::indexes(&ctx),
        "getMusicDirectory" => browse::directory(&ctx, params.required("id")?)?,
        "getArtists" => browse::artists(&ctx),
        "getArtist" => browse::artist(&ctx, params.required("id")?)?,
        "getAlbum" => browse::album(&ctx, params.required("id")?)?,
        "getSong" => snap
            .get(params.required("id")?)
            .map(|i| marks.song(i).node("song"))
            .ok_or_else(|| SubsonicError::not_found("song"))?,
        "getGenres" => browse::genres(&ctx),
        "getAlbumList2" => dialect.album_list(&browse::album_list(&ctx, params)?),
        "getRandomSongs" => browse::random_songs(&ctx, params)?,
        "search3" => browse::search(&ctx, params, dialect)?,
        other => {
            return Err(SubsonicError::not_found(&format!(
                "method {other:?} (not offered by this server)"
            )))
        }
    };
    node(found)
}

/// The listener's marks for the items of `snap` (none when the media library is off; logged
/// and none when the database cannot be read: the answer still lists the library).
async fn load_marks(
    state: &ServerState,
    snap: &std::sync::Arc<bucketstream_core::catalog::Snapshot>,
) -> Marks {
    let Some(media) = state.media.clone() else {
        return Marks::default();
    };
    let source = state.library.catalog().identity().to_owned();
    let snap = snap.clone();
    let loaded = tokio::task::spawn_blocking(move || Marks::load(media.db(), &source, &snap))
        .await
        .map_err(|e| e.to_string())
        .and_then(|read| read.map_err(|e| e.to_string()));
    loaded.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "cannot read the listener's marks; answering without them");
        Marks::default()
    })
}

/// The methods that read or write the listener's data in the library database.
const USER_METHODS: [&str; 13] = [
    "scrobble",
    "setRating",
    "star",
    "unstar",
    "getStarred2",
    "getPlaylists",
    "getPlaylist",
    "createPlaylist",
    "updatePlaylist",
    "deletePlaylist",
    "getBookmarks",
    "createBookmark",
    "deleteBookmark",
];

/// Runs user method `name` on the blocking pool (SQLite calls block).
async fn user_method(
    state: &ServerState,
    name: &str,
    dialect: Dialect,
    params: &Params,
    snap: std::sync::Arc<bucketstream_core::catalog::Snapshot>,
    views: std::sync::Arc<super::collection::Views>,
    marks: std::sync::Arc<Marks>,
) -> Result<Reply, SubsonicError> {
    let media = state.media.clone().ok_or_else(|| {
        SubsonicError::new(
            Code::Generic,
            "the media library (its database) is off on this server",
        )
    })?;
    let user = account_user(state);
    let source = state.library.catalog().identity().to_owned();
    let (name, params) = (name.to_owned(), params.clone());
    let done = tokio::task::spawn_blocking(move || {
        let ctx = user::UserCtx {
            db: media.db(),
            source: &source,
            snap: &snap,
            albums: &views.albums,
            artists: &views.artists,
            user: &user,
            marks: &marks,
        };
        match name.as_str() {
            "scrobble" => user::scrobble(&ctx, &params),
            "star" => user::star(&ctx, &params, true),
            "unstar" => user::star(&ctx, &params, false),
            "getStarred2" => Ok(Some(user::starred(&ctx, dialect))),
            "getPlaylists" => user::playlists(&ctx).map(Some),
            "getPlaylist" => user::playlist(&ctx, &params).map(Some),
            "createPlaylist" => user::create_playlist(&ctx, &params).map(Some),
            "updatePlaylist" => user::update_playlist(&ctx, &params),
            "deletePlaylist" => user::delete_playlist(&ctx, &params),
            "getBookmarks" => user::bookmarks(&ctx).map(Some),
            "createBookmark" => user::bookmark(&ctx, &params, true),
            "deleteBookmark" => user::bookmark(&ctx, &params, false),
            "setRating" => rating::set_rating(&ctx, &params),
            "getAlbumList2" if params.get("type") == Some("highest") => {
                rating::highest(&ctx, &params).map(|albums| Some(dialect.album_list(&albums)))
            }
            "getAlbumList2" => {
                let kind = params.get("type").unwrap_or_default().to_owned();
                user::album_list_by_use(&ctx, &kind, &params)
                    .map(|albums| Some(dialect.album_list(&albums)))
            }
            other => Err(SubsonicError::not_found(&format!(
                "method {other:?} (not offered by this server)"
            ))),
        }
    })
    .await
    .map_err(|e| SubsonicError::new(Code::Generic, e.to_string()))?;
    done.map(Reply::Body)
}

#[cfg(test)]
mod transcode_tests {
    use super::transcode_query;
    use bucketstream_core::media::Kind;

    #[test]
    fn stream_transcodes_only_audio_below_its_bitrate() {
        let q = |kind, bitrate, max, format| {
            transcode_query(kind, bitrate, max, format).map(|q| {
                q.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            })
        };
        let a = Kind::Audio;
        let cases = [
            (
                q(a, Some(320), Some("128"), None),
                Some("mode=audio&max_bitrate=128"),
            ),
            (
                q(a, None, Some("96"), Some("mp3")),
                Some("mode=audio&max_bitrate=96"),
            ),
            (
                q(a, Some(900), Some("64"), Some("opus")),
                Some("mode=audio&max_bitrate=64&codec=opus"),
            ),
            (q(a, Some(128), Some("128"), None), None),
            (q(a, Some(128), Some("320"), None), None),
            (q(a, Some(320), Some("128"), Some("raw")), None),
            (q(a, Some(320), Some("0"), None), None),
            (q(a, Some(320), None, None), None),
            (q(a, Some(320), Some("x"), None), None),
            (q(Kind::Video, Some(3000), Some("128"), None), None),
        ];
        for (got, want) in cases {
            assert_eq!(got.as_deref(), want);
        }
    }
}
