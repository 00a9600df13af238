//! Who the LAN server admits and how much it takes ([`LanConfig`]), from the same layers as
//! the rest of the configuration: command line over environment over the `[lan]` table of
//! the TOML file over the safe defaults of [`LanConfig::default`].
//!
//! Lists (hosts, networks, CORS origins) are replaced by a higher layer, never merged, so
//! what a layer says is exactly what applies. Environment lists are comma-separated. The
//! `[lan.limits]` table has no flag or variable: see [`super::limits`].

use super::limits::{FileLimits, Limits};
use super::net::IpNet;
use super::Resolved;
use crate::error::{Error, Result};
use crate::secret::Sensitive;

pub use super::layer::FileLan;

/// The Subsonic user name when none is set.
pub const DEFAULT_SUBSONIC_USER: &str = "bucketstream";

/// The resolved LAN settings: everything about who the LAN server admits that is
/// configuration (the server adds its key store and host name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanConfig {
    /// Let every LAN client in without the key (the owner's deliberate choice; `Host` and
    /// `Origin` checks still apply). Default `false`.
    pub open_to_lan: bool,
    /// Host names accepted in `Host` and `Origin` besides IP literals, `localhost` and the
    /// mDNS name (e.g. a name the owner gave the machine in the router's DNS). Default empty.
    pub allowed_hosts: Vec<String>,
    /// Clients whose address is in one of these need no key. Default loopback
    /// (`127.0.0.0/8`, `::1/128`). Only the TCP peer address is used; `X-Forwarded-For`
    /// and the like are never read.
    pub trusted_networks: Vec<IpNet>,
    /// Origins (`http://host:port`) granted CORS. Default empty: CORS closed.
    pub cors_origins: Vec<String>,
    /// Advertise over mDNS/DNS-SD as `_http._tcp` "Bucketstream on HOST" while serving
    /// (it is how phones find the host); never done when the listener is bound to a
    /// loopback address, so tests and loopback-only embeddings stay quiet. Default on.
    pub mdns: bool,
    /// Paired LAN devices may upload to the library (`/api/uploads`); the owner always may.
    /// Default `false`: LAN devices get `403 upload_forbidden`.
    pub uploads: bool,
    /// Libraries with more items than this are paged, searched and grouped on the server by
    /// the player (`lan.paging_threshold`, reported in `/api/health`); at or below it the
    /// player loads the whole list and works in the page. Default
    /// [`DEFAULT_PAGING_THRESHOLD`].
    pub paging_threshold: usize,
    /// Resource bounds.
    pub limits: Limits,
    /// Answer DLNA/UPnP control points (TVs, Kodi, VLC) in the trusted networks: SSDP and the
    /// MediaServer at `/dlna`. Default `false`: DLNA has no authentication.
    pub dlna: bool,
    /// The Subsonic API's account (`/rest`); `None` (the default) keeps the API off.
    pub subsonic: Option<SubsonicAccount>,
    /// Remux and transcode with ffmpeg (`/transcode/{id}`).
    pub transcode: TranscodeConfig,
}

/// The `[transcode]` settings: where ffmpeg is, how many run at once, where outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscodeConfig {
    /// The ffmpeg program (`transcode.ffmpeg`); default `ffmpeg` from `PATH`.
    pub ffmpeg: std::path::PathBuf,
    /// Most ffmpeg processes at once (`transcode.max_concurrent`); default half the cores,
    /// at least 1.
    pub max_concurrent: usize,
    /// Folder of outputs (`transcode.cache_dir`); finished ones are kept across restarts;
    /// `None`: a folder of its own under the system's temporary folder.
    pub cache_dir: Option<std::path::PathBuf>,
    /// Most bytes of finished outputs kept (`transcode.cache_max_bytes`).
    pub cache_max_bytes: u64,
}

/// The transcode cache's default cap: 2 GiB, about two hours of 720p H.264 at 2.5 Mbit/s.
pub const DEFAULT_TRANSCODE_CACHE_BYTES: u64 = 2 << 30;

/// Half the cores, at least 1: ffmpeg takes a core or more per full transcode, and the
/// server, the desktop window and the scan need the rest.
pub fn default_max_transcodes() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() / 2)
        .unwrap_or(1)
        .max(1)
}

