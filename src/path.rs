//! Path rules: Java's PathUtils.validatePath and the parent/child split.

/// Why a path is not a valid znode path (the message Java's validator gives).
pub fn validate(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("Path length must be > 0".into());
    }
    if !path.starts_with('/') {
        return Err("Path must start with / character".into());
    }
    if path.len() == 1 {
        return Ok(());
    }
    if path.ends_with('/') {
        return Err("Path must not end with / character".into());
    }
    let chars: Vec<char> = path.chars().collect();
    let mut last = '/';
    for i in 1..chars.len() {
        let c = chars[i];
        let next_is_end = i + 1 == chars.len() || chars[i + 1] == '/';
        let reason = if c == '\0' {
            Some("null character not allowed")
        } else if c == '/' && last == '/' {
            Some("empty node name specified")
        } else if c == '.' && last == '.' {
            (chars[i - 2] == '/' && next_is_end).then_some("relative paths not allowed")
        } else if c == '.' {
            (chars[i - 1] == '/' && next_is_end).then_some("relative paths not allowed")
        } else if invalid_char(c) {
            Some("invalid character")
        } else {
            None
        };
        if let Some(r) = reason {
            return Err(format!("Invalid path string \"{path}\" caused by {r} @{i}"));
        }
        last = c;
    }
    Ok(())
}

/// Java checks UTF-16 units; a character outside the BMP is a surrogate pair
/// there and so always rejected.
fn invalid_char(c: char) -> bool {
    let c = c as u32;
    (0x01..=0x1f).contains(&c)
        || (0x7f..=0x9f).contains(&c)
        || (0xd800..=0xf8ff).contains(&c)
        || (0xfff0..=0xffff).contains(&c)
        || c > 0xffff
}

/// The parent of a path as Java computes it: everything before the last
/// slash ("" for a child of the root). None when there is no slash.
pub fn parent(path: &str) -> Option<&str> {
    path.rfind('/').map(|i| &path[..i])
}

/// The last component of a path.
pub fn name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// A parent as it is keyed in the tree, where the root is "/".
pub fn parent_key(parent: &str) -> &str {
    if parent.is_empty() {
        "/"
    } else {
        parent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/a.b",
            "/..a",
            "/a..",
            "/zookeeper/quota",
            "/é",
        ] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn rejects_what_java_rejects() {
        for p in [
            "",
            "a",
            "a/b",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a\u{0}",
            "/a\u{1}",
            "/\u{7f}",
            "/\u{e000}",
            "/\u{fff0}",
            "/😀",
        ] {
            assert!(validate(p).is_err(), "{p:?} should be invalid");
        }
    }

    #[test]
    fn parent_and_name() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some(""));
        assert_eq!(parent("a"), None);
        assert_eq!(name("/a/b"), "b");
        assert_eq!(parent_key(""), "/");
    }
}
