//! A pure-Rust IPMI v2.0 RMCP+ client.
