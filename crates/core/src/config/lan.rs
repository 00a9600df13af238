//! Who the LAN server admits and how much it takes, from the same layers as the rest of the
//! configuration: command line over environment over the `[lan]` table of the TOML file over
//! the safe defaults of [`crate::server::LanOptions`].
//!
//! Kept apart from [`super::resolve`] because the desktop app and the headless binary
//! resolve it at a different moment (when the LAN server starts) and add a key store that
//! is not configuration. Like `resolve`, [`resolve_lan`] is a pure function of its inputs.
//!
//! Lists (hosts, networks, CORS origins) are replaced by a higher layer, never merged, so
//! what a layer says is exactly what applies. Environment lists are comma-separated.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{parse_var, var, FileConfig};
use crate::error::{Error, Result};
use crate::server::{IpNet, Limits};

/// The `[lan]` table of the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLan {
    /// Let every LAN client in without the access key.
    pub open_to_lan: Option<bool>,
    /// Host names accepted besides IP literals, `localhost` and the mDNS name.
    pub allowed_hosts: Option<Vec<String>>,
    /// Networks (`ADDR/PREFIX`) whose clients need no key; default loopback only.
    pub trusted_networks: Option<Vec<String>>,
    /// Origins granted CORS (`http://host:port`); default none.
    pub cors_origins: Option<Vec<String>>,
    /// Advertise over mDNS/DNS-SD.
    pub mdns: Option<bool>,
    /// Resource bounds.
    pub limits: Option<FileLimits>,
}

/// The `[lan.limits]` table; every field defaults to [`Limits::default`]'s value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub max_header_bytes: Option<usize>,
    pub max_headers: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_connections_per_client: Option<usize>,
    pub max_requests_per_client: Option<usize>,
    pub header_read_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub ws_messages_per_sec: Option<u32>,
    pub ws_burst: Option<u32>,
    pub ws_max_refused: Option<u32>,
    pub fd_reserve: Option<usize>,
    pub trusted_reserve: Option<usize>,
    pub ws_send_timeout_secs: Option<u64>,
    pub ws_max_queued_bytes: Option<usize>,
    pub max_websockets_per_client: Option<usize>,
    pub max_websockets_per_trusted_client: Option<usize>,
}

/// LAN settings given on the command line (absent or empty: not said there).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanOverrides {
    /// `--open-to-lan`.
    pub open_to_lan: bool,
    /// `--allow-host` (repeatable).
    pub allowed_hosts: Vec<String>,
    /// `--trusted-network` (repeatable).
    pub trusted_networks: Vec<IpNet>,
    /// `--cors-origin` (repeatable).
    pub cors_origins: Vec<String>,
    /// `--no-mdns`.
    pub no_mdns: bool,
}

/// The resolved LAN settings: everything of [`crate::server::LanOptions`] that is
/// configuration (see [`crate::server::LanOptions::from_config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanConfig {
    pub open_to_lan: bool,
    pub allowed_hosts: Vec<String>,
    pub trusted_networks: Vec<IpNet>,
    pub cors_origins: Vec<String>,
    /// Advertise over mDNS (on by default for the binaries: it is how phones find the host).
    pub mdns: bool,
    pub limits: Limits,
}

impl Default for LanConfig {
    /// The safe defaults: key required, loopback trusted, CORS closed, mDNS on.
    fn default() -> LanConfig {
        LanConfig {
            open_to_lan: false,
            allowed_hosts: Vec::new(),
            trusted_networks: IpNet::loopback(),
            cors_origins: Vec::new(),
            mdns: true,
            limits: Limits::default(),
        }
    }
}

