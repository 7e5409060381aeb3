//! A zxid is an epoch in its high 32 bits and a counter in its low 32
//! (Java's ZxidUtils); a new leader's first zxid is (epoch, 0).

/// The epoch a zxid belongs to.
pub fn epoch_of(zxid: i64) -> i64 {
    zxid >> 32
}

/// The counter part of a zxid.
pub fn counter_of(zxid: i64) -> i64 {
    zxid & 0xffff_ffff
}

/// The zxid `counter` of `epoch`.
pub fn make(epoch: i64, counter: i64) -> i64 {
    (epoch << 32) | (counter & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_joins() {
        let z = make(5, 17);
        assert_eq!(z, 0x5_0000_0011);
        assert_eq!(epoch_of(z), 5);
        assert_eq!(counter_of(z), 17);
        assert_eq!(counter_of(make(1, 0xffff_ffff)), 0xffff_ffff);
        assert_eq!(epoch_of(make(1, 0xffff_ffff)), 1);
    }
}
