//! ISO 9660 images from an in-memory file tree, through the `hadris-iso` writer: plain 8.3
//! names for the oldest readers, Joliet (level 3) and Rock Ridge for the real, lowercase names
//! Linux, cloud-init and glean use.
//!
//! The tree is validated here first, so a path the format cannot hold is a typed error naming
//! the path instead of a surprise inside the writer.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::sync::Arc;

use hadris_iso::read::PathSeparator;
use hadris_iso::write::options::{CreationFeatures, IsoFormatOptions};
use hadris_iso::write::{File as IsoFile, InputFiles, IsoImageWriter};

use crate::error::Error;

const SECTOR: usize = 2048;
/// Joliet's volume identifier holds 16 UCS-2 characters; a longer label would differ between
/// the primary and the Joliet descriptor.
const MAX_LABEL_CHARS: usize = 16;
/// Joliet's name limit (64 UCS-2 characters).
const MAX_NAME_CHARS: usize = 64;
/// ISO 9660 allows 8 levels of directories and 255 bytes of path; stay inside without relying
/// on Rock Ridge relocation, which some readers ignore.
const MAX_COMPONENTS: usize = 8;
const MAX_PATH_BYTES: usize = 255;
/// Characters Joliet forbids in names, plus the path separator.
const FORBIDDEN: &[char] = &['/', '\\', '*', ':', ';', '?'];