/// A comma-separated environment list; `None` when the variable is unset or empty.
fn env_list(env: &HashMap<String, String>, name: &str) -> Option<Vec<String>> {
    var(env, name).map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// The first layer that says something: the command line's non-empty list, else the
/// environment's, else the file's.
fn pick_list<T: Clone>(cli: &[T], env: Option<Vec<T>>, file: Option<&Vec<T>>) -> Option<Vec<T>> {
    if !cli.is_empty() {
        return Some(cli.to_vec());
    }
    env.or_else(|| file.cloned())
}

fn parse_networks(texts: &[String], layer: &str) -> Result<Vec<IpNet>> {
    texts
        .iter()
        .map(|t| {
            t.parse()
                .map_err(|e| Error::Config(format!("{layer}: trusted network: {e}")))
        })
        .collect()
}

/// Resolves the LAN settings: `cli` over `env` over the file's `[lan]` over the defaults.
pub fn resolve_lan(
    cli: &LanOverrides,
    env: &HashMap<String, String>,
    file: Option<&FileConfig>,
) -> Result<LanConfig> {
    let empty = FileLan::default();
    let flan = file.and_then(|f| f.lan.as_ref()).unwrap_or(&empty);
    let defaults = LanConfig::default();

    let open_to_lan = cli.open_to_lan
        || parse_var::<bool>(env, "BUCKETSTREAM_OPEN_TO_LAN")?
            .or(flan.open_to_lan)
            .unwrap_or(defaults.open_to_lan);
    let mdns = !cli.no_mdns
        && parse_var::<bool>(env, "BUCKETSTREAM_MDNS")?
            .or(flan.mdns)
            .unwrap_or(defaults.mdns);
    let allowed_hosts = pick_list(
        &cli.allowed_hosts,
        env_list(env, "BUCKETSTREAM_ALLOWED_HOSTS"),
        flan.allowed_hosts.as_ref(),
    )
    .unwrap_or(defaults.allowed_hosts);
    let trusted_networks = if !cli.trusted_networks.is_empty() {
        cli.trusted_networks.clone()
    } else if let Some(list) = env_list(env, "BUCKETSTREAM_TRUSTED_NETWORKS") {
        parse_networks(&list, "BUCKETSTREAM_TRUSTED_NETWORKS")?
    } else if let Some(list) = &flan.trusted_networks {
        parse_networks(list, "config file [lan]")?
    } else {
        defaults.trusted_networks
    };
    let cors_origins = pick_list(
        &cli.cors_origins,
        env_list(env, "BUCKETSTREAM_CORS_ORIGINS"),
        flan.cors_origins.as_ref(),
    )
    .unwrap_or(defaults.cors_origins);
    for origin in &cors_origins {
        let scheme_ok = origin.starts_with("http://") || origin.starts_with("https://");
        if !scheme_ok || origin.ends_with('/') || origin == "http://" || origin == "https://" {
            return Err(Error::Config(format!(
                "CORS origin {origin:?} must look like http://host[:port] (no path, no trailing /)"
            )));
        }
    }
    for host in &allowed_hosts {
        if host.is_empty() || host.contains(['/', ' ', ',']) {
            return Err(Error::Config(format!(
                "allowed host {host:?} must be a plain host name"
            )));
        }
    }
    Ok(LanConfig {
        open_to_lan,
        allowed_hosts,
        trusted_networks,
        cors_origins,
        mdns,
        limits: limits(flan.limits.as_ref())?,
    })
}

/// `[lan.limits]` over [`Limits::default`]; a zero bound would lock everyone out, so it is
/// refused with the field's name.
fn limits(file: Option<&FileLimits>) -> Result<Limits> {
    let d = Limits::default();
    let Some(f) = file else { return Ok(d) };
    let positive = |name: &str, v: Option<u64>| match v {
        Some(0) => Err(Error::Config(format!(
            "[lan.limits] {name} must be greater than 0"
        ))),
        _ => Ok(()),
    };
    let as_u64 = |v: Option<usize>| v.map(|n| n as u64);
    positive("max_header_bytes", as_u64(f.max_header_bytes))?;
    positive("max_headers", as_u64(f.max_headers))?;
    positive("max_connections", as_u64(f.max_connections))?;
    positive(
        "max_connections_per_client",
        as_u64(f.max_connections_per_client),
    )?;
    positive("max_requests_per_client", as_u64(f.max_requests_per_client))?;
    positive("header_read_timeout_secs", f.header_read_timeout_secs)?;
    positive("idle_timeout_secs", f.idle_timeout_secs)?;
    positive("ws_messages_per_sec", f.ws_messages_per_sec.map(u64::from))?;
    positive("ws_burst", f.ws_burst.map(u64::from))?;
    positive("ws_max_refused", f.ws_max_refused.map(u64::from))?;
    positive("fd_reserve", as_u64(f.fd_reserve))?;
    positive("trusted_reserve", as_u64(f.trusted_reserve))?;
    positive("ws_send_timeout_secs", f.ws_send_timeout_secs)?;
    positive("ws_max_queued_bytes", as_u64(f.ws_max_queued_bytes))?;
    positive(
        "max_websockets_per_client",
        as_u64(f.max_websockets_per_client),
    )?;
    positive(
        "max_websockets_per_trusted_client",
        as_u64(f.max_websockets_per_trusted_client),
    )?;
    // hyper refuses heads under 8 KiB; say so rather than silently raising it.
    if f.max_header_bytes.is_some_and(|n| n < 8192) {
        return Err(Error::Config(
            "[lan.limits] max_header_bytes must be at least 8192".into(),
        ));
    }
    Ok(Limits {
        max_header_bytes: f.max_header_bytes.unwrap_or(d.max_header_bytes),
        max_headers: f.max_headers.unwrap_or(d.max_headers),
        max_connections: f.max_connections.unwrap_or(d.max_connections),
        max_connections_per_client: f
            .max_connections_per_client
            .unwrap_or(d.max_connections_per_client),
        max_requests_per_client: f
            .max_requests_per_client
            .unwrap_or(d.max_requests_per_client),
        header_read_timeout: f
            .header_read_timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(d.header_read_timeout),
        idle_timeout: f
            .idle_timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(d.idle_timeout),
        ws_messages_per_sec: f.ws_messages_per_sec.unwrap_or(d.ws_messages_per_sec),
        ws_burst: f.ws_burst.unwrap_or(d.ws_burst),
        ws_max_refused: f.ws_max_refused.unwrap_or(d.ws_max_refused),
        fd_reserve: f.fd_reserve.unwrap_or(d.fd_reserve),
        trusted_reserve: f.trusted_reserve.unwrap_or(d.trusted_reserve),
        ws_send_timeout: f
            .ws_send_timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(d.ws_send_timeout),
        ws_max_queued_bytes: f.ws_max_queued_bytes.unwrap_or(d.ws_max_queued_bytes),
        max_websockets_per_client: f
            .max_websockets_per_client
            .unwrap_or(d.max_websockets_per_client),
        max_websockets_per_trusted_client: f
            .max_websockets_per_trusted_client
            .unwrap_or(d.max_websockets_per_trusted_client),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::parse;
    use std::path::Path;

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
        let lan = resolve_lan(&LanOverrides::default(), &env(&[]), None).expect("ok");
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
        let lan = resolve_lan(&LanOverrides::default(), &env(&[]), Some(&f)).expect("ok");
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
        let lan = resolve_lan(&LanOverrides::default(), &e, Some(&f)).expect("ok");
        assert_eq!(lan.allowed_hosts, ["b.lan", "c.lan"]);
        assert_eq!(
            lan.trusted_networks,
            vec!["10.0.0.0/8".parse().expect("net")]
        );
        assert!(!lan.mdns);
        let cli = LanOverrides {
            allowed_hosts: vec!["d.lan".into()],
            trusted_networks: vec!["127.0.0.1".parse().expect("net")],
            ..LanOverrides::default()
        };
        let lan = resolve_lan(&cli, &e, Some(&f)).expect("ok");
        assert_eq!(lan.allowed_hosts, ["d.lan"]);
        assert_eq!(
            lan.trusted_networks,
            vec!["127.0.0.1".parse().expect("net")]
        );
        // --no-mdns wins over a file that turns it on; --open-to-lan over an env that says no.
        let cli = LanOverrides {
            no_mdns: true,
            open_to_lan: true,
            ..LanOverrides::default()
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
            let err = resolve_lan(&LanOverrides::default(), &env(vars), Some(&f)).expect_err(text);
            assert!(err.to_string().contains(want), "{text:?} {vars:?}: {err}");
        }
        assert!(parse("[lan]\nkey = \"secret\"\n", Path::new("c.toml")).is_err());
        assert!(parse("[lan.limits]\nmax_conections = 5\n", Path::new("c.toml")).is_err());
    }
}
