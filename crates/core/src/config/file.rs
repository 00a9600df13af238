//! The TOML config file: non-secret settings only, in the OS config folder by default.
//!
//! Unknown keys are rejected so that a typo (or a secret pasted where it does not belong) is
//! reported instead of silently ignored. The tables' structs ([`FileConfig`], [`FileS3`],
//! [`FileCache`], [`super::FileLan`]) are generated from the table of settings in
//! [`super::layer`]; this module finds, reads and writes the file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use super::layer::{FileCache, FileConfig, FileS3};

/// Where the config file lives when no `--config` is given: `$XDG_CONFIG_HOME/bucketstream/config.toml` on Linux.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "bucketstream")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

/// Parses config text; `path` is only used in the error, which names the line and its key
/// (never the line's value: a secret pasted into the file must not reach a log).
pub fn parse(text: &str, path: &Path) -> Result<FileConfig> {
    toml::from_str(text).map_err(|err| Error::ConfigFile {
        path: path.to_owned(),
        reason: match err.span().and_then(|span| key_at(text, span.start)) {
            Some((line, key)) => format!("{} (line {line}, key {key})", err.message()),
            None => err.message().to_owned(),
        },
    })
}

/// The 1-based line of byte `offset` in `text` and the key that line sets, when it sets one.
fn key_at(text: &str, offset: usize) -> Option<(usize, String)> {
    let before = text.get(..offset)?;
    let number = before.matches('\n').count() + 1;
    let line = text.lines().nth(number - 1)?;
    let key = line.split_once('=')?.0.trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.\"".contains(c);
    (!key.is_empty() && key.len() <= 64 && key.chars().all(plain)).then(|| (number, key.to_owned()))
}

/// Reads the file at `path`. A missing file is `Ok(None)` only when `required` is false.
pub fn load(path: &Path, required: bool) -> Result<Option<FileConfig>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path).map(Some),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
        Err(err) => Err(Error::ConfigFile {
            path: path.to_owned(),
            reason: err.to_string(),
        }),
    }
}

/// Writes the file atomically (temporary file, then rename), creating its folder.
pub fn save(path: &Path, config: &FileConfig) -> Result<()> {
    let text = toml::to_string_pretty(config).map_err(|err| Error::Config(err.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_file() {
        let text = r#"
            port = 9090
            bind = "127.0.0.1"
            refresh_secs = 30
            media_dirs = ["/srv/music"]
            [s3]
            bucket = "media"
            region = "garage"
            endpoint = "http://127.0.0.1:3900"
            prefix = "library/"
        "#;
        let cfg = parse(text, Path::new("c.toml")).expect("parses");
        assert_eq!(cfg.port, Some(9090));
        assert_eq!(
            cfg.s3.as_ref().and_then(|s| s.bucket.as_deref()),
            Some("media")
        );
    }

    #[test]
    fn rejects_unknown_keys_and_secrets() {
        let err = parse("[s3]\nsecret_access_key = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("secret_access_key"), "{err}");
        let err = parse("port = 8080\nscan = \"off\"\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("(line 2, key scan)"), "{err}");
        assert!(parse("port = \"eighty\"", Path::new("c.toml")).is_err());
        assert!(parse("port = 70000", Path::new("c.toml")).is_err());
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/config.toml");
        let cfg = FileConfig {
            port: Some(8081),
            s3: Some(FileS3 {
                bucket: Some("b".into()),
                ..FileS3::default()
            }),
            ..FileConfig::default()
        };
        save(&path, &cfg).expect("save");
        assert_eq!(load(&path, true).expect("load"), Some(cfg));
        assert_eq!(
            load(&dir.path().join("none.toml"), false).expect("missing ok"),
            None
        );
        assert!(load(&dir.path().join("none.toml"), true).is_err());
    }
}
