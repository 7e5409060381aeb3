//! The `java.util.Properties` file syntax zoo.cfg is written in (JDK 9+
//! `Properties.load`): logical lines with backslash continuations, `#`/`!`
//! comments, `=`/`:`/blank separators and `\uXXXX` escapes.

use super::ConfigError;

/// One `key=value` as Properties.load produces it (escapes decoded, value untrimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PropEntry {
    pub(super) key: String,
    pub(super) value: String,
    pub(super) line: usize,
}

pub(super) fn is_prop_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// String.trim(): strips every char <= U+0020 from both ends.
pub(super) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

pub(super) fn parse_properties(text: &str) -> Result<Vec<PropEntry>, ConfigError> {
    // Java would read a UTF-8 BOM as three Latin-1 characters glued to the first key.
    let chars: Vec<char> = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .chars()
        .collect();
    let mut reader = LineReader {
        chars: &chars,
        pos: 0,
        line: 1,
    };
    let mut entries = Vec::new();
    while let Some((logical, line)) = reader.next_logical_line() {
        let (key, value) = split_key_value(&logical);
        let syntax = |reason: String| ConfigError::Syntax { line, reason };
        entries.push(PropEntry {
            key: unescape(key).map_err(syntax)?,
            value: unescape(value).map_err(syntax)?,
            line,
        });
    }
    Ok(entries)
}

/// Properties.LineReader (JDK 9+): joins continuation lines, drops comments and blanks.
pub(super) struct LineReader<'a> {
    chars: &'a [char],
    pos: usize,
    /// 1-based number of the natural line `pos` is on.
    line: usize,
}

pub(super) fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

impl LineReader<'_> {
    fn next_char(&mut self) -> Option<char> {
        let c = *self.chars.get(self.pos)?;
        let after_cr = self.pos > 0 && self.chars[self.pos - 1] == '\r';
        self.pos += 1;
        if c == '\r' || (c == '\n' && !after_cr) {
            self.line += 1;
        }
        Some(c)
    }

    /// The next logical line and the number of the line it starts on.
    fn next_logical_line(&mut self) -> Option<(Vec<char>, usize)> {
        let mut buf: Vec<char> = Vec::new();
        let mut skip_space = true;
        let mut continued = false;
        let mut backslash = false;
        let mut start_line = self.line;
        loop {
            let Some(c) = self.next_char() else {
                if buf.is_empty() {
                    return None;
                }
                if backslash {
                    buf.pop();
                }
                return Some((buf, start_line));
            };
            if skip_space {
                if is_prop_space(c) || (!continued && is_newline(c)) {
                    continue;
                }
                skip_space = false;
                continued = false;
            }
            // '#' or '!' starts a comment whenever nothing is buffered yet, even
            // on a continuation line that follows a lone backslash.
            if buf.is_empty() && (c == '#' || c == '!') {
                loop {
                    match self.next_char() {
                        None => return None,
                        Some(c) if is_newline(c) => break,
                        Some(_) => {}
                    }
                }
                skip_space = true;
                continue;
            }
            if !is_newline(c) {
                if buf.is_empty() {
                    start_line = self.line;
                }
                buf.push(c);
                backslash = c == '\\' && !backslash;
                continue;
            }
            // End of a natural line.
            if buf.is_empty() {
                skip_space = true;
                continue;
            }
            if backslash {
                // An odd number of trailing backslashes: drop one. At end of
                // input that ends the line (possibly leaving it empty, which
                // Java still loads as the key ""); otherwise the next line
                // continues this one.
                buf.pop();
                if self.pos == self.chars.len() {
                    return Some((buf, start_line));
                }
                backslash = false;
                skip_space = true;
                continued = true;
                if c == '\r' && self.chars.get(self.pos) == Some(&'\n') {
                    self.pos += 1;
                }
                continue;
            }
            return Some((buf, start_line));
        }
    }
}

/// Properties.load0: the key ends at the first unescaped '=', ':' or blank;
/// blanks and at most one '='/':' separate it from the value.
pub(super) fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let mut key_len = 0;
    let mut value_start = line.len();
    let mut has_sep = false;
    let mut backslash = false;
    while key_len < line.len() {
        let c = line[key_len];
        if !backslash && (c == '=' || c == ':') {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if !backslash && is_prop_space(c) {
            value_start = key_len + 1;
            break;
        }
        backslash = c == '\\' && !backslash;
        key_len += 1;
    }
    while value_start < line.len() {
        let c = line[value_start];
        if !is_prop_space(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (&line[..key_len], &line[value_start..])
}

/// Properties.loadConvert: `\t \n \r \f \uXXXX`; any other escaped char stands for itself.
pub(super) fn unescape(s: &[char]) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut units: Vec<u16> = Vec::new(); // pending UTF-16 from \u escapes
    let mut i = 0;
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        out.extend(char::decode_utf16(units.drain(..)).map(|r| r.unwrap_or('\u{fffd}')));
    };
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' {
            flush(&mut units, &mut out);
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else { break };
        i += 1;
        if e == 'u' {
            let digits = s
                .get(i..i + 4)
                .filter(|d| d.iter().all(char::is_ascii_hexdigit))
                .ok_or_else(|| {
                    let seen: String = s[i..s.len().min(i + 4)].iter().collect();
                    format!("malformed \\uxxxx escape '\\u{seen}'")
                })?;
            let unit = digits
                .iter()
                .fold(0u16, |acc, d| acc * 16 + d.to_digit(16).unwrap_or(0) as u16);
            units.push(unit);
            i += 4;
            continue;
        }
        flush(&mut units, &mut out);
        out.push(match e {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\x0c',
            other => other,
        });
    }
    flush(&mut units, &mut out);
    Ok(out)
}
