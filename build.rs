//! Generates rzk's record types from the jute IDL in `jute/`.
//!
//! The IDL is parsed with nom into modules of classes of typed fields; each
//! class becomes a Rust struct with `JuteField` read/write code, in a Rust
//! module named after the jute module's last segment. The output lands in
//! `$OUT_DIR/jute_records.rs`, which `src/jute/mod.rs` includes.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

use nom::branch::alt;
use nom::bytes::complete::{is_not, tag, take_until};
use nom::character::complete::{alpha1, alphanumeric1, char, multispace1};
use nom::combinator::{all_consuming, map, recognize, value};
use nom::multi::{many0, many0_count, separated_list1};
use nom::sequence::{delimited, pair, preceded, terminated, tuple};
use nom::IResult;

#[derive(Debug, Clone)]
enum Ty {
    Int,
    Long,
    Bool,
    Byte,
    UString,
    Buffer,
    Vector(Box<Ty>),
    Class(Vec<String>),
}

struct Field {
    ty: Ty,
    name: String,
}

struct Class {
    name: String,
    fields: Vec<Field>,
}

struct Module {
    path: Vec<String>,
    classes: Vec<Class>,
}

// ---- parser ----------------------------------------------------------------

/// Whitespace and both comment styles.
fn ws(i: &str) -> IResult<&str, ()> {
    value(
        (),
        many0_count(alt((
            value((), multispace1),
            value((), pair(tag("//"), nom::combinator::opt(is_not("\n")))),
            value((), tuple((tag("/*"), take_until("*/"), tag("*/")))),
        ))),
    )(i)
}

fn lex<'a, O>(
    p: impl FnMut(&'a str) -> IResult<&'a str, O>,
) -> impl FnMut(&'a str) -> IResult<&'a str, O> {
    delimited(ws, p, ws)
}

fn ident(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        alt((alpha1, tag("_"))),
        many0_count(alt((alphanumeric1, tag("_")))),
    ))(i)
}

fn dotted(i: &str) -> IResult<&str, Vec<String>> {
    map(separated_list1(char('.'), ident), |v| {
        v.into_iter().map(str::to_owned).collect()
    })(i)
}

fn ty(i: &str) -> IResult<&str, Ty> {
    alt((
        map(
            preceded(
                lex(tag("vector")),
                delimited(lex(char('<')), ty, lex(char('>'))),
            ),
            |t| Ty::Vector(Box::new(t)),
        ),
        map(lex(dotted), |p| match p.join(".").as_str() {
            "int" => Ty::Int,
            "long" => Ty::Long,
            "boolean" => Ty::Bool,
            "byte" => Ty::Byte,
            "ustring" => Ty::UString,
            "buffer" => Ty::Buffer,
            _ => Ty::Class(p),
        }),
    ))(i)
}

fn field(i: &str) -> IResult<&str, Field> {
    map(
        terminated(pair(ty, lex(ident)), lex(char(';'))),
        |(ty, n)| Field {
            ty,
            name: n.to_owned(),
        },
    )(i)
}

fn class(i: &str) -> IResult<&str, Class> {
    map(
        tuple((
            lex(tag("class")),
            lex(ident),
            delimited(lex(char('{')), many0(field), lex(char('}'))),
        )),
        |(_, name, fields)| Class {
            name: name.to_owned(),
            fields,
        },
    )(i)
}

fn module(i: &str) -> IResult<&str, Module> {
    map(
        tuple((
            lex(tag("module")),
            lex(dotted),
            delimited(lex(char('{')), many0(class), lex(char('}'))),
        )),
        |(_, path, classes)| Module { path, classes },
    )(i)
}

fn parse_file(text: &str) -> Vec<Module> {
    match all_consuming(delimited(ws, many0(module), ws))(text) {
        Ok((_, m)) => m,
        Err(e) => panic!("jute IDL parse error: {e:?}"),
    }
}

// ---- generator -------------------------------------------------------------

fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && !chars[i - 1].is_ascii_uppercase();
            if i > 0 && prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    match out.as_str() {
        "type" => "type_".to_owned(),
        _ => out,
    }
}

fn rust_ty(t: &Ty, modules: &[Module]) -> String {
    match t {
        Ty::Int => "i32".into(),
        Ty::Long => "i64".into(),
        Ty::Bool => "bool".into(),
        Ty::Byte => "i8".into(),
        Ty::UString => "String".into(),
        Ty::Buffer => "Option<Bytes>".into(),
        Ty::Vector(e) => format!("Vec<{}>", rust_ty(e, modules)),
        Ty::Class(p) => {
            let name = p.last().expect("class name");
            if p.len() == 1 {
                return name.clone();
            }
            let module = &p[..p.len() - 1];
            assert!(
                modules.iter().any(|m| m.path == module),
                "unknown module in {}",
                p.join(".")
            );
            format!("super::{}::{}", module.last().expect("module"), name)
        }
    }
}

fn generate(modules: &[Module]) -> String {
    let mut out = String::from("// @generated by build.rs from jute/*.jute. Do not edit.\n");
    for m in modules {
        let rust_mod = m.path.last().expect("module name");
        writeln!(out, "\n/// Records of jute module `{}`.", m.path.join(".")).unwrap();
        writeln!(out, "pub mod {rust_mod} {{").unwrap();
        out.push_str("    #![allow(clippy::all)]\n");
        out.push_str("    use bytes::{Bytes, BytesMut};\n");
        out.push_str("    use crate::jute::{DecodeError, JuteField, Reader};\n");
        for c in &m.classes {
            writeln!(
                out,
                "\n    /// jute class `{}.{}`.",
                m.path.join("."),
                c.name
            )
            .unwrap();
            out.push_str("    #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]\n");
            writeln!(out, "    pub struct {} {{", c.name).unwrap();
            for f in &c.fields {
                writeln!(
                    out,
                    "        pub {}: {},",
                    snake(&f.name),
                    rust_ty(&f.ty, modules)
                )
                .unwrap();
            }
            out.push_str("    }\n");
            writeln!(out, "    impl JuteField for {} {{", c.name).unwrap();
            out.push_str("        fn read(r: &mut Reader) -> Result<Self, DecodeError> {\n");
            out.push_str("            Ok(Self {\n");
            for f in &c.fields {
                writeln!(
                    out,
                    "                {}: JuteField::read(r)?,",
                    snake(&f.name)
                )
                .unwrap();
            }
            out.push_str("            })\n        }\n");
            out.push_str("        fn write(&self, w: &mut BytesMut) {\n");
            if c.fields.is_empty() {
                out.push_str("            let _ = w;\n");
            }
            for f in &c.fields {
                writeln!(out, "            self.{}.write(w);", snake(&f.name)).unwrap();
            }
            out.push_str("        }\n    }\n");
        }
        // Keeps the import used in modules that have no buffer field.
        out.push_str("    #[allow(dead_code)]\n    type _Buffer = Option<Bytes>;\n");
        out.push_str("}\n");
    }
    out
}

fn main() {
    let dir = Path::new("jute");
    println!("cargo:rerun-if-changed=jute");
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("jute/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jute"))
        .collect();
    entries.sort();
    let mut modules = Vec::new();
    for p in &entries {
        println!("cargo:rerun-if-changed={}", p.display());
        let text = fs::read_to_string(p).expect("readable jute file");
        modules.extend(parse_file(&text));
    }
    let code = generate(&modules);
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("jute_records.rs");
    fs::write(out, code).expect("write generated records");
}
