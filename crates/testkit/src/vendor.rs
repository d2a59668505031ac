//! Vendor settings that tests share.

/// The environment variable and value that let a service reach the ServiceNow emulator, which
/// listens on loopback. Vendor connections refuse loopback, private and metadata addresses
/// unless `vendor_http.allow_private_networks` names them, so every test, benchmark and demo that
/// talks to a local emulator says so explicitly with this entry.
pub fn loopback_vendor_allow_list() -> (String, String) {
    (
        "LOCKSTEP_VENDOR_HTTP__ALLOW_PRIVATE_NETWORKS".to_owned(),
        r#"["127.0.0.0/8", "::1/128"]"#.to_owned(),
    )
}
