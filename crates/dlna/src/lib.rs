//! The DLNA/UPnP MediaServer that smart TVs, Kodi and VLC find on the network by themselves, so
//! they can browse and play the library through the Bucketstream host without an app.
//!
//! This crate holds the protocol only, as pure functions over values: SSDP discovery messages
//! ([`ssdp`]), the device and service descriptions ([`description`]), SOAP actions and faults
//! ([`soap`]), and DIDL-Lite listings ([`didl`]). The LAN server owns the sockets, decides what
//! a `Browse` returns from the catalog, and calls these to put it into words.

pub mod description;
pub mod didl;
pub mod gena;
pub mod soap;
pub mod ssdp;
pub mod streaming;
mod xml;

/// The UPnP device type we announce.
pub const DEVICE_TYPE: &str = "urn:schemas-upnp-org:device:MediaServer:1";
/// The ContentDirectory service type.
pub const CONTENT_DIRECTORY: &str = "urn:schemas-upnp-org:service:ContentDirectory:1";
/// The ConnectionManager service type.
pub const CONNECTION_MANAGER: &str = "urn:schemas-upnp-org:service:ConnectionManager:1";

/// Who we are on the network: the same values in every SSDP message and the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The unique device name without `uuid:` (stable across restarts: renderers remember it).
    pub uuid: String,
    /// The name people see in their TV's source list.
    pub friendly_name: String,
    /// The URL of the device description (`http://host:port/dlna/device.xml`).
    pub location: String,
    /// Bucketstream's version, for the `SERVER` header and the description.
    pub version: String,
}