/// The one account Subsonic apps sign in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsonicAccount {
    /// The user name.
    pub user: String,
    /// The password (Subsonic's token scheme needs it in the clear to check md5(password + salt)).
    pub password: Sensitive<String>,
    /// An API key for OpenSubsonic's `apiKeyAuthentication` (`BUCKETSTREAM_SUBSONIC_API_KEY`),
    /// for apps that sign in with a key instead of the password. `None`: keys are refused.
    pub api_key: Option<Sensitive<String>>,
}

/// The default paging threshold: 5,000 items. Below it the whole list is about 2.6 MB of
/// JSON (528 B an item), loads in well under a second on a phone over Wi-Fi, and the page
/// filters, sorts and groups it in a few milliseconds; above it the list's transfer, parse
/// and memory grow with every item (528 MB at 1,000,000) while a server page stays 100 items.
pub const DEFAULT_PAGING_THRESHOLD: usize = 5_000;

impl Default for LanConfig {
    /// The safe defaults of the table of settings: key required, loopback trusted, CORS
    /// closed, mDNS on.
    fn default() -> LanConfig {
        from_resolved(Resolved::default(), Limits::default())
    }
}

fn from_resolved(r: Resolved, limits: Limits) -> LanConfig {
    LanConfig {
        open_to_lan: r.open_to_lan,
        allowed_hosts: r.allowed_hosts,
        trusted_networks: r.trusted_networks,
        cors_origins: r.cors_origins,
        mdns: r.mdns,
        uploads: r.lan_uploads,
        paging_threshold: r.paging_threshold,
        limits,
        dlna: r.dlna,
        subsonic: None,
        transcode: TranscodeConfig {
            ffmpeg: r.transcode_ffmpeg,
            max_concurrent: r.transcode_max_concurrent,
            cache_dir: r.transcode_cache_dir,
            cache_max_bytes: r.transcode_cache_max_bytes,
        },
    }
}

/// The Subsonic password: the variable `BUCKETSTREAM_SUBSONIC_PASSWORD` (already looked up,
/// as `from_env`), else the first line of the password file. An empty password is none.
fn subsonic_password(
    from_env: Option<&str>,
    file: Option<&std::path::Path>,
) -> Result<Option<String>> {
    let password = match (from_env, file) {
        (Some(p), _) => p.to_owned(),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::Config(format!(
                    "cannot read the Subsonic password file {}: {e}",
                    path.display()
                ))
            })?;
            text.lines().next().unwrap_or_default().to_owned()
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(password).filter(|p| !p.is_empty()))
}

