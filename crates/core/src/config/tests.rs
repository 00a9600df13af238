//! Precedence and validation rules of [`super::Inputs::config`], one case each.

use super::*;

/// The derivation of [`Inputs::config`] from the four inputs.
fn resolve(
    args: &Layer,
    env: &HashMap<String, String>,
    file: Option<&FileConfig>,
    defaults: &Defaults,
) -> Result<Config> {
    Inputs {
        args: args.clone(),
        env: env.clone(),
        file: file.cloned(),
        defaults: defaults.clone(),
    }
    .config()
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn defaults() -> Defaults {
    Defaults {
        media_dirs: vec![PathBuf::from("/home/u/Music")],
        cache_dir: Some(PathBuf::from("/home/u/.cache/bucketstream/chunks")),
        data_dir: Some(PathBuf::from("/home/u/.local/share/bucketstream")),
    }
}

#[test]
fn defaults_serve_the_default_folders_on_8080() {
    let cfg = resolve(&Layer::default(), &env(&[]), None, &defaults()).expect("resolves");
    assert_eq!(cfg.port, 8080);
    assert_eq!(cfg.bind.to_string(), "0.0.0.0");
    assert_eq!(cfg.refresh, Some(Duration::from_secs(60)));
    assert_eq!(
        cfg.source,
        SourceConfig::Local(LocalConfig {
            roots: vec!["/home/u/Music".into()]
        })
    );
}

#[test]
fn nothing_at_all_is_a_clear_error() {
    let err = resolve(&Layer::default(), &env(&[]), None, &Defaults::default()).unwrap_err();
    assert!(err.to_string().contains("--bucket"), "{err}");
}

#[test]
fn cli_over_env_over_file() {
    let file = FileConfig {
        port: Some(1000),
        refresh_secs: Some(5),
        ..FileConfig::default()
    };
    let e = env(&[("BUCKETSTREAM_PORT", "2000")]);
    let cfg = resolve(&Layer::default(), &e, Some(&file), &defaults()).expect("ok");
    assert_eq!(cfg.port, 2000);
    assert_eq!(cfg.refresh, Some(Duration::from_secs(5)));
    let cli = Layer {
        port: Some(3000),
        refresh_secs: Some(0),
        ..Layer::default()
    };
    let cfg = resolve(&cli, &e, Some(&file), &defaults()).expect("ok");
    assert_eq!(cfg.port, 3000);
    assert_eq!(cfg.refresh, None);
}

#[test]
fn seed_variables_select_s3_with_explicit_credentials() {
    let e = env(&[
        ("BUCKET_NAME", "media"),
        ("AWS_REGION", "garage"),
        ("AWS_ACCESS_KEY_ID", "GK1"),
        ("AWS_SECRET_ACCESS_KEY", "shh"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:3900"),
        ("BUCKETSTREAM_PREFIX", "lib"),
    ]);
    let cfg = resolve(&Layer::default(), &e, None, &defaults()).expect("ok");
    let SourceConfig::S3(s3) = cfg.source else {
        panic!("expected S3")
    };
    assert_eq!(s3.bucket, "media");
    assert_eq!(s3.region.as_deref(), Some("garage"));
    assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:3900"));
    assert!(s3.path_style, "an endpoint implies path-style");
    assert_eq!(s3.prefix, "lib/");
    let creds = s3.credentials.expect("explicit credentials");
    assert_eq!(creds.access_key_id, "GK1");
    assert_eq!(creds.secret_access_key.expose(), "shh");
}

/// `s3.endpoints` adds the other nodes of a cluster after `s3.endpoint` (duplicates dropped);
/// alone, its first entry is the endpoint.
#[test]
fn endpoints_follow_the_endpoint_without_duplicates() {
    let both = env(&[
        ("BUCKET_NAME", "media"),
        ("AWS_ENDPOINT_URL", "http://a:3900"),
        (
            "BUCKETSTREAM_S3_ENDPOINTS",
            "http://b:3900, http://a:3900/,http://c:3900",
        ),
    ]);
    let only_list = FileConfig {
        s3: Some(FileS3 {
            bucket: Some("media".into()),
            endpoints: Some(vec!["http://b:3900".into(), "http://c:3900".into()]),
            ..FileS3::default()
        }),
        ..FileConfig::default()
    };
    let flags = Layer {
        bucket: Some("media".into()),
        endpoints: Some(vec!["http://x:3900".into()]),
        ..Layer::default()
    };
    type Case<'a> = (
        Layer,
        HashMap<String, String>,
        Option<&'a FileConfig>,
        &'a str,
        &'a [&'a str],
    );
    let cases: [Case; 3] = [
        (
            Layer::default(),
            both,
            None,
            "http://a:3900",
            &["http://b:3900", "http://c:3900"],
        ),
        (
            Layer::default(),
            HashMap::new(),
            Some(&only_list),
            "http://b:3900",
            &["http://c:3900"],
        ),
        (
            flags,
            HashMap::new(),
            Some(&only_list),
            "http://x:3900",
            &[],
        ),
    ];
    for (args, env, file, endpoint, failover) in cases {
        let cfg = resolve(&args, &env, file, &defaults()).expect("ok");
        let SourceConfig::S3(s3) = cfg.source else {
            panic!("expected S3")
        };
        assert_eq!(s3.endpoint.as_deref(), Some(endpoint));
        assert_eq!(s3.failover_endpoints, failover);
        assert!(s3.path_style, "endpoints imply path-style");
    }
    let bad = env_pairs_bad();
    let err = resolve(&Layer::default(), &bad, None, &defaults()).expect_err("bad scheme");
    assert!(err.to_string().contains("ftp://b"), "{err}");
}

