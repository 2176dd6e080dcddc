//! The Redfish client core of ferrofish.
