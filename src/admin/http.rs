//! The AdminServer's HTTP side (Java's JettyAdminServer): `GET
//! <commandURL>` lists links to the commands, `GET <commandURL>/<name>`
//! runs one (query parameters are its arguments, the first value of each)
//! and answers 200 with its JSON, an unknown name included. Other paths
//! get 404, TRACE 403 (Java constrains it), other methods but HEAD 405.
//!
//! Requests are bounded: the request head may take at most 8 KiB (Jetty's
//! default; a longer URI is refused with 414/431 by hyper), request bodies
//! are never read, at most [`MAX_CONNECTIONS`] connections are served at
//! once, and a connection idle for `admin.idleTimeout` is closed.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};

use crate::admin::{commands, json};
use crate::server::fourlw::StaticInfo;
use crate::server::net::{CoreMsg, ServingHandle};

/// Connections served at once; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 64;

/// The request head limit, as Jetty's default requestHeaderSize.
const MAX_HEAD: usize = 8192;

/// What the AdminServer serves and how.
#[derive(Clone)]
pub struct AdminState {
    pub command_url: String,
    pub idle_timeout: Duration,
    /// The base facts, for commands answered while no server runs.
    pub info: Arc<StaticInfo>,
    /// The core serving now, if any.
    pub serving: ServingHandle,
}

/// Serves `listener` until the runtime stops.
pub fn spawn(listener: TcpListener, state: AdminState) {
    tokio::spawn(accept_loop(listener, Arc::new(state)));
}

async fn accept_loop(listener: TcpListener, state: Arc<AdminState>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("admin server: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(|req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .max_buf_size(MAX_HEAD)
                .header_read_timeout(state.idle_timeout.max(Duration::from_millis(1)));
            if let Err(e) = http.serve_connection(TokioIo::new(stream), svc).await {
                tracing::debug!(%remote, "admin connection: {e}");
            }
            drop(permit);
        });
    }
}

fn reply(
    status: StatusCode,
    content_type: Option<&'static str>,
    body: String,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Some(ct) = content_type {
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    r
}

/// An error page in the shape Jetty's are (without claiming to be Jetty).
fn error_page(status: StatusCode, uri: &str, message: &str) -> Response<Full<Bytes>> {
    let code = status.as_u16();
    let uri = html_escape(uri);
    let body = format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n\
         <title>Error {code} {message}</title>\n</head>\n<body><h2>HTTP ERROR {code} {message}</h2>\n\
         <table>\n<tr><th>URI:</th><td>{uri}</td></tr>\n<tr><th>STATUS:</th><td>{code}</td></tr>\n\
         <tr><th>MESSAGE:</th><td>{message}</td></tr>\n</table>\n\n</body>\n</html>\n"
    );
    reply(status, Some("text/html;charset=iso-8859-1"), body)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn handle(state: &AdminState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if method == Method::TRACE {
        return reply(StatusCode::FORBIDDEN, None, String::new());
    }
    // The servlet's mapping, `<commandURL>/*`.
    let base = state.command_url.trim_end_matches('/');
    let rest = match path.strip_prefix(base) {
        Some(r) if r.is_empty() || r.starts_with('/') => r,
        _ => return error_page(StatusCode::NOT_FOUND, &path, "Not Found"),
    };
    if method != Method::GET && method != Method::HEAD {
        let msg = format!("HTTP method {method} is not supported by this URL");
        return error_page(StatusCode::METHOD_NOT_ALLOWED, &path, &msg);
    }
    let mut resp = if rest.is_empty() || rest == "/" {
        let mut body = String::new();
        for c in commands::COMMANDS {
            body.push_str(&format!(
                "<a href=\"{}/{}\">{}</a>\n<br/>\n",
                state.command_url, c.name, c.name
            ));
        }
        reply(StatusCode::OK, None, body)
    } else {
        let name = percent_decode(&rest[1..], false);
        let kwargs = parse_query(req.uri().query().unwrap_or(""));
        let v = run_command(state, &name, kwargs).await;
        reply(
            StatusCode::OK,
            Some("application/json"),
            json::to_jackson(&v),
        )
    };
    if method == Method::HEAD {
        // The length of what GET would send, without the body.
        let len = resp.body().clone();
        let n = http_body_util::BodyExt::collect(len)
            .await
            .map(|c| c.to_bytes().len())
            .unwrap_or(0);
        *resp.body_mut() = Full::new(Bytes::new());
        resp.headers_mut()
            .insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    resp
}

/// Commands.runCommand: unknown names and commands that need a server
/// while none runs get an error response; the rest run on the core.
async fn run_command(state: &AdminState, name: &str, kwargs: Vec<(String, String)>) -> Value {
    let Some(cmd) = commands::lookup(name) else {
        return commands::Response::with_error(name, &format!("Unknown command: {name}"))
            .into_json();
    };
    if let Some(core) = state.serving.current() {
        let (tx, rx) = oneshot::channel();
        let msg = CoreMsg::Admin {
            cmd,
            kwargs: kwargs.clone(),
            reply: tx,
        };
        if core.tx.send(msg).is_ok() {
            if let Ok(v) = rx.await {
                return v;
            }
        }
    }
    commands::without_server(cmd, &kwargs, &state.info, None)
}

/// A query string's parameters, first value of each name kept
/// (HttpServletRequest.getParameterMap, then `[0]`).
fn parse_query(q: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = percent_decode(k, true);
        if !out.iter().any(|(have, _)| *have == k) {
            out.push((k, percent_decode(v, true)));
        }
    }
    out
}

/// %XX decoding (and `+` as a space in a query); malformed escapes stay
/// as they are, invalid UTF-8 becomes U+FFFD.
fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where the AdminServer listens: admin.serverAddress and admin.serverPort.
pub async fn bind(address: &str, port: u16) -> std::io::Result<TcpListener> {
    let host = address.trim_start_matches('[').trim_end_matches(']');
    TcpListener::bind((host, port)).await
}

/// The address a listener got, for the log.
pub fn local(l: &TcpListener) -> Option<SocketAddr> {
    l.local_addr().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_the_first_value_and_decodes() {
        assert_eq!(
            parse_query("traceMask=5&traceMask=6&a+b=%41%zz&flag"),
            vec![
                ("traceMask".to_owned(), "5".to_owned()),
                ("a b".to_owned(), "A%zz".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn percent_decoding_tolerates_truncated_escapes() {
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%", false), "%");
        assert_eq!(percent_decode("%2f%FF", false), "/\u{fffd}");
    }
}