fn env_pairs_bad() -> HashMap<String, String> {
    env(&[
        ("BUCKET_NAME", "media"),
        ("BUCKETSTREAM_S3_ENDPOINTS", "http://a:3900,ftp://b"),
    ])
}

#[test]
fn cli_media_dir_beats_env_bucket() {
    let cli = Layer {
        media_dirs: vec!["/srv/m".into()],
        ..Layer::default()
    };
    let cfg = resolve(&cli, &env(&[("BUCKET_NAME", "b")]), None, &defaults()).expect("ok");
    assert!(matches!(cfg.source, SourceConfig::Local(_)));
}

#[test]
fn env_bucket_beats_file_folders() {
    let file = FileConfig {
        media_dirs: vec!["/srv/m".into()],
        ..FileConfig::default()
    };
    let cfg = resolve(
        &Layer::default(),
        &env(&[("BUCKET_NAME", "b")]),
        Some(&file),
        &defaults(),
    )
    .expect("ok");
    assert!(matches!(cfg.source, SourceConfig::S3(_)));
}

#[test]
fn bad_values_are_reported_by_name() {
    type Case<'a> = (&'a [(&'a str, &'a str)], Layer, &'a str);
    let cases: &[Case] = &[
        (
            &[("BUCKETSTREAM_PORT", "http")],
            Layer::default(),
            "BUCKETSTREAM_PORT",
        ),
        (
            &[("BUCKETSTREAM_BIND", "my-host")],
            Layer::default(),
            "my-host",
        ),
        (&[("BUCKET_NAME", "a/b")], Layer::default(), "bucket name"),
        (
            &[("BUCKET_NAME", "b"), ("AWS_ENDPOINT_URL", "127.0.0.1:3900")],
            Layer::default(),
            "http://",
        ),
        (
            &[],
            Layer {
                bucket: Some("b".into()),
                media_dirs: vec!["/x".into()],
                ..Layer::default()
            },
            "choose one",
        ),
    ];
    for (vars, cli, needle) in cases {
        let err = resolve(cli, &env(vars), None, &defaults()).unwrap_err();
        assert!(err.to_string().contains(needle), "{vars:?}: {err}");
    }
}

#[test]
fn secrets_never_show_in_debug_output() {
    let e = env(&[
        ("BUCKET_NAME", "media"),
        ("AWS_ACCESS_KEY_ID", "GK1"),
        ("AWS_SECRET_ACCESS_KEY", "very-secret-value"),
    ]);
    let cfg = resolve(&Layer::default(), &e, None, &defaults()).expect("ok");
    assert!(!format!("{cfg:?}").contains("very-secret-value"));
}

