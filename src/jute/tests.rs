use super::*;

#[test]
fn placeholder_roundtrip() {
    let s = data::Stat {
        czxid: 1,
        ..Default::default()
    };
    assert_eq!(decode::<data::Stat>(encode(&s)).unwrap(), s);
}
