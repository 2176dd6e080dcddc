//! Vendor extension clients: typed access to a vendor's own (`Oem`) API where the standard
//! Redfish resources are not enough. Each module is built on the public resource layer
//! ([`crate::RedfishClient::get_as`], [`crate::RedfishClient::post`], collections), so every
//! link it follows gets the same origin check and every request is counted.

pub mod dell;
