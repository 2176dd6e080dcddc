//! A Redfish and IPMI BMC emulator.