/// Builds an ISO 9660 image with volume label `label` holding `files` (path → contents, paths
/// separated by `/`, directories created as needed).
pub fn write_iso(label: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, Error> {
    check_label(label)?;
    let tree = build_tree(files)?;
    let options = IsoFormatOptions {
        volume_name: label.to_owned(),
        system_id: None,
        volume_set_id: None,
        publisher_id: None,
        preparer_id: None,
        application_id: Some("FERROFISH".to_owned()),
        sector_size: SECTOR,
        path_separator: PathSeparator::ForwardSlash,
        features: CreationFeatures::extensions(),
        // Keep `config-2` as written: readers match the label exactly (genisoimage and xorriso
        // do the same).
        strict_charset: false,
    };
    let input = InputFiles {
        path_separator: PathSeparator::ForwardSlash,
        files: tree,
    };
    let estimate = hadris_iso::write::estimator::estimate(&input, &options).minimum_bytes();
    let capacity =
        usize::try_from(estimate).map_err(|_| Error::IsoWrite("image too large".into()))?;
    let mut buffer = Cursor::new(vec![0u8; capacity]);
    IsoImageWriter::create(&mut buffer, input, options)
        .map_err(|e| Error::IsoWrite(e.to_string()))?;
    let mut image = buffer.into_inner();
    // The estimate may overshoot: cut the image to the size its primary descriptor declares.
    let declared = volume_space_bytes(&image).ok_or_else(|| {
        Error::IsoWrite("the writer produced no primary volume descriptor".into())
    })?;
    if declared > image.len() {
        return Err(Error::IsoWrite(format!(
            "the image declares {declared} bytes but only {} were written",
            image.len()
        )));
    }
    image.truncate(declared);
    Ok(image)
}

/// The volume space size of the primary descriptor (sector 16, bytes 80..84, little-endian),
/// in bytes.
fn volume_space_bytes(image: &[u8]) -> Option<usize> {
    let pvd = image.get(16 * SECTOR..17 * SECTOR)?;
    if pvd[0] != 1 || &pvd[1..6] != b"CD001" {
        return None;
    }
    let sectors = u32::from_le_bytes(pvd[80..84].try_into().ok()?);
    usize::try_from(sectors).ok()?.checked_mul(SECTOR)
}

fn check_label(label: &str) -> Result<(), Error> {
    let reason = if label.is_empty() {
        Some("the volume label is empty")
    } else if label.chars().count() > MAX_LABEL_CHARS {
        Some("the volume label is longer than 16 characters (Joliet's limit)")
    } else if !label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        Some("the volume label may hold only A-Z a-z 0-9 - _ .")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidIsoPath {
            path: label.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

fn check_component(path: &str, name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        Some("it has an empty component")
    } else if name == "." || name == ".." {
        Some("it has a `.` or `..` component")
    } else if name.encode_utf16().count() > MAX_NAME_CHARS {
        Some("a name is longer than 64 characters (Joliet's limit)")
    } else if name
        .chars()
        .any(|c| c.is_control() || FORBIDDEN.contains(&c))
    {
        Some("a name holds a control character or one of \\ * : ; ?")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidIsoPath {
            path: path.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// A directory being assembled: sub-directories and files by name.
#[derive(Default)]
struct Dir {
    dirs: BTreeMap<String, Dir>,
    files: BTreeMap<String, Vec<u8>>,
}

impl Dir {
    /// Names in this directory, lowercased, to catch names that differ only by case (they
    /// would collide for the case-insensitive readers BMCs and firmware use).
    fn folded_names(&self) -> BTreeSet<String> {
        self.dirs
            .keys()
            .chain(self.files.keys())
            .map(|n| n.to_lowercase())
            .collect()
    }

    fn into_entries(self) -> Vec<IsoFile> {
        let mut out: Vec<IsoFile> = self
            .dirs
            .into_iter()
            .map(|(name, dir)| IsoFile::Directory {
                name: Arc::new(name),
                children: dir.into_entries(),
            })
            .collect();
        out.extend(
            self.files
                .into_iter()
                .map(|(name, contents)| IsoFile::File {
                    name: Arc::new(name),
                    contents,
                }),
        );
        out
    }
}

fn build_tree(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<IsoFile>, Error> {
    let mut root = Dir::default();
    for (path, contents) in files {
        let invalid = |reason| Error::InvalidIsoPath {
            path: path.clone(),
            reason,
        };
        if path.len() > MAX_PATH_BYTES {
            return Err(invalid("the path is longer than 255 bytes"));
        }
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts {
            check_component(path, part)?;
        }
        if parts.len() > MAX_COMPONENTS {
            return Err(invalid("the path is deeper than 8 levels"));
        }
        let (file_name, dirs) = parts.split_last().ok_or(invalid("the path is empty"))?;
        let mut dir = &mut root;
        for part in dirs {
            if dir.files.contains_key(*part) {
                return Err(invalid("a parent of the path is also a file"));
            }
            if !dir.dirs.contains_key(*part) && dir.folded_names().contains(&part.to_lowercase()) {
                return Err(invalid("a name differs from another only by case"));
            }
            dir = dir.dirs.entry((*part).to_owned()).or_default();
        }
        if dir.dirs.contains_key(*file_name) {
            return Err(invalid("the path is also a directory"));
        }
        if dir.folded_names().contains(&file_name.to_lowercase()) {
            return Err(invalid("a name differs from another only by case"));
        }
        dir.files.insert((*file_name).to_owned(), contents.clone());
    }
    Ok(root.into_entries())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &[u8])]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.to_vec()))
            .collect()
    }

    #[test]
    fn image_declares_its_own_length_and_label() {
        let image = write_iso("config-2", &files(&[("a/b.txt", b"hello")])).unwrap();
        assert_eq!(image.len() % SECTOR, 0);
        assert_eq!(volume_space_bytes(&image), Some(image.len()));
        let pvd = &image[16 * SECTOR..17 * SECTOR];
        assert_eq!(&pvd[40..48], b"config-2");
        assert!(pvd[48..72].iter().all(|&b| b == b' '));
    }

    #[test]
    fn unusable_paths_and_labels_are_typed_errors_naming_the_path() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("a//b", "empty component"),
            ("a/../b", "`..`"),
            ("a/b;1", "\\ * : ;"),
            ("x\u{7}", "control"),
        ];
        for (path, want) in cases {
            let err = write_iso("L", &files(&[(path, b"x")])).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, Error::InvalidIsoPath { .. }),
                "{path:?}: {text}"
            );
            assert!(text.contains(want), "{path:?}: {text}");
        }
        let long = "n".repeat(65);
        assert!(write_iso("L", &files(&[(&long, b"x")])).is_err());
        let deep = "d/".repeat(8) + "f";
        assert!(
            write_iso("L", &files(&[(&deep, b"x")]))
                .unwrap_err()
                .to_string()
                .contains("deeper")
        );
        // A file and a directory of the same name.
        assert!(write_iso("L", &files(&[("a", b"1"), ("a/b", b"2")])).is_err());
        assert!(
            write_iso("L", &files(&[("A/x", b"1"), ("a/y", b"2")]))
                .unwrap_err()
                .to_string()
                .contains("case")
        );
        for label in ["", "seventeen-chars-x", "bad label", "é"] {
            assert!(
                matches!(
                    write_iso(label, &BTreeMap::new()),
                    Err(Error::InvalidIsoPath { .. })
                ),
                "{label:?}"
            );
        }
    }
}
