//! Deterministic identifiers generated from a node's index (its seed): serial numbers, UUIDs,
//! MAC addresses; and the one time format payloads use. Pure functions, nothing stored.

/// splitmix64: deterministic per-node variety from the node index.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A version-4-shaped UUID from a seed.
pub(crate) fn uuid_for(seed: u64) -> String {
    let a = mix(seed);
    let b = mix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// The seed of System `system` (0-based) of node `node`: the node index for the first System
/// (so its UUID is what IPMI reports as the system GUID), salted for the others.
pub(crate) fn system_seed(node: usize, system: usize) -> u64 {
    (node as u64) | ((system as u64) << 40)
}

/// Locally administered, unique per node (24 bits), System (4 bits) and interface (8 bits).
pub(crate) fn mac_for(node: usize, system: usize, nic: u8) -> String {
    let n = node as u32;
    format!(
        "02:F{:X}:{:02X}:{:02X}:{:02X}:{nic:02X}",
        system & 0xf,
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

/// ISO 8601 time (UTC) of a Unix timestamp.
pub(crate) fn iso_time(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_system_keeps_the_node_seed_and_others_differ() {
        assert_eq!(system_seed(7, 0), 7);
        assert_ne!(uuid_for(system_seed(7, 1)), uuid_for(system_seed(7, 0)));
        assert_ne!(uuid_for(system_seed(7, 1)), uuid_for(system_seed(8, 1)));
        assert_eq!(mac_for(0x01_0203, 0, 4), "02:F0:01:02:03:04");
        assert_eq!(mac_for(0x01_0203, 2, 4), "02:F2:01:02:03:04");
    }

    #[test]
    fn iso_time_is_utc_iso_8601() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00+00:00");
    }
}
