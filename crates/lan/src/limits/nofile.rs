//! The process's open-file limit and the connection caps it allows.
//!
//! A server that accepts connections until `accept` fails with `EMFILE` can answer no one,
//! the owner included, and every file it must open (a media file, a cache chunk) fails too.
//! So the soft `RLIMIT_NOFILE` is raised to the hard limit once at start ([`raise`]), and the
//! connection caps are derived from what it then is ([`Caps::new`]): room is kept for the
//! files that are not connections, and a share of the connections for trusted clients.

use super::super::options::Limits;

/// How many connections are admitted, decided once when the server starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Every client is refused (`503`) once this many connections are open.
    pub total: usize,
    /// Clients outside the trusted networks are refused (`503`) once this many connections
    /// are open, so `total - lan` are left to trusted clients.
    pub lan: usize,
}

impl Caps {
    /// The caps for `limits` under an open-file limit of `nofile` (`None`: unlimited).
    ///
    /// `budget = nofile - min(fd_reserve, nofile / 4)` files go to connections;
    /// `total = min(max_connections, budget)`;
    /// `lan = min(total - min(trusted_reserve, total / 4), budget / 2)`, the halving because
    /// a LAN client's connection may also hold the media file it streams.
    pub fn new(limits: &Limits, nofile: Option<u64>) -> Caps {
        let budget = match nofile {
            None => usize::MAX,
            Some(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                n - limits.fd_reserve.min(n / 4)
            }
        };
        let total = limits.max_connections.min(budget);
        let lan = (total - limits.trusted_reserve.min(total / 4)).min(budget / 2);
        Caps { total, lan }
    }
}

/// Raises the soft open-file limit to the hard one (logged when it changes) and returns the
/// soft limit now in force; `None` when it is unlimited or cannot be read.
#[cfg(unix)]
pub fn raise() -> Option<u64> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given, which lives on this stack.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        tracing::debug!(
            "cannot read the open-file limit: {}",
            std::io::Error::last_os_error()
        );
        return None;
    }
    let before = rl.rlim_cur;
    // macOS reports an unlimited hard limit but refuses a soft one above OPEN_MAX (10,240).
    for target in [rl.rlim_max, libc::rlim_t::from(10_240u32)] {
        if target <= rl.rlim_cur {
            continue;
        }
        let want = libc::rlimit {
            rlim_cur: target,
            rlim_max: rl.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } == 0 {
            rl.rlim_cur = target;
            break;
        }
    }
    let shown = |v: libc::rlim_t| {
        if v == libc::RLIM_INFINITY {
            "unlimited".to_owned()
        } else {
            v.to_string()
        }
    };
    if rl.rlim_cur != before {
        tracing::info!(
            "open-file limit raised from {} to {}",
            shown(before),
            shown(rl.rlim_cur)
        );
    }
    if rl.rlim_cur == libc::RLIM_INFINITY {
        None
    } else {
        // rlim_t is u32 on some 32-bit targets.
        #[allow(clippy::useless_conversion)]
        u64::try_from(rl.rlim_cur).ok()
    }
}

/// Elsewhere the limit is not known here; the configured caps apply as they are.
#[cfg(not(unix))]
pub fn raise() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_table() {
        let d = Limits::default();
        let small = Limits {
            max_connections: 100,
            fd_reserve: 32,
            trusted_reserve: 16,
            ..Limits::default()
        };
        // (limits, nofile, total, lan)
        let table: &[(&Limits, Option<u64>, usize, usize)] = &[
            // Unlimited: the configured caps.
            (&d, None, 16_384, 16_384 - 64),
            // A generous limit changes nothing.
            (&d, Some(1_048_576), 16_384, 16_384 - 64),
            // The bench's 12,000 files: 10,000 loopback WebSockets still fit.
            (&d, Some(12_000), 11_744, 5_872),
            // The usual 1,024: 768 for connections, 384 of them for LAN clients.
            (&d, Some(1_024), 768, 384),
            // A tiny limit: the reserve is at most a quarter.
            (&d, Some(64), 48, 24),
            (&small, Some(320), 100, 84),
            (&small, Some(160), 100, 64),
            (&small, Some(0), 0, 0),
        ];
        for &(limits, nofile, total, lan) in table {
            let caps = Caps::new(limits, nofile);
            assert_eq!(caps, Caps { total, lan }, "{nofile:?}");
            assert!(caps.lan <= caps.total);
        }
    }

    #[cfg(unix)]
    #[test]
    fn raise_is_idempotent() {
        let first = raise();
        assert_eq!(raise(), first);
    }
}
