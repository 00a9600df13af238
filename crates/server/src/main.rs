//! `bucketstream-server`: the headless LAN server, for machines with no display.
//!
//! Glue only: parse flags, gather the environment (process over `.env`), load the config
//! file, resolve one [`Config`], bind, and hand the listener to the core's server. Every
//! failure is one line on stderr and a non-zero exit.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use bucketstream_core::config::{self, file, Defaults, LanConfig, LanOverrides, Overrides};
use bucketstream_core::server::{self, Access, FileKeyStore, IpNet, LanOptions, ServerState};
use bucketstream_core::{Config, Library};
use clap::Parser;

/// Serve an S3 bucket (or local folders) of music and video to every browser on the LAN.
#[derive(Debug, Parser)]
#[command(name = "bucketstream-server", version)]
struct Cli {
    /// Port of the LAN server [default: 8080]
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind [default: 0.0.0.0]
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Serve this local folder (repeatable) instead of a bucket
    #[arg(long = "media-dir", value_name = "DIR")]
    media_dir: Vec<PathBuf>,
    /// S3 bucket to serve (env: BUCKET_NAME)
    #[arg(long)]
    bucket: Option<String>,
    /// S3-compatible endpoint URL (env: AWS_ENDPOINT_URL); implies path-style addressing
    #[arg(long)]
    endpoint: Option<String>,
    /// S3 region (env: AWS_REGION)
    #[arg(long)]
    region: Option<String>,
    /// Only serve keys under this prefix
    #[arg(long)]
    prefix: Option<String>,
    /// Config file [default: the OS config folder's bucketstream/config.toml]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Seconds between library refreshes, 0 for never [default: 60]
    #[arg(long = "refresh-secs")]
    refresh_secs: Option<u64>,
    /// Edge cache folder for S3 objects [default: the OS cache folder's bucketstream/chunks]
    #[arg(long = "cache-dir", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Edge cache size cap in bytes [default: 10 GiB]
    #[arg(long = "cache-max-bytes", value_name = "BYTES")]
    cache_max_bytes: Option<u64>,
    /// Turn the edge cache off (every request goes to S3)
    #[arg(long = "no-cache")]
    no_cache: bool,
    /// Let every device on the LAN in without the access key (Host checks still apply)
    #[arg(long = "open-to-lan")]
    open_to_lan: bool,
    /// Also accept this Host name (repeatable; IP literals, localhost and this machine's name always are)
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_host: Vec<String>,
    /// Clients in this network need no access key (repeatable, ADDR[/PREFIX]) [default: loopback]
    #[arg(long = "trusted-network", value_name = "NET")]
    trusted_network: Vec<IpNet>,
    /// Grant CORS to this origin, e.g. http://tv.home.arpa:8000 (repeatable) [default: none]
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origin: Vec<String>,
    /// File holding the LAN access key [default: the OS data folder's bucketstream/access-key]
    #[arg(long = "access-key-file", value_name = "FILE")]
    access_key_file: Option<PathBuf>,
    /// Make a new access key before serving (every paired browser must pair again)
    #[arg(long = "rotate-key")]
    rotate_key: bool,
    /// Print the pairing URLs (they hold the access key) for the configured address and port,
    /// then exit. Serving prints them only when stdout is a terminal, never into a log
    /// (systemd's journal); use this with the service's flags or config to see them.
    #[arg(long = "print-pairing", conflicts_with = "rotate_key")]
    print_pairing: bool,
    /// Do not advertise the server over mDNS/DNS-SD
    #[arg(long = "no-mdns")]
    no_mdns: bool,
    /// Answer media requests with a 307 to a 5-minute presigned S3 URL (clients fetch from the store)
    #[arg(long)]
    direct: bool,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Core(#[from] bucketstream_core::Error),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error("LAN access key: {0}")]
    Key(String),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BUCKETSTREAM_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // A closed stderr (a pipe whose reader left, a stopped terminal) must not stop the
        // server: by default the subscriber reports a failed write with eprintln!, which
        // panics when stderr is gone.
        .log_internal_errors(false)
        .init();
    let cli = Cli::parse();
    match start(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(StartError::Core(err)) => {
            eprintln!("bucketstream-server: {}", err.for_owner());
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("bucketstream-server: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The process environment over the `.env` file of the working directory.
fn environment() -> HashMap<String, String> {
    let mut env: HashMap<String, String> = HashMap::new();
    if let Ok(iter) = dotenvy::from_path_iter(".env") {
        env.extend(iter.flatten());
    }
    env.extend(std::env::vars());
    env
}

/// The sample folder shipped with the repository (used when no other folder exists).
fn sample_dir() -> Option<PathBuf> {
    let exe_relative = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .map(|d| d.join("../share/bucketstream/samples"))
    });
    let checkout = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples"));
    [exe_relative, Some(checkout)]
        .into_iter()
        .flatten()
        .find(|dir| dir.is_dir())
}

fn load_config(cli: &Cli) -> Result<(Config, LanConfig), StartError> {
    let env = environment();
    let file = match &cli.config {
        Some(path) => file::load(path, true)?,
        None => match file::default_path() {
            Some(path) => file::load(&path, false)?,
            None => None,
        },
    };
    let overrides = Overrides {
        bind: cli.bind,
        port: cli.port,
        media_dirs: cli.media_dir.clone(),
        bucket: cli.bucket.clone(),
        endpoint: cli.endpoint.clone(),
        region: cli.region.clone(),
        prefix: cli.prefix.clone(),
        refresh_secs: cli.refresh_secs,
        cache_dir: cli.cache_dir.clone(),
        cache_max_bytes: cli.cache_max_bytes,
        no_cache: cli.no_cache,
        direct: cli.direct,
    };
    let config = config::resolve(
        &overrides,
        &env,
        file.as_ref(),
        &Defaults::for_this_machine(sample_dir()),
    )?;
    let lan = LanOverrides {
        open_to_lan: cli.open_to_lan,
        allowed_hosts: cli.allow_host.clone(),
        trusted_networks: cli.trusted_network.clone(),
        cors_origins: cli.cors_origin.clone(),
        no_mdns: cli.no_mdns,
    };
    let lan = config::resolve_lan(&lan, &env, file.as_ref())?;
    Ok((config, lan))
}

fn start(cli: Cli) -> Result<(), StartError> {
    let (config, lan_config) = load_config(&cli)?;
    let key_file = cli
        .access_key_file
        .clone()
        .or_else(FileKeyStore::default_path)
        .ok_or_else(|| {
            StartError::Key("no data folder for the key file; pass --access-key-file".into())
        })?;
    let lan = LanOptions {
        key_store: Some(std::sync::Arc::new(FileKeyStore::new(key_file.clone()))),
        ..LanOptions::from_config(&lan_config)
    };
    if cli.print_pairing {
        return print_pairing(&config, &lan);
    }
    let pairing = Pairing {
        key_file,
        terminal: std::io::stdout().is_terminal(),
    };
    let runtime = tokio::runtime::Runtime::new().map_err(StartError::Runtime)?;
    runtime.block_on(serve(config, lan, cli.rotate_key, pairing))
}

/// Where the pairing URLs go when serving.
struct Pairing {
    /// The key file, named in the hint when the URLs are not printed.
    key_file: PathBuf,
    /// Whether stdout is a terminal (a person reads it, no log keeps it).
    terminal: bool,
}

/// `--print-pairing`: the URLs for the configured bind address and port, on stdout.
fn print_pairing(config: &Config, lan: &LanOptions) -> Result<(), StartError> {
    let access = Access::new(lan).map_err(|e| StartError::Key(e.to_string()))?;
    let urls = access.pairing_urls(config.bind, config.port);
    if urls.is_empty() {
        eprintln!(
            "bucketstream-server: no pairing URL for {}: loopback clients need no key, and no LAN address was found",
            config.bind
        );
    }
    for url in urls {
        println!("{}", url.expose());
    }
    Ok(())
}

async fn serve(
    config: Config,
    lan: LanOptions,
    rotate_key: bool,
    pairing: Pairing,
) -> Result<(), StartError> {
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Bind {
            addr,
            reason: match e.kind() {
                std::io::ErrorKind::AddrInUse => "the port is already in use (try --port)".into(),
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied (ports below 1024 need privileges)".into()
                }
                _ => e.to_string(),
            },
        })?;
    let library = Library::new(config).await?;
    let health = library.health();
    tracing::info!(source = health.source, location = %health.location, "library");
    // The first listing runs before we announce readiness, so a bad bucket or bad
    // credentials are reported at once; the server still starts and keeps retrying.
    if let Err(err) = library.refresh().await {
        eprintln!(
            "bucketstream-server: warning: {} (serving an empty library; retrying in the background)",
            err.for_owner()
        );
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(());
    });
    let (refresher_stop_tx, refresher_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let refresher = library.spawn_refresher(async move {
        let _ = refresher_stop_rx.await;
    });
    let local = listener.local_addr().map_err(StartError::Serve)?;
    let count = library.snapshot().items.len();
    let open = lan.open_to_lan;
    let state = tokio::task::spawn_blocking(move || ServerState::with_options(library, lan))
        .await
        .map_err(|e| StartError::Key(e.to_string()))?
        .map_err(|e| StartError::Key(e.to_string()))?;
    if rotate_key {
        state
            .access
            .rotate()
            .map_err(|e| StartError::Key(e.to_string()))?;
    }
    if open {
        eprintln!("bucketstream-server: open to the whole LAN (no access key needed)");
    } else if !local.ip().is_loopback() {
        // The pairing URL holds the access key and must never reach a log: printed once on
        // stdout when that is a terminal; under systemd (stdout is the journal) only a hint.
        let urls = state.access.pairing_urls(local.ip(), local.port());
        if pairing.terminal {
            for url in urls {
                println!("Pair a device (open this URL on it): {}", url.expose());
            }
        } else {
            eprintln!(
                "bucketstream-server: pairing URLs not printed (stdout is not a terminal); to see them, run as this user with the same flags: bucketstream-server --print-pairing --access-key-file {}",
                pairing.key_file.display()
            );
        }
    }
    // Last of the start-up lines (scripts and tests wait for it).
    eprintln!("bucketstream-server: listening on http://{local}/ ({count} items)");
    let result = server::run(listener, state, async move {
        let _ = stop_rx.await;
    })
    .await;
    let _ = refresher_stop_tx.send(());
    let _ = refresher.await;
    result.map_err(StartError::Serve)
}
