//! mDNS/DNS-SD advertisement: the server announces itself as `_http._tcp` "Bucketstream on
//! HOST" so phones and other computers on the LAN find it without typing an address.
//!
//! Uses the `mdns-sd` crate (pure Rust, its own thread, no system daemon needed). The
//! advertisement lives as long as the [`Advert`] value: [`super::run`] holds one while the
//! server runs, when [`bucketstream_core::config::LanConfig::mdns`] is on and the server is not bound to
//! loopback (advertising a loopback-only server would only mislead). Failure to advertise
//! is a warning, never a reason not to serve.
//!
//! The announced host name `HOST.local` is also on the server's `Host` allowlist.

use mdns_sd::{IfKind, ServiceDaemon, ServiceInfo};

use super::ServerState;

/// The DNS-SD service type.
pub const SERVICE_TYPE: &str = "_http._tcp.local.";

/// This machine's host name as the OS reports it (`"bucketstream"` when it has none usable).
pub fn os_host_name() -> String {
    let name = gethostname::gethostname().to_string_lossy().into_owned();
    clean_label(&name).unwrap_or_else(|| "bucketstream".into())
}

/// The first DNS label of `name`, if it is a usable mDNS host label (letters, digits, `-`).
fn clean_label(name: &str) -> Option<String> {
    let label = name.trim().split('.').next()?.trim();
    let ok = !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-');
    ok.then(|| label.to_owned())
}

/// The instance name shown in service browsers.
pub fn instance_name(host: &str) -> String {
    format!("Bucketstream on {host}")
}

/// The service record for `host` on `port`; addresses are filled in per interface by the
/// daemon.
pub fn service_info(host: &str, port: u16) -> Result<ServiceInfo, mdns_sd::Error> {
    let label = clean_label(host).unwrap_or_else(|| "bucketstream".into());
    let info = ServiceInfo::new(
        SERVICE_TYPE,
        &instance_name(host),
        &format!("{label}.local."),
        "",
        port,
        &[("path", "/")][..],
    )?;
    Ok(info.enable_addr_auto())
}

/// A running advertisement; withdrawn (goodbye packets) when dropped.
pub struct Advert {
    daemon: ServiceDaemon,
    fullname: String,
}

impl Advert {
    /// Advertises `state`'s server on `port` on every non-loopback interface; `None` (and a
    /// warning) when mDNS is unavailable here.
    pub fn start(state: &ServerState, port: u16) -> Option<Advert> {
        let host = state.options.host_name.clone().unwrap_or_else(os_host_name);
        match Advert::on(&host, port, None) {
            Ok(advert) => {
                tracing::info!("advertising \"{}\" over mDNS", instance_name(&host));
                Some(advert)
            }
            Err(err) => {
                tracing::warn!("mDNS advertisement unavailable: {err}");
                None
            }
        }
    }

    /// Advertises `host:port`. `loopback_port`: `Some(p)` restricts the daemon to the loopback
    /// interface and UDP port `p` (tests, which must not send beyond this machine); `None` is
    /// the real thing (all non-loopback interfaces, port 5353).
    pub fn on(host: &str, port: u16, loopback_port: Option<u16>) -> Result<Advert, mdns_sd::Error> {
        let daemon = match loopback_port {
            Some(p) => {
                let d = ServiceDaemon::new_with_port(p)?;
                d.disable_interface(IfKind::All)?;
                d.enable_interface(IfKind::LoopbackV4)?;
                d
            }
            None => {
                let d = ServiceDaemon::new()?;
                d.disable_interface(vec![IfKind::LoopbackV4, IfKind::LoopbackV6])?;
                d
            }
        };
        let info = service_info(host, port)?;
        let fullname = info.get_fullname().to_owned();
        daemon.register(info)?;
        Ok(Advert { daemon, fullname })
    }

    /// The advertised service's full DNS-SD name.
    pub fn fullname(&self) -> &str {
        &self.fullname
    }
}

impl Drop for Advert {
    fn drop(&mut self) {
        let _ = self.daemon.unregister(&self.fullname);
        let _ = self.daemon.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_safe() {
        assert_eq!(clean_label("mybox.lan"), Some("mybox".into()));
        assert_eq!(clean_label("My-Box"), Some("My-Box".into()));
        assert_eq!(clean_label("bad host"), None);
        assert_eq!(clean_label(""), None);
        assert_eq!(clean_label("-x"), None);
        assert!(!os_host_name().is_empty());
        let info = service_info("mybox", 8080).expect("info");
        assert_eq!(
            info.get_fullname(),
            "Bucketstream on mybox._http._tcp.local."
        );
        assert_eq!(info.get_hostname(), "mybox.local.");
        assert_eq!(info.get_port(), 8080);
        assert_eq!(info.get_property_val_str("path"), Some("/"));
    }

    /// A real advertisement, found by a real DNS-SD browser, then withdrawn when dropped.
    /// Both daemons are confined to the loopback interface and a private UDP port, so nothing
    /// goes beyond this machine.
    #[test]
    fn a_browser_on_loopback_finds_the_advert_and_sees_it_go() {
        use mdns_sd::ServiceEvent;
        use std::time::{Duration, Instant};

        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp port");
        let mdns_port = udp.local_addr().expect("addr").port();
        drop(udp);
        let browser = ServiceDaemon::new_with_port(mdns_port).expect("browser daemon");
        browser.disable_interface(IfKind::All).expect("disable");
        browser
            .enable_interface(IfKind::LoopbackV4)
            .expect("loopback");
        let events = browser.browse(SERVICE_TYPE).expect("browse");
        let advert = Advert::on("testbox", 18080, Some(mdns_port)).expect("advertise");
        let fullname = advert.fullname().to_owned();
        assert_eq!(fullname, "Bucketstream on testbox._http._tcp.local.");

        let deadline = Instant::now() + Duration::from_secs(20);
        let next = || {
            let left = deadline.saturating_duration_since(Instant::now());
            events.recv_timeout(left)
        };
        loop {
            match next() {
                Ok(ServiceEvent::ServiceResolved(found)) if found.fullname == fullname => {
                    assert_eq!(found.port, 18080);
                    assert_eq!(found.host, "testbox.local.");
                    assert_eq!(found.txt_properties.get_property_val_str("path"), Some("/"));
                    break;
                }
                Ok(_) => continue,
                Err(err) => panic!("advert not found within 20 s: {err}"),
            }
        }
        drop(advert);
        loop {
            match next() {
                Ok(ServiceEvent::ServiceRemoved(_, name)) if name == fullname => break,
                Ok(_) => continue,
                Err(err) => panic!("withdrawal not seen within 20 s: {err}"),
            }
        }
        let _ = browser.shutdown();
    }
}
