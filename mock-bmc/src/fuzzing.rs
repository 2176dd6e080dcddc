//! Entry points for the fuzz targets (`fuzz/fuzz_targets/mock_*.rs`) and for their corpus
//! replay test (`tests/fuzz_corpus.rs`), which runs every seed through the same function on
//! stable. Not part of the supported API: each takes arbitrary bytes, must never panic, and
//! returns what it found so the replay test can check known seeds.

use crate::iso9660;
use crate::service::query::{self, ExpandKind};

/// The IPMI codec and responder: `data` as one UDP datagram, decoded and then answered by a
/// responder fresh, after Open Session, and after RAKP 1 (session ID `5A5A5A5Ah`). Returns how
/// many of the three answered (0 to 3).
pub fn ipmi_datagram(data: &[u8]) -> usize {
    crate::ipmi::fuzz::datagram(data)
}

/// What the ISO 9660 reader found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoFindings {
    /// The volume label.
    pub label: String,
    /// Whether it has a valid El Torito boot catalog.
    pub bootable: bool,
    /// Whether `openstack/latest/network_data.json` holds a static address.
    pub config_drive: bool,
}

/// Bytes before the volume descriptors: the 16 system sectors.
const SYSTEM_AREA: usize = 16 * 2048;

/// The ISO 9660 reader: `data` placed after the 16 (zero) system sectors, so that it starts
/// at the volume descriptors and small inputs reach the parser. `None` when it does not parse.
pub fn iso9660(data: &[u8]) -> Option<IsoFindings> {
    let mut image = vec![0u8; SYSTEM_AREA];
    image.extend_from_slice(data);
    let _ = iso9660::has_iso9660_signature(&image);
    let iso = iso9660::IsoImage::parse(&image).ok()?;
    for path in ["openstack/latest/network_data.json", "readme.txt", "a/b/c"] {
        let _ = iso.read_file(path);
    }
    Some(IsoFindings {
        label: iso.volume_label().to_owned(),
        bootable: iso.is_bootable(),
        config_drive: matches!(iso9660::config_drive_network(&iso), Ok(Some(_))),
    })
}

/// The query parser and percent decoding: `data` (lossily UTF-8) as a URI query. Returns the
/// `$expand` accepted (`*`, `.` or `~` and the levels), `Ok(None)` without one, or the HTTP
/// status a refused query gets (400, 501). Also checks that percent-encoding any text and
/// decoding it gives the text back.
pub fn query(data: &[u8]) -> Result<Option<(char, u8)>, u16> {
    let text = String::from_utf8_lossy(data);
    assert_eq!(query::percent_decode(&percent_encode(&text)), text);
    let _ = query::percent_decode(&text);
    let _ = query::parse_expand(&text);
    match query::parse_query(Some(&text)) {
        Ok(expand) => Ok(expand.map(|(kind, levels)| {
            assert!((1..=crate::areas::root::MAX_EXPAND_LEVELS).contains(&levels));
            let symbol = match kind {
                ExpandKind::All => '*',
                ExpandKind::NoLinks => '.',
                ExpandKind::LinksOnly => '~',
            };
            (symbol, levels)
        })),
        Err(reply) => Err(reply.status.as_u16()),
    }
}

/// Every byte but unreserved ASCII as `%XX`.
fn percent_encode(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
