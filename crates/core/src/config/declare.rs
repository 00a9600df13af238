//! The `settings!` macro and its helpers: one declaration per setting generates everything
//! each source of configuration needs.
//!
//! Like ripgrep's low-level → high-level arguments: one entry (doc, layer type, resolved
//! type, default, part, merge rule, file key, variables, flag, optional range) generates
//! the [`super::Layer`] field with its `#[arg]` (the command line), its rows of
//! [`super::layer::ENV`] (the environment), its key in the serde structs of the TOML file
//! (`deny_unknown_fields` on every table), its read in [`super::Layer::from_file`], its
//! field, default and merge in [`super::Resolved`], and its row of
//! [`super::layer::SETTINGS`] (the metadata a test walks). The table itself is in
//! [`super::layer`]; checks across settings stay in the derivation ([`super::Inputs`]).

use std::collections::HashMap;
use std::fmt::Display;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use super::layer::{Layer, Layers, Part};
use super::net::IpNet;
use super::Defaults;
use crate::error::{Error, Result};

/// Declares every setting once (see the module doc and the table in [`super::layer`]).
///
/// Entry grammar: `doc name: LayerType => ResolvedType = default_fn, Part merge, file key:
/// FileType [serde attrs] => from_file, env ["VAR", ...] => from_env, arg (clap args)
/// [, range LO..=HI];`. The `top` group's keys sit at the top of the file; each `table`
/// group is a `[key]` table of its own.
macro_rules! settings {
    (
        $(#[doc = $topdoc:literal])+
        top $Top:ident {
            $(
                $(#[doc = $doc:literal])+
                $name:ident: $lty:ty => $rty:ty = $default:expr,
                $part:ident $merge:ident,
                file $fkey:ident: $fty:ty $([$($fattr:tt)*])? => $fconv:expr,
                env [$($env:literal),*] => $envfn:expr,
                arg $arg:tt $(, range $lo:literal ..= $hi:literal)?;
            )*
        }
        $(
            $(#[doc = $tdoc:literal])+
            table $tkey:ident: $Table:ident {
                $(
                    $(#[doc = $edoc:literal])+
                    $ename:ident: $elty:ty => $erty:ty = $edefault:expr,
                    $epart:ident $emerge:ident,
                    file $efkey:ident: $efty:ty $([$($efattr:tt)*])? => $efconv:expr,
                    env [$($eenv:literal),*] => $eenvfn:expr,
                    arg $earg:tt $(, range $elo:literal ..= $ehi:literal)?;
                )*
                $( extra $(#[doc = $xdoc:literal])+ $xname:ident: $xty:ty; )*
            }
        )*
    ) => {
        $(#[doc = $topdoc])+
        #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $Top {
            $( $(#[doc = $doc])+ $(#[$($fattr)*])? pub $fkey: $fty, )*
            $( $(#[doc = $tdoc])+ pub $tkey: Option<$Table>, )*
        }

        $(
            $(#[doc = $tdoc])+
            #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct $Table {
                $( $(#[doc = $edoc])+ $(#[$($efattr)*])? pub $efkey: $efty, )*
                $( $(#[doc = $xdoc])+ pub $xname: $xty, )*
            }
        )*

        settings!(@flat $Top
            $( { [$($doc),+] $name ($lty) ($rty) ($default) $part $merge
                 (stringify!($fkey)) (|f: &$Top| f.$fkey.clone()) ($fconv)
                 [$($env),*] ($envfn) $arg [$($lo, $hi)?] } )*
            $( $( { [$($edoc),+] $ename ($elty) ($erty) ($edefault) $epart $emerge
                 (concat!(stringify!($tkey), ".", stringify!($efkey)))
                 (|f: &$Top| f.$tkey.clone().unwrap_or_default().$efkey) ($efconv)
                 [$($eenv),*] ($eenvfn) $earg [$($elo, $ehi)?] } )* )*
        );
    };

    (@flat $Top:ident $(
        { [$($doc:literal),+] $name:ident ($lty:ty) ($rty:ty) ($default:expr) $part:ident
          $merge:ident ($key:expr) ($read:expr) ($fconv:expr) [$($env:literal),*]
          ($envfn:expr) $arg:tt [$($lo:literal, $hi:literal)?] }
    )*) => {
        /// What one layer says; `None` (or an empty list of folders) means "not said here".
        ///
        /// As `clap::Args` it is also the headless server's command line: the binary
        /// flattens it into its own flags, so a flag is declared once, in the table.
        #[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
        pub struct Layer {
            $( $(#[doc = $doc])+ #[arg $arg] pub $name: $lty, )*
            /// Explicit S3 credentials (environment pair, or the desktop's keyring); never a flag.
            #[arg(skip)]
            pub credentials: Option<$crate::secret::Credentials>,
        }

        /// Every setting resolved: the first layer that says something, else its default
        /// (ripgrep's high-level arguments). Only the fields of the [`Part`] it was
        /// resolved for are read from the environment and the file.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Resolved {
            $( $(#[doc = $doc])+ pub $name: $rty, )*
        }

        impl Resolved {
            /// The settings of `layers` over the defaults; a value out of its range is an
            /// error naming the setting and the layer.
            pub fn from_layers(layers: &Layers, defaults: &Defaults, part: Part) -> Result<Resolved> {
                $( $(
                    if part == Part::$part {
                        $crate::config::declare::check_range(
                            layers, |l: &Layer| Said::said(&l.$name), stringify!($name), $lo, $hi,
                        )?;
                    }
                )? )*
                Ok(Resolved {
                    $( $name: $crate::config::declare::$merge(
                        layers, |l: &Layer| Said::said(&l.$name), $default, defaults,
                    ), )*
                })
            }

            /// Every setting at its default (nothing said anywhere).
            pub fn defaults(defaults: &Defaults) -> Resolved {
                Resolved {
                    $( $name: $crate::config::declare::default_of(defaults, $default), )*
                }
            }
        }

        impl Layer {
            /// What the config file says about `part` (its `[lan.limits]` table is read by
            /// [`super::lan`]).
            pub fn from_file(file: &$Top, part: Part) -> Result<Layer> {
                Ok(Layer {
                    $( $name: if part == Part::$part {
                        ($fconv)(($read)(file))?
                    } else {
                        Default::default()
                    }, )*
                    credentials: None,
                })
            }
        }

        /// Every environment variable that sets a setting, in priority order: when two name
        /// the same setting (`AWS_ENDPOINT_URL_S3` before `AWS_ENDPOINT_URL`, `AWS_REGION`
        /// before `AWS_DEFAULT_REGION`), the first one set wins. Credentials are read apart
        /// (a pair).
        pub const ENV: &[EnvVar] = &[
            $( $(
                EnvVar {
                    name: $env,
                    setting: stringify!($name),
                    part: Part::$part,
                    set: |l, n, v| {
                        if Said::said(&l.$name).is_none() {
                            l.$name = ($envfn)(n, v)?;
                        }
                        Ok(())
                    },
                },
            )* )*
        ];

        /// Every setting's metadata, in declaration order.
        pub const SETTINGS: &[Setting] = &[
            $( Setting {
                name: stringify!($name),
                doc: concat!($($doc),+),
                part: Part::$part,
                file_key: $key,
                env: &[$($env),*],
            }, )*
        ];
    };
}
pub(super) use settings;

/// One environment variable of [`super::layer::ENV`].
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// The setting it sets (the [`Layer`] field).
    pub setting: &'static str,
    /// The half of the configuration the setting belongs to.
    pub part: Part,
    /// Parses a value (`name`, `value`) into the layer; a setting already set by an
    /// earlier variable is left alone.
    pub set: fn(&mut Layer, &str, &str) -> Result<()>,
}

/// One setting's metadata, from its entry in the table.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The [`Layer`] (and [`super::Resolved`]) field.
    pub name: &'static str,
    /// Its doc, which is also its flag's help.
    pub doc: &'static str,
    /// The half of the configuration it belongs to.
    pub part: Part,
    /// Its key in the config file, dotted when it is in a table (`s3.bucket`).
    pub file_key: &'static str,
    /// Its environment variables, first wins.
    pub env: &'static [&'static str],
}

/// What a layer's field says: `Some` when it says something (a `Some`, a non-empty list).
pub trait Said {
    /// The value said.
    type Value;
    /// The value, when this layer says one.
    fn said(&self) -> Option<Self::Value>;
}

impl<T: Clone> Said for Option<T> {
    type Value = T;
    fn said(&self) -> Option<T> {
        self.clone()
    }
}

impl<T: Clone> Said for Vec<T> {
    type Value = Vec<T>;
    fn said(&self) -> Option<Vec<T>> {
        (!self.is_empty()).then(|| self.clone())
    }
}

/// Merge rule `first`: the highest layer that says something wins, else the default.
pub(crate) fn first<T, R: From<T>>(
    layers: &Layers,
    get: impl Fn(&Layer) -> Option<T>,
    default: impl FnOnce(&Defaults) -> R,
    defaults: &Defaults,
) -> R {
    match layers.first(get) {
        Some(value) => R::from(value),
        None => default(defaults),
    }
}

/// Merge rule `any`, for the switches that only turn something on (`--no-cache`,
/// `--direct`): an "on" in any layer holds, as it always has.
pub(crate) fn any(
    layers: &Layers,
    get: impl Fn(&Layer) -> Option<bool>,
    default: impl FnOnce(&Defaults) -> bool,
    defaults: &Defaults,
) -> bool {
    layers.any(get) || default(defaults)
}

/// A default applied to `defaults`.
pub(crate) fn default_of<R>(defaults: &Defaults, default: impl FnOnce(&Defaults) -> R) -> R {
    default(defaults)
}

/// Refuses a value outside `lo..=hi` in the layer that wins, naming that layer.
pub(crate) fn check_range<T: PartialOrd + Display>(
    layers: &Layers,
    get: impl Fn(&Layer) -> Option<T>,
    name: &str,
    lo: T,
    hi: T,
) -> Result<()> {
    match layers.first_named(get) {
        Some((value, layer)) if value < lo || value > hi => Err(Error::Config(format!(
            "the {layer} sets {name} to {value}; it must be {lo} to {hi}"
        ))),
        _ => Ok(()),
    }
}

/// File reader for a key that is the layer's value as it is.
pub(crate) fn same<T>(value: T) -> Result<T> {
    Ok(value)
}

/// File reader for `[cache] enabled`, the opposite of `--no-cache`.
pub(crate) fn inverted(enabled: Option<bool>) -> Result<Option<bool>> {
    Ok(enabled.map(|on| !on))
}

/// File reader for `bind` (a string in the file).
pub(crate) fn bind_from_file(text: Option<String>) -> Result<Option<IpAddr>> {
    text.as_deref().map(parse_bind).transpose()
}

/// File reader for `[lan] trusted_networks` (strings in the file).
pub(crate) fn networks_from_file(texts: Option<Vec<String>>) -> Result<Option<Vec<IpNet>>> {
    texts.map(|l| networks(&l, "config file [lan]")).transpose()
}

/// Variable reader: `value` parsed, naming the variable when it does not parse.
pub(crate) fn parsed<T: FromStr>(name: &str, value: &str) -> Result<Option<T>> {
    value
        .parse()
        .map(Some)
        .map_err(|_| Error::Config(format!("{name}={value:?} is not a valid value")))
}

/// Variable reader for text.
pub(crate) fn text(_: &str, value: &str) -> Result<Option<String>> {
    Ok(Some(value.to_owned()))
}

/// Variable reader for one path.
pub(crate) fn path(_: &str, value: &str) -> Result<Option<PathBuf>> {
    Ok(Some(PathBuf::from(value)))
}

/// Variable reader for a list of paths (`:`-separated on Unix, `;` on Windows).
pub(crate) fn paths(_: &str, value: &str) -> Result<Vec<PathBuf>> {
    Ok(std::env::split_paths(value).collect())
}

/// Variable reader for the bind address.
pub(crate) fn bind_from_env(_: &str, value: &str) -> Result<Option<IpAddr>> {
    parse_bind(value).map(Some)
}

/// Variable reader for a comma-separated list (blank items dropped).
pub(crate) fn list(_: &str, value: &str) -> Result<Option<Vec<String>>> {
    Ok(Some(split_list(value)))
}

/// Variable reader for a comma-separated list of networks.
pub(crate) fn networks_from_env(name: &str, value: &str) -> Result<Option<Vec<IpNet>>> {
    networks(&split_list(value), name).map(Some)
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_bind(text: &str) -> Result<IpAddr> {
    text.parse()
        .map_err(|_| Error::Config(format!("bind address {text:?} is not an IP address")))
}

fn networks(texts: &[String], layer: &str) -> Result<Vec<IpNet>> {
    texts
        .iter()
        .map(|t| {
            t.parse()
                .map_err(|e| Error::Config(format!("{layer}: trusted network: {e}")))
        })
        .collect()
}

/// Looks up a variable, treating an empty value as absent.
pub(super) fn var<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}
