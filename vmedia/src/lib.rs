//! Virtual media through Redfish: slot discovery at System and Manager level, insert and eject,
//! boot once from CD, a config-drive ISO 9660 builder and an embedded image server, so a node
//! boots without DHCP.
//!
//! This crate is not filled yet: its issue builds on `ferrofish-redfish-core`.
