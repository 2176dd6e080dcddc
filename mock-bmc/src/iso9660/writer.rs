//! The writer of minimal ISO 9660 images for tests and test helpers: deliberately independent
//! from the reader beside it except for the format.

use super::{DESCRIPTORS_START, SECTOR};

/// Builds a minimal ISO 9660 image (primary descriptor, terminator, root and nested directories,
/// plain level-2 names) holding the given files. Used by tests and the test helpers to serve a
/// real image.
pub fn build_iso(volume_label: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    IsoBuilder::new(files).build(volume_label, false)
}

/// Like [`build_iso`], plus an El Torito boot record, a boot catalog (validation entry and a
/// bootable no-emulation default entry) and a boot image sector: an image a firmware would
/// boot, which the mock takes as carrying an operating system
/// ([`super::IsoImage::is_bootable`]).
pub fn build_bootable_iso(volume_label: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    IsoBuilder::new(files).build(volume_label, true)
}

/// The boot system identifier of an El Torito boot record.
pub(super) const EL_TORITO: &[u8; 23] = b"EL TORITO SPECIFICATION";

/// A boot catalog: a validation entry (checksummed, key `55h AAh`) and a bootable default entry
/// loading four 512-byte sectors from `image_lba` without emulation.
fn boot_catalog(image_lba: u32) -> [u8; 64] {
    let mut catalog = [0u8; 64];
    catalog[0] = 1; // validation entry header
    catalog[1] = 0xEF; // platform: EFI
    catalog[30] = 0x55;
    catalog[31] = 0xAA;
    let sum = catalog[..32].chunks_exact(2).fold(0u16, |acc, w| {
        acc.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    catalog[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
    catalog[32] = 0x88; // bootable
    catalog[38..40].copy_from_slice(&4u16.to_le_bytes());
    catalog[40..44].copy_from_slice(&image_lba.to_le_bytes());
    catalog
}

struct DirNode {
    name: String,
    dirs: Vec<DirNode>,
    files: Vec<(String, Vec<u8>)>,
    lba: u32,
}

struct IsoBuilder {
    root: DirNode,
}

impl IsoBuilder {
    fn new(files: &[(&str, &[u8])]) -> Self {
        let mut root = DirNode {
            name: String::new(),
            dirs: Vec::new(),
            files: Vec::new(),
            lba: 0,
        };
        for (path, content) in files {
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            let Some((file, dirs)) = parts.split_last() else {
                continue;
            };
            let mut node = &mut root;
            for d in dirs {
                let idx = if let Some(i) = node.dirs.iter().position(|x| x.name == *d) {
                    i
                } else {
                    node.dirs.push(DirNode {
                        name: (*d).to_owned(),
                        dirs: Vec::new(),
                        files: Vec::new(),
                        lba: 0,
                    });
                    node.dirs.len() - 1
                };
                node = &mut node.dirs[idx];
            }
            node.files.push(((*file).to_owned(), content.to_vec()));
        }
        IsoBuilder { root }
    }

    #[allow(clippy::items_after_statements)]
    fn build(mut self, label: &str, bootable: bool) -> Vec<u8> {
        // Layout: 16 system sectors, PVD (16), [boot record (17),] terminator, [boot catalog,
        // boot image,] then one sector per directory, then file data.
        let terminator_lba: u32 = if bootable { 18 } else { 17 };
        let mut next = if bootable { 21u32 } else { 18 };
        fn assign(d: &mut DirNode, next: &mut u32) {
            d.lba = *next;
            *next += 1;
            for c in &mut d.dirs {
                assign(c, next);
            }
        }
        assign(&mut self.root, &mut next);
        let mut data_sectors: Vec<(u32, Vec<u8>)> = Vec::new();
        fn place(d: &DirNode, next: &mut u32, out: &mut Vec<(u32, Vec<u8>)>) {
            for (_, content) in &d.files {
                out.push((*next, content.clone()));
                *next += (content.len().div_ceil(SECTOR)).max(1) as u32;
            }
            for c in &d.dirs {
                place(c, next, out);
            }
        }
        place(&self.root, &mut next, &mut data_sectors);
        let total = next as usize;
        let mut img = vec![0u8; total * SECTOR];
        // Primary volume descriptor.
        let pvd = &mut img[DESCRIPTORS_START..DESCRIPTORS_START + SECTOR];
        pvd[0] = 1;
        pvd[1..6].copy_from_slice(b"CD001");
        pvd[6] = 1;
        pvd[8..40].fill(b' ');
        pvd[40..72].fill(b' ');
        let l = label.as_bytes();
        pvd[40..40 + l.len().min(32)].copy_from_slice(&l[..l.len().min(32)]);
        both32(&mut pvd[80..88], total as u32);
        both16(&mut pvd[120..124], 1);
        both16(&mut pvd[124..128], 1);
        both16(&mut pvd[128..132], SECTOR as u16);
        pvd[881] = 1;
        let root_rec = dir_record(&[0], self.root.lba, SECTOR as u32, true);
        pvd[156..156 + root_rec.len()].copy_from_slice(&root_rec);
        if bootable {
            let (catalog_lba, image_lba) = (19u32, 20u32);
            let record = &mut img[DESCRIPTORS_START + SECTOR..DESCRIPTORS_START + 2 * SECTOR];
            record[1..6].copy_from_slice(b"CD001");
            record[6] = 1;
            record[7..7 + EL_TORITO.len()].copy_from_slice(EL_TORITO);
            record[71..75].copy_from_slice(&catalog_lba.to_le_bytes());
            let at = catalog_lba as usize * SECTOR;
            img[at..at + 64].copy_from_slice(&boot_catalog(image_lba));
        }
        let term_at = terminator_lba as usize * SECTOR;
        let term = &mut img[term_at..term_at + SECTOR];
        term[0] = 255;
        term[1..6].copy_from_slice(b"CD001");
        term[6] = 1;
        // Directories.
        let mut file_iter = data_sectors.iter();
        fn write_dir(
            img: &mut [u8],
            d: &DirNode,
            parent_lba: u32,
            files: &mut std::slice::Iter<'_, (u32, Vec<u8>)>,
        ) {
            let mut recs = Vec::new();
            recs.extend(dir_record(&[0], d.lba, SECTOR as u32, true));
            recs.extend(dir_record(&[1], parent_lba, SECTOR as u32, true));
            let mut file_positions = Vec::new();
            for (name, content) in &d.files {
                if let Some((lba, _)) = files.next() {
                    let ident = format!("{};1", name.to_ascii_uppercase());
                    recs.extend(dir_record(
                        ident.as_bytes(),
                        *lba,
                        content.len() as u32,
                        false,
                    ));
                    file_positions.push(*lba);
                }
            }
            for c in &d.dirs {
                recs.extend(dir_record(
                    c.name.to_ascii_uppercase().as_bytes(),
                    c.lba,
                    SECTOR as u32,
                    true,
                ));
            }
            let at = d.lba as usize * SECTOR;
            let n = recs.len().min(SECTOR);
            img[at..at + n].copy_from_slice(&recs[..n]);
            for c in &d.dirs {
                write_dir(img, c, d.lba, files);
            }
        }
        let root_lba = self.root.lba;
        write_dir(&mut img, &self.root, root_lba, &mut file_iter);
        for (lba, content) in &data_sectors {
            let at = *lba as usize * SECTOR;
            img[at..at + content.len()].copy_from_slice(content);
        }
        img
    }
}

fn both16(out: &mut [u8], v: u16) {
    out[..2].copy_from_slice(&v.to_le_bytes());
    out[2..4].copy_from_slice(&v.to_be_bytes());
}

fn both32(out: &mut [u8], v: u32) {
    out[..4].copy_from_slice(&v.to_le_bytes());
    out[4..8].copy_from_slice(&v.to_be_bytes());
}

fn dir_record(ident: &[u8], lba: u32, size: u32, dir: bool) -> Vec<u8> {
    let len = 33 + ident.len() + usize::from(ident.len().is_multiple_of(2));
    let mut r = vec![0u8; len];
    r[0] = len as u8;
    both32(&mut r[2..10], lba);
    both32(&mut r[10..18], size);
    r[25] = if dir { 2 } else { 0 };
    both16(&mut r[28..32], 1);
    r[32] = ident.len() as u8;
    r[33..33 + ident.len()].copy_from_slice(ident);
    r
}
