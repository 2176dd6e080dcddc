//! Vendor extension clients: typed access to a vendor's own (`Oem`) API where the standard
//! Redfish resources are not enough. Each module holds one vendor's OEM resources and actions,
//! with the pure reading of where the vendor advertises them, and is built on the public
//! resource layer ([`crate::RedfishClient::get_as`], [`crate::RedfishClient::post`],
//! collections), so every link it follows gets the same origin check and every request is
//! counted.

pub mod dell;
pub mod hpe;
