//! A small ISO 9660 reader: primary volume descriptor, directory records, Joliet and Rock Ridge
//! names, enough to find `openstack/latest/network_data.json` on a config drive.
//!
//! Pure functions over a byte slice: no I/O, no panics on hostile images (every offset is
//! checked).

use std::net::IpAddr;

use crate::error::MockBmcError;

const SECTOR: usize = 2048;
const DESCRIPTORS_START: usize = 16 * SECTOR;
/// How far the descriptor set may extend before we give up looking for its terminator.
const MAX_DESCRIPTORS: usize = 64;
/// Bound on directory depth and directory size walked, so a hostile image cannot loop us.
const MAX_DIR_BYTES: usize = 1 << 20;

mod writer;

pub use writer::{build_bootable_iso, build_iso};

/// True when `data` carries "CD001" at byte 32769, the ISO 9660 standard identifier of the first
/// volume descriptor (what BMCs check before they accept an image).
pub fn has_iso9660_signature(data: &[u8]) -> bool {
    data.get(DESCRIPTORS_START + 1..DESCRIPTORS_START + 6) == Some(b"CD001")
}

#[derive(Debug, Clone, Copy)]
struct Extent {
    lba: u32,
    len: u32,
}

/// A parsed ISO 9660 image borrowing the image bytes.
#[derive(Debug)]
pub struct IsoImage<'a> {
    data: &'a [u8],
    block_size: usize,
    root: Extent,
    joliet_root: Option<Extent>,
    volume_label: String,
    bootable: bool,
}

