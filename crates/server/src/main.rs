//! `bucketstream-server`: the headless LAN server, for machines with no display.
//!
//! Glue only: parse flags, load the configuration the way the desktop does
//! ([`app::load`]: flags over environment over config file over defaults), bind, and hand
//! the listener to the core's server. Every
//! failure is one line on stderr and a non-zero exit.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use bucketstream_core::app::{self, BindProblem};
use bucketstream_core::config::{Layer, Loaded};
use bucketstream_core::source::manage::s3::Created;
use bucketstream_core::{Config, Library};
use bucketstream_lan::{self as server, Access, FileKeyStore, LanOptions, ServerState};
use bucketstream_library::MediaLibrary;

/// mimalloc rather than the system allocator (see Cargo.toml): measured in BENCHMARKS.md's
/// #15 section (start and memory at 1,000,000 items).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::Parser;

/// Serve an S3 bucket (or local folders) of music and video to every browser on the LAN.
#[derive(Debug, Parser)]
#[command(name = "bucketstream-server", version)]
struct Cli {
    /// Every setting's flag (declared once, with its variable and file key, in the core).
    #[command(flatten)]
    settings: Layer,
    /// Config file [default: the OS config folder's bucketstream/config.toml]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Core(#[from] bucketstream_core::Error),
    #[error("cannot listen on {addr}: {problem}{}", if *problem == BindProblem::InUse { " (try --port)" } else { "" })]
    Bind {
        addr: SocketAddr,
        problem: BindProblem,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error("LAN access key: {0}")]
    Key(String),
}

fn main() -> ExitCode {
    app::init_tracing();
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

fn start(cli: Cli) -> Result<(), StartError> {
    let Loaded {
        config,
        lan: lan_config,
    } = app::load(cli.settings.clone(), cli.config.as_deref())?;
    let key_file = cli
        .access_key_file
        .clone()
        .or_else(FileKeyStore::default_path)
        .ok_or_else(|| {
            StartError::Key("no data folder for the key file; pass --access-key-file".into())
        })?;
    let lan = LanOptions {
        key_store: Some(std::sync::Arc::new(FileKeyStore::new(key_file.clone()))),
        ..LanOptions::from_config(lan_config)
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
            problem: BindProblem::of(&e),
        })?;
    let library = Library::new(config).await?;
    // `--create-bucket`: before the first listing, so that listing finds the new bucket.
    match library.ensure_bucket().await {
        Ok(Some(created)) => eprintln!(
            "bucketstream-server: {} bucket {}",
            match created {
                Created::New => "created the",
                Created::AlreadyYours => "already had the",
            },
            library.health().location
        ),
        Ok(None) => {}
        // An endpoint that is down now may be up later: the listing keeps retrying.
        Err(err @ bucketstream_core::Error::Unreachable(_)) => eprintln!(
            "bucketstream-server: warning: cannot create the bucket: {}",
            err.for_owner()
        ),
        Err(err) => return Err(err.into()),
    }
    let health = library.health();
    tracing::info!(source = health.source, location = %health.location, "library");
    let (media, seeded) = MediaLibrary::start(&library).await;
    // The first listing runs before we announce readiness, so a bad bucket or bad
    // credentials are reported at once; the server still starts and keeps retrying. With
    // the last listing from the database it runs in the background instead: the library is
    // served at once (a folder of 1,000,000 files takes tens of seconds to list too).
    if seeded {
        tracing::info!("serving the last listing; listing again in the background");
        // The refresher's first listing joins this one; a refused listing is reported the
        // same way, only later.
        let lib = library.clone();
        tokio::spawn(async move {
            if let Err(err) = lib.refresh().await {
                eprintln!(
                    "bucketstream-server: warning: {} (serving the last listing; retrying in the background)",
                    err.for_owner()
                );
            }
        });
    } else if let Err(err) = library.refresh().await {
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
    let state = match media {
        Some(media) => state.with_media(media),
        None => state,
    };
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
