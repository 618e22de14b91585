//! Embeddings kept on disk by content: one small file per text (its vector, little-endian
//! `f32`s) under `<state_dir>/embeddings/<model digest>/`, named by the text's SHA-256, so a
//! restart reads a catalog's vectors instead of computing them and a changed tool is embedded
//! alone. A file that cannot be read or has the wrong length is computed again. At most
//! `max_cached` files are kept: after each catalog, the oldest of the others go ([`Cache::sweep`]).

use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The cache of one model.
pub struct Cache {
    dir: PathBuf,
    dims: usize,
    max: usize,
}

impl Cache {
    /// The cache of at most `max` vectors of length `dims` of the model `digest`, under
    /// `state_dir`.
    pub fn new(state_dir: &std::path::Path, digest: &str, dims: usize, max: usize) -> Cache {
        Cache {
            dir: state_dir.join("embeddings").join(digest),
            dims,
            max,
        }
    }

    /// Over `max` files, remove the oldest (by when they were written) until `max` are left,
    /// never the vectors of `keep` (the current catalog's, which may alone exceed `max`).
    /// Returns how many went.
    pub fn sweep(&self, keep: &[String]) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if files.len() <= self.max {
            return 0;
        }
        let kept: std::collections::HashSet<PathBuf> = keep.iter().map(|t| self.path(t)).collect();
        let mut others: Vec<_> = files.iter().filter(|f| !kept.contains(&f.1)).collect();
        others.sort_by_key(|f| f.0);
        let over = files.len() - self.max;
        others
            .into_iter()
            .take(over)
            .filter(|f| std::fs::remove_file(&f.1).is_ok())
            .count()
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
        let cache = Cache::new(dir.path(), "m", 3, 10);
        assert!(cache.get("a").is_none());
        cache.put("a", &[1.0, -0.5, 0.25]);
        assert_eq!(cache.get("a"), Some(vec![1.0, -0.5, 0.25]));
        std::fs::write(cache.path("b"), [0u8; 5]).unwrap();
        assert!(
            cache.get("b").is_none(),
            "a file of the wrong length is not a vector"
        );
    }

    #[test]
    fn a_sweep_keeps_at_most_max_and_never_what_the_catalog_holds() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "m", 1, 3);
        let texts: Vec<String> = (0..6).map(|i| format!("text {i}")).collect();
        for (i, t) in texts.iter().enumerate() {
            cache.put(t, &[i as f32]);
            let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(i as u64);
            let f = std::fs::File::options()
                .write(true)
                .open(cache.path(t))
                .unwrap();
            f.set_modified(at).unwrap(); // an order that does not hang on the clock's grain
        }
        // The current catalog holds the oldest text and the newest.
        let keep = vec![texts[0].clone(), texts[5].clone()];
        assert_eq!(cache.sweep(&keep), 3);
        let left: Vec<bool> = texts.iter().map(|t| cache.get(t).is_some()).collect();
        assert_eq!(left, [true, false, false, false, true, true]);
        assert_eq!(cache.sweep(&keep), 0, "at the limit, nothing more goes");
        let big = Cache::new(dir.path(), "m", 1, 1);
        assert_eq!(
            big.sweep(&texts),
            0,
            "what the catalog holds stays, even over the limit"
        );
    }
}
