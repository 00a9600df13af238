//! The UPnP device description (`/dlna/device.xml`) and the two service descriptions (SCPD),
//! which a control point fetches after discovery to learn our name and where to send actions.
//!
//! The paths are declared once here ([`Paths`]) and used by the description and the server's
//! routes alike.

use crate::xml::escape;
use crate::{Device, CONNECTION_MANAGER, CONTENT_DIRECTORY, DEVICE_TYPE};

/// The ContentDirectory:1 service description.
pub const CONTENT_DIRECTORY_SCPD: &str = include_str!("content_directory.xml");
/// The ConnectionManager:1 service description.
pub const CONNECTION_MANAGER_SCPD: &str = include_str!("connection_manager.xml");

/// Where each document and control endpoint is served (paths on the LAN server).
pub struct Paths;

impl Paths {
    /// The device description.
    pub const DEVICE: &'static str = "/dlna/device.xml";
    /// ContentDirectory's description.
    pub const CONTENT_DIRECTORY_SCPD: &'static str = "/dlna/content-directory.xml";
    /// ContentDirectory's SOAP control endpoint.
    pub const CONTENT_DIRECTORY_CONTROL: &'static str = "/dlna/control/content-directory";
    /// ContentDirectory's event subscriptions (answered, never sent: nothing evented).
    pub const CONTENT_DIRECTORY_EVENTS: &'static str = "/dlna/events/content-directory";
    /// ConnectionManager's description.
    pub const CONNECTION_MANAGER_SCPD: &'static str = "/dlna/connection-manager.xml";
    /// ConnectionManager's SOAP control endpoint.
    pub const CONNECTION_MANAGER_CONTROL: &'static str = "/dlna/control/connection-manager";
    /// ConnectionManager's event subscriptions.
    pub const CONNECTION_MANAGER_EVENTS: &'static str = "/dlna/events/connection-manager";
}

fn service(kind: &str, id: &str, scpd: &str, control: &str, events: &str) -> String {
    format!(
        "<service><serviceType>{kind}</serviceType><serviceId>urn:upnp-org:serviceId:{id}</serviceId>\
         <SCPDURL>{scpd}</SCPDURL><controlURL>{control}</controlURL><eventSubURL>{events}</eventSubURL></service>"
    )
}

/// The device description of `device`.
pub fn device_xml(device: &Device) -> String {
    let services = [
        service(
            CONTENT_DIRECTORY,
            "ContentDirectory",
            Paths::CONTENT_DIRECTORY_SCPD,
            Paths::CONTENT_DIRECTORY_CONTROL,
            Paths::CONTENT_DIRECTORY_EVENTS,
        ),
        service(
            CONNECTION_MANAGER,
            "ConnectionManager",
            Paths::CONNECTION_MANAGER_SCPD,
            Paths::CONNECTION_MANAGER_CONTROL,
            Paths::CONNECTION_MANAGER_EVENTS,
        ),
    ]
    .concat();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <root xmlns=\"urn:schemas-upnp-org:device-1-0\" xmlns:dlna=\"urn:schemas-dlna-org:device-1-0\">\
         <specVersion><major>1</major><minor>0</minor></specVersion><device>\
         <deviceType>{DEVICE_TYPE}</deviceType><friendlyName>{name}</friendlyName>\
         <manufacturer>Bucketstream</manufacturer><modelName>Bucketstream</modelName>\
         <modelNumber>{version}</modelNumber><UDN>uuid:{uuid}</UDN>\
         <dlna:X_DLNADOC>DMS-1.50</dlna:X_DLNADOC><serviceList>{services}</serviceList>\
         <presentationURL>/</presentationURL></device></root>",
        name = escape(&device.friendly_name),
        version = escape(&device.version),
        uuid = escape(&device.uuid),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_device_and_its_services() {
        let d = Device {
            uuid: "u-1".into(),
            friendly_name: "Ann's <music> & films".into(),
            location: "http://h/dlna/device.xml".into(),
            version: "0.1.0".into(),
        };
        let xml = device_xml(&d);
        assert!(xml.contains("<friendlyName>Ann&apos;s &lt;music&gt; &amp; films</friendlyName>"));
        assert!(xml.contains("<UDN>uuid:u-1</UDN>"));
        assert!(xml.contains(&format!("<deviceType>{DEVICE_TYPE}</deviceType>")));
        assert!(xml.contains("<controlURL>/dlna/control/content-directory</controlURL>"));
        assert!(xml.contains("<SCPDURL>/dlna/connection-manager.xml</SCPDURL>"));
        for doc in [CONTENT_DIRECTORY_SCPD, CONNECTION_MANAGER_SCPD] {
            assert!(doc.starts_with("<?xml") && doc.trim_end().ends_with("</scpd>"));
        }
        assert!(CONTENT_DIRECTORY_SCPD.contains("<name>Browse</name>"));
        assert!(CONNECTION_MANAGER_SCPD.contains("<name>GetProtocolInfo</name>"));
    }
}