fn slice<'a>(
    data: &'a [u8],
    start: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], MockBmcError> {
    start
        .checked_add(len)
        .and_then(|end| data.get(start..end))
        .ok_or(MockBmcError::IsoTruncated {
            what,
            offset: (start + len) as u64,
        })
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn ucs2_be(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Whether the El Torito boot catalog at sector `lba` (2048-byte sectors whatever the logical
/// block size) starts with a valid validation entry followed by a bootable default entry.
fn has_bootable_catalog(data: &[u8], lba: u32) -> bool {
    let Some(catalog) = (lba as usize)
        .checked_mul(SECTOR)
        .and_then(|at| data.get(at..at.checked_add(64)?))
    else {
        return false;
    };
    let sum = catalog[..32].chunks_exact(2).fold(0u16, |acc, w| {
        acc.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    catalog[0] == 1 && catalog[30..32] == [0x55, 0xAA] && sum == 0 && catalog[32] == 0x88
}

fn root_record(desc: &[u8]) -> Result<Extent, MockBmcError> {
    let rec = desc
        .get(156..190)
        .ok_or(MockBmcError::IsoMalformed("short volume descriptor"))?;
    let lba = le_u32(rec, 2).ok_or(MockBmcError::IsoMalformed("root record"))?;
    let len = le_u32(rec, 10).ok_or(MockBmcError::IsoMalformed("root record"))?;
    Ok(Extent { lba, len })
}

impl<'a> IsoImage<'a> {
    /// Parses the volume descriptor set.
    pub fn parse(data: &'a [u8]) -> Result<Self, MockBmcError> {
        if !has_iso9660_signature(data) {
            return Err(MockBmcError::NotIso9660);
        }
        let mut primary = None;
        let mut joliet = None;
        let mut boot_catalog = None;
        for i in 0..MAX_DESCRIPTORS {
            let offset = DESCRIPTORS_START + i * SECTOR;
            let desc = slice(data, offset, SECTOR, "volume descriptor")?;
            if &desc[1..6] != b"CD001" {
                return Err(MockBmcError::IsoMalformed(
                    "volume descriptor without CD001",
                ));
            }
            match desc[0] {
                1 if primary.is_none() => primary = Some(desc),
                // A supplementary descriptor with a UCS-2 escape sequence is Joliet.
                2 if matches!(&desc[88..91], b"%/@" | b"%/C" | b"%/E") => joliet = Some(desc),
                0 if desc.get(7..7 + writer::EL_TORITO.len()) == Some(&writer::EL_TORITO[..]) => {
                    boot_catalog = le_u32(desc, 71);
                }
                255 => break,
                _ => {}
            }
        }
        let primary = primary.ok_or(MockBmcError::IsoMalformed("no primary volume descriptor"))?;
        let block_size = usize::from(le_u16(primary, 128).unwrap_or(0));
        if !matches!(block_size, 512 | 1024 | 2048) {
            return Err(MockBmcError::IsoMalformed(
                "logical block size is not 512, 1024 or 2048",
            ));
        }
        let mut volume_label = String::from_utf8_lossy(&primary[40..72])
            .trim_end()
            .to_owned();
        let joliet_root = match joliet {
            Some(desc) => {
                let label = ucs2_be(&desc[40..72]).trim_end().to_owned();
                if !label.is_empty() {
                    volume_label = label;
                }
                Some(root_record(desc)?)
            }
            None => None,
        };
        Ok(IsoImage {
            data,
            block_size,
            root: root_record(primary)?,
            joliet_root,
            volume_label,
            bootable: boot_catalog.is_some_and(|lba| has_bootable_catalog(data, lba)),
        })
    }

    /// Whether a firmware would boot the image: an El Torito boot record pointing at a boot
    /// catalog whose validation entry checks out and whose default entry is bootable. The mock
    /// takes such an image as carrying an operating system (`BootProgress` reaches
    /// `OSRunning`); a config drive has none.
    pub fn is_bootable(&self) -> bool {
        self.bootable
    }

    /// The volume label (Joliet's when present, else the primary descriptor's), trailing
    /// spaces removed.
    pub fn volume_label(&self) -> &str {
        &self.volume_label
    }

    /// The contents of the file at `path` (components separated by `/`, compared without case),
    /// or `None` when there is no such file.
    pub fn read_file(&self, path: &str) -> Result<Option<&'a [u8]>, MockBmcError> {
        let (root, joliet) = match self.joliet_root {
            Some(r) => (r, true),
            None => (self.root, false),
        };
        let mut current = root;
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let Some((extent, is_dir)) = self.find_entry(current, part, joliet)? else {
                return Ok(None);
            };
            if last {
                if is_dir {
                    return Ok(None);
                }
                let start = extent.lba as usize * self.block_size;
                return slice(self.data, start, extent.len as usize, "file data").map(Some);
            }
            if !is_dir {
                return Ok(None);
            }
            current = extent;
        }
        Ok(None)
    }

    fn find_entry(
        &self,
        dir: Extent,
        wanted: &str,
        joliet: bool,
    ) -> Result<Option<(Extent, bool)>, MockBmcError> {
        let len = (dir.len as usize).min(MAX_DIR_BYTES);
        let start = dir.lba as usize * self.block_size;
        let records = slice(self.data, start, len, "directory")?;
        let mut pos = 0;
        while pos < records.len() {
            let rec_len = usize::from(records[pos]);
            if rec_len == 0 {
                // Records never straddle a sector: skip the padding to the next one.
                pos = (pos / SECTOR + 1) * SECTOR;
                continue;
            }
            let rec = records
                .get(pos..pos + rec_len)
                .ok_or(MockBmcError::IsoMalformed(
                    "directory record runs past its directory",
                ))?;
            pos += rec_len;
            if rec.len() < 34 {
                return Err(MockBmcError::IsoMalformed(
                    "directory record shorter than 34 bytes",
                ));
            }
            let name_len = usize::from(rec[32]);
            let raw_name = rec
                .get(33..33 + name_len)
                .ok_or(MockBmcError::IsoMalformed("file identifier past record"))?;
            if raw_name == [0] || raw_name == [1] {
                continue; // "." and ".."
            }
            let name = if joliet {
                ucs2_be(raw_name)
            } else {
                rock_ridge_name(rec, name_len).unwrap_or_else(|| iso_name(raw_name))
            };
            let name = name.split(';').next().unwrap_or_default();
            if name.eq_ignore_ascii_case(wanted) {
                let lba = le_u32(rec, 2).ok_or(MockBmcError::IsoMalformed("extent location"))?;
                let size = le_u32(rec, 10).ok_or(MockBmcError::IsoMalformed("data length"))?;
                return Ok(Some((Extent { lba, len: size }, rec[25] & 0x02 != 0)));
            }
        }
        Ok(None)
    }
}

/// Plain ISO 9660 identifier: drop the `;1` version and a trailing `.` of names without an
/// extension.
fn iso_name(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let s = s.split(';').next().unwrap_or_default();
    s.strip_suffix('.').unwrap_or(s).to_owned()
}

/// The Rock Ridge `NM` (alternate name) entry of a directory record, if any.
fn rock_ridge_name(rec: &[u8], name_len: usize) -> Option<String> {
    let mut pos = 33 + name_len + usize::from(name_len.is_multiple_of(2));
    let mut name = String::new();
    while pos + 4 <= rec.len() {
        let sig = &rec[pos..pos + 2];
        let len = usize::from(rec[pos + 2]);
        if len < 4 || pos + len > rec.len() {
            break;
        }
        if sig == b"NM" && len >= 5 {
            name.push_str(&String::from_utf8_lossy(&rec[pos + 5..pos + len]));
        }
        pos += len;
    }
    (!name.is_empty()).then_some(name)
}

/// What a node takes from a config drive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigDriveNetwork {
    /// The static address.
    pub address: IpAddr,
    /// Netmask as written in `network_data.json`, if any.
    pub netmask: Option<String>,
    /// First default route's gateway, if any.
    pub gateway: Option<IpAddr>,
}

/// Label cloud-init looks for.
pub const CONFIG_DRIVE_LABEL: &str = "config-2";

/// If `image` is a config drive (label `config-2`) with `openstack/latest/network_data.json`,
/// returns the first static address in it. `Ok(None)` for an ISO that is not a config drive.
pub fn config_drive_network(
    image: &IsoImage<'_>,
) -> Result<Option<ConfigDriveNetwork>, MockBmcError> {
    if !image
        .volume_label()
        .eq_ignore_ascii_case(CONFIG_DRIVE_LABEL)
    {
        return Ok(None);
    }
    let Some(raw) = image.read_file("openstack/latest/network_data.json")? else {
        return Ok(None);
    };
    let doc: serde_json::Value =
        serde_json::from_slice(raw).map_err(|_| MockBmcError::ConfigDrive("not json"))?;
    let networks = doc
        .get("networks")
        .and_then(|n| n.as_array())
        .ok_or(MockBmcError::ConfigDrive("no networks array"))?;
    for net in networks {
        let kind = net.get("type").and_then(|t| t.as_str()).unwrap_or_default();
        if kind != "ipv4" && kind != "ipv6" {
            continue;
        }
        let Some(address) = net.get("ip_address").and_then(|a| a.as_str()) else {
            continue;
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| MockBmcError::ConfigDrive("ip_address is not an ip address"))?;
        let netmask = net
            .get("netmask")
            .and_then(|m| m.as_str())
            .map(str::to_owned);
        let gateway = net
            .get("routes")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
            .find_map(|r| {
                r.get("gateway")
                    .and_then(|g| g.as_str())
                    .and_then(|g| g.parse().ok())
            });
        return Ok(Some(ConfigDriveNetwork {
            address,
            netmask,
            gateway,
        }));
    }
    Err(MockBmcError::ConfigDrive("no static ipv4 or ipv6 network"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETWORK_DATA: &[u8] = br#"{"links":[{"id":"eth0","type":"phy","ethernet_mac_address":"52:54:00:12:34:56"}],
        "networks":[{"id":"n0","link":"eth0","type":"ipv4","ip_address":"192.0.2.10","netmask":"255.255.255.0",
        "routes":[{"network":"0.0.0.0","netmask":"0.0.0.0","gateway":"192.0.2.1"}]}],"services":[]}"#;

    #[test]
    fn signature_checks_byte_32769() {
        let mut img = vec![0u8; 40_000];
        assert!(!has_iso9660_signature(&img));
        img[32769..32774].copy_from_slice(b"CD001");
        assert!(has_iso9660_signature(&img));
        assert!(!has_iso9660_signature(&img[..32770]));
    }

    #[test]
    fn el_torito_boot_record_makes_an_image_bootable() {
        let files: &[(&str, &[u8])] = &[("openstack/latest/network_data.json", NETWORK_DATA)];
        let plain = build_iso("config-2", files);
        assert!(!IsoImage::parse(&plain).unwrap().is_bootable());
        let bootable = build_bootable_iso("OS_INSTALL", files);
        let iso = IsoImage::parse(&bootable).unwrap();
        assert!(iso.is_bootable());
        assert_eq!(iso.volume_label(), "OS_INSTALL");
        assert_eq!(
            iso.read_file("openstack/latest/network_data.json").unwrap(),
            Some(NETWORK_DATA),
            "files stay readable behind the boot record"
        );
        // A catalog whose checksum or boot indicator is wrong does not boot.
        for offset in [28, 30, 32] {
            let mut broken = bootable.clone();
            broken[19 * SECTOR + offset] ^= 0xFF;
            assert!(
                !IsoImage::parse(&broken).unwrap().is_bootable(),
                "byte {offset} of the catalog"
            );
        }
        // A boot record pointing beyond the image is not bootable, and no panic.
        let mut dangling = bootable.clone();
        dangling[DESCRIPTORS_START + SECTOR + 71..DESCRIPTORS_START + SECTOR + 75]
            .copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!IsoImage::parse(&dangling).unwrap().is_bootable());
    }

    #[test]
    fn reads_nested_file_from_built_image() {
        let img = build_iso(
            "config-2",
            &[
                ("openstack/latest/network_data.json", NETWORK_DATA),
                ("openstack/latest/meta_data.json", b"{}"),
            ],
        );
        let iso = IsoImage::parse(&img).unwrap();
        assert_eq!(iso.volume_label(), "config-2");
        assert_eq!(
            iso.read_file("openstack/latest/network_data.json").unwrap(),
            Some(NETWORK_DATA)
        );
        assert_eq!(
            iso.read_file("openstack/latest/meta_data.json").unwrap(),
            Some(&b"{}"[..])
        );
        assert_eq!(
            iso.read_file("openstack/latest/missing.json").unwrap(),
            None
        );
        assert_eq!(
            iso.read_file("openstack").unwrap(),
            None,
            "a directory is not a file"
        );
    }

    #[test]
    fn config_drive_yields_static_address() {
        let img = build_iso(
            "config-2",
            &[("openstack/latest/network_data.json", NETWORK_DATA)],
        );
        let net = config_drive_network(&IsoImage::parse(&img).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(net.address, "192.0.2.10".parse::<IpAddr>().unwrap());
        assert_eq!(net.netmask.as_deref(), Some("255.255.255.0"));
        assert_eq!(net.gateway, Some("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn other_label_is_not_a_config_drive() {
        let img = build_iso(
            "UBUNTU",
            &[("openstack/latest/network_data.json", NETWORK_DATA)],
        );
        assert_eq!(
            config_drive_network(&IsoImage::parse(&img).unwrap()).unwrap(),
            None
        );
    }

    #[test]
    fn dhcp_only_network_data_is_an_error() {
        let img = build_iso(
            "config-2",
            &[(
                "openstack/latest/network_data.json",
                br#"{"networks":[{"type":"ipv4_dhcp"}]}"#,
            )],
        );
        assert!(matches!(
            config_drive_network(&IsoImage::parse(&img).unwrap()),
            Err(MockBmcError::ConfigDrive(_))
        ));
    }

    #[test]
    fn hostile_images_fail_without_panicking() {
        let img = build_iso("config-2", &[("a/b.json", b"{}")]);
        // Truncate at every interesting boundary; parsing and reading must never panic.
        for cut in [32774, 34816, 36864, 38000, img.len() - 1] {
            if let Ok(iso) = IsoImage::parse(&img[..cut]) {
                let _ = iso.read_file("a/b.json");
            }
        }
        // A root directory pointing far beyond the end.
        let mut bad = img.clone();
        bad[32768 + 156 + 2..32768 + 156 + 6].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
        let iso = IsoImage::parse(&bad).unwrap();
        assert!(matches!(
            iso.read_file("a/b.json"),
            Err(MockBmcError::IsoTruncated { .. })
        ));
        // Bad block size.
        let mut bad = img;
        bad[32768 + 128] = 7;
        assert!(matches!(
            IsoImage::parse(&bad),
            Err(MockBmcError::IsoMalformed(_))
        ));
    }

    #[test]
    fn xorriso_image_with_rock_ridge_and_joliet() {
        let Ok(out) = std::process::Command::new("xorriso")
            .arg("-version")
            .output()
        else {
            eprintln!("skipping: xorriso not installed");
            return;
        };
        if !out.status.success() {
            eprintln!("skipping: xorriso not usable");
            return;
        }
        let dir = std::env::temp_dir().join(format!("ferrofish-iso-{}", std::process::id()));
        let src = dir.join("src/openstack/latest");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("network_data.json"), NETWORK_DATA).unwrap();
        let iso_path = dir.join("cd.iso");
        for extra in [&["-J", "-R"][..], &["-R"][..]] {
            let status = std::process::Command::new("xorriso")
                .args(["-as", "mkisofs", "-quiet", "-V", "config-2"])
                .args(extra)
                .arg("-o")
                .arg(&iso_path)
                .arg(dir.join("src"))
                .status()
                .unwrap();
            assert!(status.success());
            let img = std::fs::read(&iso_path).unwrap();
            let iso = IsoImage::parse(&img).unwrap();
            let net = config_drive_network(&iso).unwrap().unwrap();
            assert_eq!(net.address.to_string(), "192.0.2.10", "{extra:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