/// The LAN settings of `r`, checked, with the file's `[lan.limits]` over [`Limits::default`]
/// and the Subsonic password from `password_env` or the password file.
pub(super) fn resolve(
    r: Resolved,
    limits: Option<&FileLimits>,
    password_env: Option<&str>,
    api_key_env: Option<&str>,
) -> Result<LanConfig> {
    for origin in &r.cors_origins {
        let scheme_ok = origin.starts_with("http://") || origin.starts_with("https://");
        if !scheme_ok || origin.ends_with('/') || origin == "http://" || origin == "https://" {
            return Err(Error::Config(format!(
                "CORS origin {origin:?} must look like http://host[:port] (no path, no trailing /)"
            )));
        }
    }
    for host in &r.allowed_hosts {
        if host.is_empty() || host.contains(['/', ' ', ',']) {
            return Err(Error::Config(format!(
                "allowed host {host:?} must be a plain host name"
            )));
        }
    }
    let limits = match limits {
        Some(file) => file.over(Limits::default())?,
        None => Limits::default(),
    };
    if r.subsonic_user.trim().is_empty() || r.subsonic_user.len() > 128 {
        return Err(Error::Config(
            "the Subsonic user name must be 1 to 128 characters".into(),
        ));
    }
    let password = subsonic_password(password_env, r.subsonic_password_file.as_deref())?;
    let user = r.subsonic_user.clone();
    let mut lan = from_resolved(r, limits);
    let api_key = api_key_env
        .filter(|k| !k.is_empty())
        .map(|k| Sensitive::new(k.to_owned()));
    lan.subsonic = password.map(|p| SubsonicAccount {
        user,
        password: Sensitive::new(p),
        api_key,
    });
    Ok(lan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::parse;
    use crate::config::{FileConfig, Inputs, Layer};
    use std::collections::HashMap;
    use std::path::Path;
    use std::time::Duration;

    fn resolve_lan(
        args: &Layer,
        env: &HashMap<String, String>,
        file: Option<&FileConfig>,
    ) -> Result<LanConfig> {
        Inputs {
            args: args.clone(),
            env: env.clone(),
            file: file.cloned(),
            ..Inputs::default()
        }
        .lan()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(text: &str) -> FileConfig {
        parse(text, Path::new("c.toml")).expect("parses")
    }

    #[test]
    fn nothing_said_is_the_safe_default() {
        let lan = resolve_lan(&Layer::default(), &env(&[]), None).expect("ok");
        assert_eq!(lan, LanConfig::default());
        assert!(!lan.open_to_lan);
        assert_eq!(lan.trusted_networks, IpNet::loopback());
        assert!(lan.cors_origins.is_empty());
    }

    #[test]
    fn file_table_is_read_whole() {
        let f = file(
            r#"
            [lan]
            open_to_lan = true
            allowed_hosts = ["media.home.arpa"]
            trusted_networks = ["192.168.1.0/24", "::1"]
            cors_origins = ["http://tv.home.arpa:8000"]
            mdns = false
            [lan.limits]
            max_connections = 500
            header_read_timeout_secs = 5
            ws_burst = 4
            fd_reserve = 100
            trusted_reserve = 10
            ws_send_timeout_secs = 7
            ws_max_queued_bytes = 65536
            max_websockets_per_client = 3
            max_websockets_per_trusted_client = 500
            "#,
        );
        let lan = resolve_lan(&Layer::default(), &env(&[]), Some(&f)).expect("ok");
        assert!(lan.open_to_lan);
        assert!(!lan.mdns);
        assert_eq!(lan.allowed_hosts, ["media.home.arpa"]);
        assert_eq!(
            lan.trusted_networks,
            vec![
                "192.168.1.0/24".parse::<IpNet>().expect("net"),
                "::1".parse().expect("net")
            ]
        );
        assert_eq!(lan.cors_origins, ["http://tv.home.arpa:8000"]);
        assert_eq!(lan.limits.max_connections, 500);
        assert_eq!(lan.limits.header_read_timeout, Duration::from_secs(5));
        assert_eq!(lan.limits.ws_burst, 4);
        assert_eq!(lan.limits.max_headers, Limits::default().max_headers);
        assert_eq!(lan.limits.fd_reserve, 100);
        assert_eq!(lan.limits.trusted_reserve, 10);
        assert_eq!(lan.limits.ws_send_timeout, Duration::from_secs(7));
        assert_eq!(lan.limits.ws_max_queued_bytes, 65536);
        assert_eq!(lan.limits.max_websockets_per_client, 3);
        assert_eq!(lan.limits.max_websockets_per_trusted_client, 500);
    }

    #[test]
    fn cli_over_env_over_file_and_lists_replace() {
        let f = file("[lan]\nallowed_hosts = [\"a.lan\"]\ntrusted_networks = [\"10.0.0.0/8\"]\nmdns = true\n");
        let e = env(&[
            ("BUCKETSTREAM_ALLOWED_HOSTS", " b.lan , c.lan,"),
            ("BUCKETSTREAM_MDNS", "false"),
        ]);
        let lan = resolve_lan(&Layer::default(), &e, Some(&f)).expect("ok");
        assert_eq!(lan.allowed_hosts, ["b.lan", "c.lan"]);
        assert_eq!(
            lan.trusted_networks,
            vec!["10.0.0.0/8".parse().expect("net")]
        );
        assert!(!lan.mdns);
        let cli = Layer {
            allowed_hosts: Some(vec!["d.lan".into()]),
            trusted_networks: Some(vec!["127.0.0.1".parse().expect("net")]),
            ..Layer::default()
        };
        let lan = resolve_lan(&cli, &e, Some(&f)).expect("ok");
        assert_eq!(lan.allowed_hosts, ["d.lan"]);
        assert_eq!(
            lan.trusted_networks,
            vec!["127.0.0.1".parse().expect("net")]
        );
        // --no-mdns wins over a file that turns it on; --open-to-lan over an env that says no.
        let cli = Layer {
            mdns: Some(false),
            open_to_lan: Some(true),
            ..Layer::default()
        };
        let e = env(&[("BUCKETSTREAM_OPEN_TO_LAN", "false")]);
        let lan = resolve_lan(&cli, &e, Some(&f)).expect("ok");
        assert!(!lan.mdns);
        assert!(lan.open_to_lan);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        type Vars = &'static [(&'static str, &'static str)];
        let cases: &[(&str, Vars, &str)] = &[
            (
                "[lan]\ntrusted_networks = [\"10.0.0.0/33\"]\n",
                &[],
                "trusted network",
            ),
            (
                "",
                &[("BUCKETSTREAM_TRUSTED_NETWORKS", "lan")],
                "BUCKETSTREAM_TRUSTED_NETWORKS",
            ),
            ("[lan]\ncors_origins = [\"*\"]\n", &[], "CORS origin"),
            (
                "[lan]\ncors_origins = [\"http://a/\"]\n",
                &[],
                "CORS origin",
            ),
            ("[lan]\nallowed_hosts = [\"a b\"]\n", &[], "allowed host"),
            (
                "[lan.limits]\nmax_connections = 0\n",
                &[],
                "max_connections",
            ),
            (
                "[lan.limits]\nidle_timeout_secs = 0\n",
                &[],
                "idle_timeout_secs",
            ),
            ("[lan.limits]\nmax_header_bytes = 100\n", &[], "8192"),
            ("[lan.limits]\nfd_reserve = 0\n", &[], "fd_reserve"),
            (
                "[lan.limits]\nws_send_timeout_secs = 0\n",
                &[],
                "ws_send_timeout_secs",
            ),
            (
                "[lan.limits]\nmax_websockets_per_trusted_client = 0\n",
                &[],
                "max_websockets_per_trusted_client",
            ),
            (
                "",
                &[("BUCKETSTREAM_OPEN_TO_LAN", "maybe")],
                "BUCKETSTREAM_OPEN_TO_LAN",
            ),
        ];
        for (text, vars, want) in cases {
            let f = file(text);
            let err = resolve_lan(&Layer::default(), &env(vars), Some(&f)).expect_err(text);
            assert!(err.to_string().contains(want), "{text:?} {vars:?}: {err}");
        }
        assert!(parse("[lan]\nkey = \"secret\"\n", Path::new("c.toml")).is_err());
        assert!(parse("[lan.limits]\nmax_conections = 5\n", Path::new("c.toml")).is_err());
    }

    #[test]
    fn subsonic_is_off_without_a_password() {
        let lan = resolve_lan(&Layer::default(), &env(&[]), None).expect("ok");
        assert_eq!(lan.subsonic, None);
        let lan = resolve_lan(
            &Layer::default(),
            &env(&[("BUCKETSTREAM_SUBSONIC_PASSWORD", "")]),
            None,
        )
        .expect("ok");
        assert_eq!(lan.subsonic, None);
    }

    #[test]
    fn subsonic_password_from_the_environment_or_a_file() {
        let lan = resolve_lan(
            &Layer::default(),
            &env(&[
                ("BUCKETSTREAM_SUBSONIC_PASSWORD", "sesame"),
                ("BUCKETSTREAM_SUBSONIC_USER", "ann"),
            ]),
            None,
        )
        .expect("ok");
        let account = lan.subsonic.expect("on");
        assert_eq!(account.user, "ann");
        assert_eq!(account.password.expose(), "sesame");
        assert_eq!(account.api_key, None);
        assert!(!format!("{account:?}").contains("sesame"));

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pw");
        std::fs::write(&path, "from file\nsecond line ignored\n").expect("write");
        let f = file(&format!(
            "[lan]\nsubsonic_password_file = {:?}\n",
            path.display().to_string()
        ));
        let lan = resolve_lan(&Layer::default(), &env(&[]), Some(&f)).expect("ok");
        let account = lan.subsonic.expect("on");
        assert_eq!(account.user, DEFAULT_SUBSONIC_USER);
        assert_eq!(account.password.expose(), "from file");

        let missing = file("[lan]\nsubsonic_password_file = \"/nonexistent/pw\"\n");
        let err = resolve_lan(&Layer::default(), &env(&[]), Some(&missing)).expect_err("refused");
        assert!(err.to_string().contains("/nonexistent/pw"), "{err}");
        let long = "u".repeat(129);
        let too_long = env(&[("BUCKETSTREAM_SUBSONIC_USER", long.as_str())]);
        assert!(resolve_lan(&Layer::default(), &too_long, None).is_err());
    }
}
