//! Exposed names: `{server}{separator}{tool}`, shortened deterministically when too long.

/// The prefix a server name gives: characters outside `A-Z a-z 0-9 _ -` become `_`, so that
/// exposed names pass the function-name rule of model APIs (`^[a-zA-Z0-9_-]{1,64}$`).
pub fn prefix_of(server: &str) -> String {
    server
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The exposed name of `tool` on `server`, at most `max` bytes long.
pub fn exposed(server: &str, prefix: bool, separator: &str, tool: &str, max: usize) -> String {
    let full = if prefix {
        format!("{}{separator}{tool}", prefix_of(server))
    } else {
        tool.to_string()
    };
    shorten(&full, max, &full)
}

/// A name for the loser of a collision: distinct from the winner, derived from where it comes
/// from, and stable across restarts.
pub fn disambiguate(name: &str, server: &str, tool: &str, max: usize) -> String {
    let tag = hex8(fnv1a(format!("{server}\0{tool}").as_bytes()));
    let keep = floor_char_boundary(name, max.saturating_sub(tag.len() + 1));
    format!("{}_{tag}", &name[..keep])
}

/// Cut `name` to `max` bytes, ending in `_` and 8 hex digits of a hash of `seed`, so that two long
/// names sharing a start stay distinct and the result is the same on every run.
pub fn shorten(name: &str, max: usize, seed: &str) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let tag = hex8(fnv1a(seed.as_bytes()));
    let keep = floor_char_boundary(name, max.saturating_sub(tag.len() + 1));
    format!("{}_{tag}", &name[..keep])
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 64-bit FNV-1a, folded to 32 bits for the tag. Hand-written (five lines) because the tag must
/// never change between releases, which `std`'s `DefaultHasher` does not promise.
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h ^ (h >> 32)) as u32
}

fn hex8(v: u32) -> String {
    format!("{v:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_sanitizes() {
        assert_eq!(
            exposed("time", true, "__", "get_current_time", 64),
            "time__get_current_time"
        );
        assert_eq!(
            exposed("my server.v2", true, "__", "x", 64),
            "my_server_v2__x"
        );
        assert_eq!(exposed("time", false, "__", "now", 64), "now");
    }

    #[test]
    fn shortens_deterministically_within_the_limit() {
        let tool = "a".repeat(80);
        let a = exposed("srv", true, "__", &tool, 64);
        assert_eq!(a.len(), 64);
        assert_eq!(a, exposed("srv", true, "__", &tool, 64));
        // Fixed value: the tag must not change between releases.
        assert_eq!(&a[55..], "_fe603967");
        let b = exposed("srv", true, "__", &format!("{tool}b"), 64);
        assert_ne!(a, b);
        assert_eq!(&a[..50], &b[..50]);
        // Multi-byte characters are never split.
        let c = exposed("srv", true, "__", &"é".repeat(40), 64);
        assert!(c.len() <= 64);
    }

    #[test]
    fn disambiguated_names_differ_by_origin() {
        let x = disambiguate("echo", "a", "echo", 64);
        let y = disambiguate("echo", "b", "echo", 64);
        assert_ne!(x, y);
        assert!(x.starts_with("echo_"));
        assert!(disambiguate(&"n".repeat(64), "a", "t", 64).len() <= 64);
    }
}
