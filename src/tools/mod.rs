//! Command-line tools around the data directory and a running server, the
//! counterparts of Java ZooKeeper 3.8's own:
//!
//! - [`log_dump`]: a transaction log, as Java's `TxnLogToolkit` dumps it
//!   (`zkTxnLogToolkit.sh`; 3.8 has no `LogFormatter` any more), or as JSON.
//! - [`snap_dump`]: a snapshot, as Java's `SnapshotFormatter`
//!   (`zkSnapShotToolkit.sh`), with its `-d` and `-json` modes.
//! - [`purge`]: old snapshots and logs removed as Java's `PurgeTxnLog`
//!   (`zkCleanup.sh`), and the autopurge thread (`DatadirCleanupManager`).
//! - [`dump_tree`]: the whole tree a server serves, one line per node, for
//!   comparing two servers.
//!
//! Each tool writes to a `Write` it is given and reports damage as an error
//! value; `main.rs` maps them to exit codes (0 ok, 1 damage or failure,
//! 2 usage).
//!
//! Times are printed as Java prints them in the UTC zone (Java uses the
//! JVM's default zone; the output is the same wherever that is UTC).

pub mod dump_tree;
pub mod log_dump;
pub mod purge;
pub mod snap_dump;

/// Exit status for damage or failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a usage error (as clap's own).
pub const EXIT_USAGE: u8 = 2;

/// A date and time in UTC, broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

impl Civil {
    /// Milliseconds since the epoch, in UTC, on the proleptic Gregorian
    /// calendar (Java switches to the Julian calendar before 1582; no
    /// ZooKeeper time is that old).
    pub(crate) fn from_millis(ms: i64) -> Civil {
        let secs = ms.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    fn hour12(&self) -> (u32, &'static str) {
        let h = if self.hour.is_multiple_of(12) {
            12
        } else {
            self.hour % 12
        };
        (h, if self.hour < 12 { "AM" } else { "PM" })
    }
}

/// `new java.util.Date(ms).toString()` in UTC: `Thu Jan 01 00:00:00 UTC 1970`.
pub(crate) fn java_date_string(ms: i64) -> String {
    let c = Civil::from_millis(ms);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[c.weekday as usize],
        MONTHS[c.month as usize - 1],
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

/// `DateFormat.getDateTimeInstance(SHORT, LONG)` in Java 17's en locale,
/// UTC: `11/21/26, 10:54:30 PM UTC` (TxnLogToolkit's timestamps).
pub(crate) fn java_short_long(ms: i64) -> String {
    let c = Civil::from_millis(ms);
    let (h, ampm) = c.hour12();
    format!(
        "{}/{}/{:02}, {}:{:02}:{:02} {} UTC",
        c.month,
        c.day,
        c.year.rem_euclid(100),
        h,
        c.minute,
        c.second,
        ampm
    )
}

/// `DateFormat.getDateTimeInstance()` (MEDIUM, MEDIUM) in Java 17's en
/// locale, UTC: `Nov 21, 2026, 10:54:30 PM` (PurgeTxnLog's file times).
pub(crate) fn java_medium(ms: i64) -> String {
    let c = Civil::from_millis(ms);
    let (h, ampm) = c.hour12();
    format!(
        "{} {}, {}, {}:{:02}:{:02} {}",
        MONTHS[c.month as usize - 1],
        c.day,
        c.year,
        h,
        c.minute,
        c.second,
        ampm
    )
}

/// Appends `s` to `out` as a JSON string literal (quotes included):
/// `"` and `\` escaped, control characters as `\n`, `\t`, ... or `\u00XX`.
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `0x` and the lowercase hex of a long, as Java's `Long.toHexString`
/// (two's complement for negatives).
pub(crate) fn hex(v: i64) -> String {
    format!("0x{:x}", v as u64)
}

/// A write error that means the reader went away (`rzk ... | head`).
pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

#[cfg(test)]
pub(crate) mod testutil {
    use std::fs;
    use std::path::PathBuf;

    /// A fresh directory under the system temp dir, removed on drop.
    pub(crate) struct Scratch(pub PathBuf);

    impl Scratch {
        pub(crate) fn new(tag: &str) -> Scratch {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "rzk-tools-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The classpath for Java ZooKeeper 3.8: $RZK_ZK_CLASSPATH, or the
    /// Debian package's jars.
    pub(crate) fn zk_classpath() -> String {
        std::env::var("RZK_ZK_CLASSPATH").unwrap_or_else(|_| {
            "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar".into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by Java 17 (en locale, UTC) for the same instants.
    #[test]
    fn dates_as_java_prints_them() {
        let cases: [(i64, &str, &str, &str); 6] = [
            (
                0,
                "Thu Jan 01 00:00:00 UTC 1970",
                "1/1/70, 12:00:00 AM UTC",
                "Jan 1, 1970, 12:00:00 AM",
            ),
            (
                1_795_301_670_000,
                "Sat Nov 21 22:54:30 UTC 2026",
                "11/21/26, 10:54:30 PM UTC",
                "Nov 21, 2026, 10:54:30 PM",
            ),
            (
                -1,
                "Wed Dec 31 23:59:59 UTC 1969",
                "12/31/69, 11:59:59 PM UTC",
                "Dec 31, 1969, 11:59:59 PM",
            ),
            (
                43_200_000,
                "Thu Jan 01 12:00:00 UTC 1970",
                "1/1/70, 12:00:00 PM UTC",
                "Jan 1, 1970, 12:00:00 PM",
            ),
            (
                1_700_000_000_123,
                "Tue Nov 14 22:13:20 UTC 2023",
                "11/14/23, 10:13:20 PM UTC",
                "Nov 14, 2023, 10:13:20 PM",
            ),
            (
                946_684_800_000,
                "Sat Jan 01 00:00:00 UTC 2000",
                "1/1/00, 12:00:00 AM UTC",
                "Jan 1, 2000, 12:00:00 AM",
            ),
        ];
        for (ms, date, short_long, medium) in cases {
            assert_eq!(java_date_string(ms), date, "{ms}");
            assert_eq!(java_short_long(ms), short_long, "{ms}");
            assert_eq!(java_medium(ms), medium, "{ms}");
        }
        // Leap day and the year 10000 (Java: "Sat Jan 01 00:00:00 UTC 10000").
        assert_eq!(
            java_date_string(951_782_400_000),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
        assert_eq!(
            java_date_string(253_402_300_800_000),
            "Sat Jan 01 00:00:00 UTC 10000"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\nd\te\u{1}\u{1f}é\u{7f}");
        assert_eq!(s, r#""a\"b\\c\nd\te\u0001\u001Fé"#.to_owned() + "\u{7f}\"");
        assert_eq!(hex(-1), "0xffffffffffffffff");
        assert_eq!(hex(0x1c), "0x1c");
    }
}
