//! Precedence and validation rules of [`super::resolve`], one case each.

use super::*;

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
    }
}

#[test]
fn defaults_serve_the_default_folders_on_8080() {
    let cfg = resolve(&Overrides::default(), &env(&[]), None, &defaults()).expect("resolves");
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
    let err = resolve(&Overrides::default(), &env(&[]), None, &Defaults::default()).unwrap_err();
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
    let cfg = resolve(&Overrides::default(), &e, Some(&file), &defaults()).expect("ok");
    assert_eq!(cfg.port, 2000);
    assert_eq!(cfg.refresh, Some(Duration::from_secs(5)));
    let cli = Overrides {
        port: Some(3000),
        refresh_secs: Some(0),
        ..Overrides::default()
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
    let cfg = resolve(&Overrides::default(), &e, None, &defaults()).expect("ok");
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

#[test]
fn cli_media_dir_beats_env_bucket() {
    let cli = Overrides {
        media_dirs: vec!["/srv/m".into()],
        ..Overrides::default()
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
        &Overrides::default(),
        &env(&[("BUCKET_NAME", "b")]),
        Some(&file),
        &defaults(),
    )
    .expect("ok");
    assert!(matches!(cfg.source, SourceConfig::S3(_)));
}

#[test]
fn bad_values_are_reported_by_name() {
    type Case<'a> = (&'a [(&'a str, &'a str)], Overrides, &'a str);
    let cases: &[Case] = &[
        (
            &[("BUCKETSTREAM_PORT", "http")],
            Overrides::default(),
            "BUCKETSTREAM_PORT",
        ),
        (
            &[("BUCKETSTREAM_BIND", "my-host")],
            Overrides::default(),
            "my-host",
        ),
        (
            &[("BUCKET_NAME", "a/b")],
            Overrides::default(),
            "bucket name",
        ),
        (
            &[("BUCKET_NAME", "b"), ("AWS_ENDPOINT_URL", "127.0.0.1:3900")],
            Overrides::default(),
            "http://",
        ),
        (
            &[],
            Overrides {
                bucket: Some("b".into()),
                media_dirs: vec!["/x".into()],
                ..Overrides::default()
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
    let cfg = resolve(&Overrides::default(), &e, None, &defaults()).expect("ok");
    assert!(!format!("{cfg:?}").contains("very-secret-value"));
}

#[test]
fn cache_defaults_and_overrides() {
    let cfg = resolve(&Overrides::default(), &env(&[]), None, &defaults()).expect("ok");
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
    let cfg = resolve(&Overrides::default(), &e, Some(&file), &defaults()).expect("ok");
    assert_eq!(cfg.cache.max_bytes, 1000);
    assert_eq!(cfg.cache.dir, Some(PathBuf::from("/fast/disk")));
    let off = Overrides {
        no_cache: true,
        ..Overrides::default()
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
        !resolve(&Overrides::default(), &env(&[]), None, &nodir)
            .expect("ok")
            .cache
            .enabled
    );
}
