//! java.util.Properties syntax and Java number conventions.

use super::*;

#[test]
fn properties_separators() {
    assert_eq!(
        props("a=1\nb:2\nc 3\nd = 4\ne\t:\t5\nf  =  = 6\ng\nh=\ni = : 7"),
        kv(&[
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "4"),
            ("e", "5"),
            ("f", "= 6"),
            ("g", ""),
            ("h", ""),
            ("i", ": 7"),
        ])
    );
}

#[test]
fn properties_comments_and_blank_lines() {
    let text = "# comment\n   ! also a comment\n\n   \t\nkey=value # not a comment\n#last";
    assert_eq!(props(text), kv(&[("key", "value # not a comment")]));
}

#[test]
fn properties_continuations() {
    assert_eq!(
        props("a=one\\\n    two\\\n\tthree"),
        kv(&[("a", "onetwothree")])
    );
    // An even number of backslashes is an escaped backslash, not a continuation.
    assert_eq!(props("a=x\\\\\nb=y"), kv(&[("a", "x\\"), ("b", "y")]));
    // A comment line cannot be continued...
    assert_eq!(props("# c \\\na=1"), kv(&[("a", "1")]));
    // ...and a continuation line starting with '#' is not a comment.
    assert_eq!(props("a=1\\\n#2"), kv(&[("a", "1#2")]));
    // A trailing backslash at end of input is dropped.
    assert_eq!(props("a=b\\"), kv(&[("a", "b")]));
    // A continuation followed by an empty line ends the value.
    assert_eq!(props("a=b\\\n\nc=d"), kv(&[("a", "b"), ("c", "d")]));
}

#[test]
fn properties_line_endings() {
    assert_eq!(
        props("a=1\r\nb=2\rc=3\n"),
        kv(&[("a", "1"), ("b", "2"), ("c", "3")])
    );
    assert_eq!(props("a=1\\\r\n  2"), kv(&[("a", "12")]));
    let lines: Vec<usize> = parse_properties("a=1\r\n\r\nb=2\r# x\rc=\\\n3\nd=4")
        .unwrap()
        .iter()
        .map(|e| e.line)
        .collect();
    assert_eq!(lines, vec![1, 3, 5, 7]);
}

#[test]
fn properties_escapes() {
    assert_eq!(
        props("k=a\\tb\\nc\\u0041\\q\\\\"),
        kv(&[("k", "a\tb\ncAq\\")])
    );
    assert_eq!(props("a\\=b=c"), kv(&[("a=b", "c")]));
    assert_eq!(props("a\\ b c"), kv(&[("a b", "c")]));
    assert_eq!(props("a\\:b:c"), kv(&[("a:b", "c")]));
    assert_eq!(props("e=\\uD83D\\uDE00!"), kv(&[("e", "\u{1F600}!")]));
}

#[test]
fn properties_malformed_unicode_escape() {
    for text in ["x=1\nk=\\u12", "x=1\nk=\\u12zz"] {
        match parse_properties(text) {
            Err(ConfigError::Syntax { line: 2, reason }) => assert!(reason.contains("\\u")),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn properties_bom_and_trailing_whitespace() {
    let (c, w) = ok("\u{feff}tickTime=2000   \t\ndataDir=/nonexistent-rzk/d  \nclientPort = 2181 ");
    assert_eq!(c.tick_time_ms, 2000);
    assert_eq!(c.data_dir, PathBuf::from("/nonexistent-rzk/d"));
    assert_eq!(c.client_port, 2181);
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn duplicate_keys_last_wins_with_warning() {
    let (c, w) = ok(&format!("{MIN}tickTime=1000\ntickTime=4000\n"));
    assert_eq!(c.tick_time_ms, 4000);
    assert!(has(&w, "line 3 and again on line 4"), "{w:?}");
    assert_eq!(
        c.raw.iter().filter(|(k, _)| k == "tickTime").count(),
        2,
        "raw keeps every occurrence"
    );
}

// ---- Java number conventions ----

#[test]
fn number_helpers() {
    assert_eq!(java_parse_int("+12"), Some(12));
    assert_eq!(java_parse_int("-2147483648"), Some(i32::MIN));
    assert_eq!(java_parse_int("2147483648"), None);
    assert_eq!(java_parse_int("1_0"), None);
    assert_eq!(java_parse_int(" 1"), None);
    assert_eq!(java_decode("-0x10"), Some(-16));
    assert_eq!(java_decode("0"), Some(0));
    assert_eq!(java_decode("017"), Some(15));
    assert_eq!(java_decode("0x"), None);
    assert_eq!(java_decode("0x-1"), None);
    assert_eq!(java_decode("#1F"), Some(31));
    assert_eq!(java_trim("\u{1} a \t"), "a");
}
