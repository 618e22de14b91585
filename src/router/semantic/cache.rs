//! Embeddings kept on disk by content: one small file per text (its vector, little-endian
//! `f32`s) under `<state_dir>/embeddings/<model digest>/`, named by the text's SHA-256, so a
//! restart reads a catalog's vectors instead of computing them and a changed tool is embedded
//! alone. A file that cannot be read or has the wrong length is computed again.

use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The cache of one model.
pub struct Cache {
    dir: PathBuf,
    dims: usize,
}

impl Cache {
    /// The cache of vectors of length `dims` of the model `digest`, under `state_dir`.
    pub fn new(state_dir: &std::path::Path, digest: &str, dims: usize) -> Cache {
        Cache {
            dir: state_dir.join("embeddings").join(digest),
            dims,
        }
    }

    fn path(&self, text: &str) -> PathBuf {
        let d = Sha256::digest(text.as_bytes());
        let name: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(name)
    }

    /// The vector of `text`, if it was kept.
    pub fn get(&self, text: &str) -> Option<Vec<f32>> {
        let bytes = std::fs::read(self.path(text)).ok()?;
        if bytes.len() != self.dims * 4 {
            return None;
        }
        Some(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }

    /// Keep the vector of `text` (best effort: a cache that cannot be written only costs time).
    pub fn put(&self, text: &str, vector: &[f32]) {
        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
        let path = self.path(text);
        let tmp = path.with_extension("tmp");
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::debug!(dir = %self.dir.display(), error = %e, "cannot keep an embedding");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_vector_comes_back_and_a_short_file_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "m", 3);
        assert!(cache.get("a").is_none());
        cache.put("a", &[1.0, -0.5, 0.25]);
        assert_eq!(cache.get("a"), Some(vec![1.0, -0.5, 0.25]));
        std::fs::write(cache.path("b"), [0u8; 5]).unwrap();
        assert!(
            cache.get("b").is_none(),
            "a file of the wrong length is not a vector"
        );
    }
}
