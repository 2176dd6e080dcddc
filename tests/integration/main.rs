//! Integration tests of the facade and the examples against ferrofish's mock BMC, compiled as one
//! binary so the test suite links once.

mod inspect_example;
mod inventory_vs_mock;
mod ipmi_client_vs_mock;
mod ipmi_example;
mod support;