#[test]
fn cache_defaults_and_overrides() {
    let cfg = resolve(&Layer::default(), &env(&[]), None, &defaults()).expect("ok");
    assert!(cfg.cache.enabled);
    assert_eq!(cfg.cache.max_bytes, 10 << 30);
    assert_eq!(
        cfg.cache.dir,
        Some(PathBuf::from("/home/u/.cache/bucketstream/chunks"))
    );
    let file = FileConfig {
        cache: Some(FileCache {
            max_bytes: Some(1000),
            ..FileCache::default()
        }),
        ..FileConfig::default()
    };
    let e = env(&[("BUCKETSTREAM_CACHE_DIR", "/fast/disk")]);
    let cfg = resolve(&Layer::default(), &e, Some(&file), &defaults()).expect("ok");
    assert_eq!(cfg.cache.max_bytes, 1000);
    assert_eq!(cfg.cache.dir, Some(PathBuf::from("/fast/disk")));
    let off = Layer {
        no_cache: Some(true),
        ..Layer::default()
    };
    assert!(
        !resolve(&off, &env(&[]), None, &defaults())
            .expect("ok")
            .cache
            .enabled
    );
    let nodir = Defaults {
        cache_dir: None,
        ..defaults()
    };
    assert!(
        !resolve(&Layer::default(), &env(&[]), None, &nodir)
            .expect("ok")
            .cache
            .enabled
    );
}

#[test]
fn flags_parse_into_the_command_line_layer() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        layer: Layer,
    }
    let none = Cli::parse_from(["x"]).layer;
    assert_eq!(none, Layer::default());
    let cli = Cli::parse_from([
        "x",
        "--no-mdns",
        "--open-to-lan",
        "--no-cache",
        "--trusted-network",
        "10.0.0.0/8",
        "--media-dir",
        "/a",
        "--media-dir",
        "/b",
        "--endpoints",
        "http://n2:3900,http://n3:3900",
        "--endpoints",
        "http://n4:3900",
    ])
    .layer;
    assert_eq!(
        cli.endpoints,
        Some(vec![
            "http://n2:3900".to_owned(),
            "http://n3:3900".to_owned(),
            "http://n4:3900".to_owned()
        ])
    );
    assert_eq!(cli.mdns, Some(false));
    assert_eq!(cli.open_to_lan, Some(true));
    assert_eq!(cli.no_cache, Some(true));
    assert_eq!(cli.direct, None);
    assert_eq!(
        cli.trusted_networks,
        Some(vec!["10.0.0.0/8".parse().expect("net")])
    );
    assert_eq!(cli.media_dirs, [PathBuf::from("/a"), PathBuf::from("/b")]);
}

#[test]
fn aws_default_region_is_read_after_aws_region() {
    let e = env(&[("BUCKET_NAME", "b"), ("AWS_DEFAULT_REGION", "eu-north-1")]);
    let cfg = resolve(&Layer::default(), &e, None, &defaults()).expect("ok");
    let SourceConfig::S3(s3) = cfg.source else {
        panic!("expected S3")
    };
    assert_eq!(s3.region.as_deref(), Some("eu-north-1"));
    let e = env(&[
        ("BUCKET_NAME", "b"),
        ("AWS_REGION", "garage"),
        ("AWS_DEFAULT_REGION", "eu-north-1"),
    ]);
    let cfg = resolve(&Layer::default(), &e, None, &defaults()).expect("ok");
    let SourceConfig::S3(s3) = cfg.source else {
        panic!("expected S3")
    };
    assert_eq!(s3.region.as_deref(), Some("garage"));
    assert!(layer::env_names().any(|n| n == "AWS_DEFAULT_REGION"));
}

/// The two halves are read apart: a bad LAN setting does not stop the library (the desktop
/// then uses the safe LAN defaults), and `load` reports it.
#[test]
fn a_bad_lan_setting_leaves_the_library_config_alone() {
    let inputs = Inputs {
        env: env(&[("BUCKETSTREAM_TRUSTED_NETWORKS", "lan")]),
        file: Some(FileConfig {
            lan: Some(FileLan {
                cors_origins: Some(vec!["*".into()]),
                ..FileLan::default()
            }),
            ..FileConfig::default()
        }),
        defaults: defaults(),
        ..Inputs::default()
    };
    assert!(inputs.config().is_ok());
    let err = load(&inputs).expect_err("bad LAN settings");
    assert!(
        err.to_string().contains("BUCKETSTREAM_TRUSTED_NETWORKS"),
        "{err}"
    );
}

/// One mDNS default for the binaries and the library (it was off in `LanOptions`).
#[test]
fn lan_defaults_are_declared_once() {
    let lan = Inputs::default().lan().expect("ok");
    assert_eq!(lan, LanConfig::default());
    assert!(lan.mdns);
    assert_eq!(lan.limits, Limits::default());
}
