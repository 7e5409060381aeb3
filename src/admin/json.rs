//! JSON as Java's JsonOutputter writes it: Jackson's default pretty printer
//! (two-space indents, `"key" : value`, arrays on one line as `[ a, b ]`,
//! empty containers as `{ }` and `[ ]`), no final newline, and doubles as
//! Java's Double.toString prints them (`0.0`, `1.0E7`).

use serde_json::Value;

use crate::server::fourlw::java_double;

/// `v` as Jackson's `INDENT_OUTPUT` prints it.
pub fn to_jackson(v: &Value) -> String {
    let mut o = String::new();
    write_value(&mut o, v, 0);
    o
}

fn indent(o: &mut String, level: usize) {
    o.push('\n');
    for _ in 0..level {
        o.push_str("  ");
    }
}

fn write_value(o: &mut String, v: &Value, level: usize) {
    match v {
        Value::Null => o.push_str("null"),
        Value::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => o.push_str(&i.to_string()),
            (None, Some(u)) => o.push_str(&u.to_string()),
            _ => o.push_str(&java_double(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => o.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            if items.is_empty() {
                o.push_str("[ ]");
                return;
            }
            // Jackson's array indenter is inline: no new nesting level.
            o.push_str("[ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    o.push_str(", ");
                }
                write_value(o, item, level);
            }
            o.push_str(" ]");
        }
        Value::Object(map) => {
            if map.is_empty() {
                o.push_str("{ }");
                return;
            }
            o.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                indent(o, level + 1);
                o.push_str(&Value::String(k.clone()).to_string());
                o.push_str(" : ");
                write_value(o, item, level + 1);
            }
            indent(o, level);
            o.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_like_jackson_indent_output() {
        let v = json!({
            "connections": [{"a": 1, "b": "x"}, {"a": 2}],
            "empty_list": [],
            "empty_map": {},
            "avg": 0.0,
            "big": 1.0e7,
            "ids": [1, 2],
            "error": null,
        });
        assert_eq!(
            to_jackson(&v),
            "{\n  \"connections\" : [ {\n    \"a\" : 1,\n    \"b\" : \"x\"\n  }, {\n    \"a\" : 2\n  } ],\n  \
             \"empty_list\" : [ ],\n  \"empty_map\" : { },\n  \"avg\" : 0.0,\n  \"big\" : 1.0E7,\n  \
             \"ids\" : [ 1, 2 ],\n  \"error\" : null\n}"
        );
    }

    #[test]
    fn escapes_strings_as_json() {
        assert_eq!(to_jackson(&json!("a\"b\n")), "\"a\\\"b\\n\"");
    }
}
