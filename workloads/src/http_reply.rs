//! Reading one HTTP/1.x response to a GET from a byte stream, as
//! `drive-service` does after each request (RFC 9112: §4 status line, §5
//! header fields, §6.3 message body length, §7.1 chunked coding).
//!
//! - Interim responses (1xx but 101, e.g. `100 Continue`, `103 Early Hints`)
//!   are skipped; the final response follows them.
//! - The body's length, for a response to GET: none for 204 and 304; chunk by
//!   chunk when the last coding of `Transfer-Encoding` is `chunked` (chunk
//!   extensions and trailer fields skipped); else `Content-Length` bytes; else
//!   the body runs until the server closes the connection.
//! - The body is read and dropped, never kept; the head is bounded
//!   ([`MAX_HEAD`]), so a server cannot make the reader grow without end.
//! - Bytes that cannot begin an HTTP/1.x response are refused at once, without
//!   waiting for a whole line: a service that answers in another protocol is
//!   told apart from a slow one.
//!
//! The connection may carry the next request ([`Reply::reusable`]) when the
//! response is HTTP/1.1 without `Connection: close`, or HTTP/1.0 with
//! `Connection: keep-alive`, and its body did not run until the close.

use std::io::{BufRead, ErrorKind};

/// Largest response head (status line and header fields) read, bytes.
pub const MAX_HEAD: usize = 64 * 1024;

/// Bytes of a refused reply quoted in the error.
const QUOTED: usize = 40;

/// One final response, its body read and dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code, 101 to 999 (interim 1xx responses are skipped).
    pub status: u16,
    /// Reason phrase as sent; may be empty.
    pub reason: String,
    /// Whether the connection can carry the next request (see the module docs).
    pub reusable: bool,
    /// Body bytes read (chunk data only, for a chunked body).
    pub body_bytes: u64,
}

impl Reply {
    /// Whether the status says the request failed: 4xx and 5xx. 2xx and 3xx are
    /// answers (a redirect is not followed: it is the service's reply).
    pub fn is_error(&self) -> bool {
        self.status >= 400
    }

    /// `404 Not Found`: the status and reason, for messages.
    pub fn status_line(&self) -> String {
        if self.reason.is_empty() {
            self.status.to_string()
        } else {
            format!("{} {}", self.status, self.reason)
        }
    }
}

/// Why no whole response could be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// What came cannot be an HTTP/1.x response.
    #[error("the reply is not HTTP/1.x ({what}); it began {start:?}")]
    NotHttp {
        /// What is wrong, e.g. `no status line`.
        what: String,
        /// The first bytes of the reply (or of the offending line), lossily as text.
        start: String,
    },
    /// The connection ended before the response did.
    #[error("the service closed the connection after {got} bytes of the reply, before its end")]
    Closed {
        /// Bytes of the response read before the end.
        got: u64,
    },
    /// Reading failed: a reset, or the read timed out.
    #[error("{error} (after {got} bytes of the reply)")]
    Io {
        /// The error of the read.
        error: std::io::Error,
        /// Bytes of the response read before it.
        got: u64,
    },
}

impl ReplyError {
    /// Bytes of the response that had arrived when it failed (0: none at all,
    /// so a kept-alive connection that the server had closed can be retried).
    pub fn got(&self) -> u64 {
        match self {
            ReplyError::NotHttp { .. } => 1,
            ReplyError::Closed { got } | ReplyError::Io { got, .. } => *got,
        }
    }

    /// Whether it is a read that timed out.
    pub fn timed_out(&self) -> bool {
        matches!(self, ReplyError::Io { error, .. }
            if matches!(error.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock))
    }
}

/// Reads one final response to a GET from `r`, skipping interim 1xx responses.
///
/// # Errors
/// [`ReplyError::NotHttp`] for bytes no HTTP/1.x response has (a bad status
/// line or header field, conflicting `Content-Length`s, a bad chunk size, a
/// head over [`MAX_HEAD`], an unasked-for `101 Switching Protocols`);
/// [`ReplyError::Closed`] when the stream ends before the response;
/// [`ReplyError::Io`] when a read fails (a reset; a timeout set on the stream).
pub fn read(r: &mut impl BufRead) -> Result<Reply, ReplyError> {
    let mut got = 0u64;
    loop {
        let head = read_head(r, &mut got)?;
        match head.status {
            101 => {
                return Err(ReplyError::NotHttp {
                    what: "an unasked-for 101 Switching Protocols".into(),
                    start: head.status_line,
                });
            }
            100..=199 => continue,
            _ => {}
        }
        let mut reusable = if head.http11 {
            !head.close
        } else {
            head.keep_alive
        };
        let body_bytes = if head.status == 204 || head.status == 304 {
            0
        } else if head.chunked {
            read_chunked(r, &mut got)?
        } else if let Some(n) = head.content_length {
            skip(r, n, &mut got)?;
            n
        } else {
            reusable = false;
            skip_to_end(r, &mut got)?
        };
        return Ok(Reply {
            status: head.status,
            reason: head.reason,
            reusable,
            body_bytes,
        });
    }
}

/// What the head of a response says.
struct Head {
    status: u16,
    reason: String,
    /// The status line as text, for messages.
    status_line: String,
    http11: bool,
    content_length: Option<u64>,
    chunked: bool,
    close: bool,
    keep_alive: bool,
}

/// Reads a status line and header fields, up to and including the empty line.
fn read_head(r: &mut impl BufRead, got: &mut u64) -> Result<Head, ReplyError> {
    let mut budget = MAX_HEAD;
    let mut line = Vec::new();
    read_line(r, &mut line, &mut budget, got, true)?;
    let text = String::from_utf8_lossy(trim_eol(&line)).into_owned();
    let not_http = |what: &str, start: &str| ReplyError::NotHttp {
        what: what.into(),
        start: quote(start.as_bytes()),
    };
    let (http11, status, reason) =
        parse_status_line(&text).ok_or_else(|| not_http("no status line", &text))?;
    let mut head = Head {
        status,
        reason,
        status_line: text.clone(),
        http11,
        content_length: None,
        chunked: false,
        close: false,
        keep_alive: false,
    };
    loop {
        line.clear();
        read_line(r, &mut line, &mut budget, got, false)?;
        let field = trim_eol(&line);
        if field.is_empty() {
            return Ok(head);
        }
        let field = String::from_utf8_lossy(field);
        let Some((name, value)) = field.split_once(':') else {
            return Err(not_http("a header line without a colon", &field));
        };
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(not_http("a header name that is not a token", &field));
        }
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                let n = value
                    .parse::<u64>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| not_http("a Content-Length that is not a number", &field))?;
                if head.content_length.is_some_and(|m| m != n) {
                    return Err(not_http("two different Content-Lengths", &field));
                }
                head.content_length = Some(n);
            }
            "transfer-encoding" => {
                head.chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            }
            "connection" => {
                for option in value.split(',').map(str::trim) {
                    head.close |= option.eq_ignore_ascii_case("close");
                    head.keep_alive |= option.eq_ignore_ascii_case("keep-alive");
                }
            }
            _ => {}
        }
    }
}

/// `HTTP/1.1 200 OK` → `(true, 200, "OK")`; `None` for anything else.
fn parse_status_line(line: &str) -> Option<(bool, u16, String)> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let (minor, rest) = rest.split_at_checked(1)?;
    let rest = rest.strip_prefix(' ')?;
    let (code, reason) = rest.split_at_checked(3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) || !(reason.is_empty() || reason.starts_with(' '))
    {
        return None;
    }
    let status: u16 = code.parse().ok().filter(|&s| s >= 100)?;
    let http11 = match minor {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    Some((http11, status, reason.trim().to_string()))
}

/// A byte of an RFC 9110 token (a header name).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `line` without its `\n` or `\r\n`.
fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The first [`QUOTED`] bytes of `bytes`, lossily as text.
fn quote(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(QUOTED)]).into_owned()
}

/// Appends one line, `\n` included, to `out`, taking at most `budget` bytes.
/// The first line of a response (`first`) is checked against `HTTP/1.` as
/// its bytes arrive, so other protocols are refused without a whole line.
fn read_line(
    r: &mut impl BufRead,
    out: &mut Vec<u8>,
    budget: &mut usize,
    got: &mut u64,
    first: bool,
) -> Result<(), ReplyError> {
    const PREFIX: &[u8] = b"HTTP/1.";
    loop {
        let available = fill(r, *got)?;
        if available.is_empty() {
            return Err(ReplyError::Closed { got: *got });
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if take > *budget {
            return Err(ReplyError::NotHttp {
                what: format!("a head longer than {MAX_HEAD} bytes"),
                start: quote(out),
            });
        }
        out.extend_from_slice(&available[..take]);
        r.consume(take);
        *budget -= take;
        *got += take as u64;
        let n = out.len().min(PREFIX.len());
        if first && out[..n] != PREFIX[..n] {
            return Err(ReplyError::NotHttp {
                what: "no status line".into(),
                start: quote(out),
            });
        }
        if done {
            return Ok(());
        }
    }
}

/// The bytes buffered in `r`, reading more if none are; empty at the end of the stream.
fn fill(r: &mut impl BufRead, got: u64) -> Result<&[u8], ReplyError> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(ReplyError::Io { error, got }),
        }
    }
    // Filled: this returns the buffered bytes without reading (or, at the end
    // of the stream, reads nothing again).
    r.fill_buf().map_err(|error| ReplyError::Io { error, got })
}

/// Reads and drops `n` bytes.
fn skip(r: &mut impl BufRead, mut n: u64, got: &mut u64) -> Result<(), ReplyError> {
    while n > 0 {
        let available = fill(r, *got)?.len();
        if available == 0 {
            return Err(ReplyError::Closed { got: *got });
        }
        let take = available.min(usize::try_from(n).unwrap_or(usize::MAX));
        r.consume(take);
        n -= take as u64;
        *got += take as u64;
    }
    Ok(())
}

/// Reads and drops everything up to the end of the stream; returns the bytes read.
fn skip_to_end(r: &mut impl BufRead, got: &mut u64) -> Result<u64, ReplyError> {
    let mut n = 0u64;
    loop {
        let available = fill(r, *got)?.len();
        if available == 0 {
            return Ok(n);
        }
        r.consume(available);
        n += available as u64;
        *got += available as u64;
    }
}

/// Reads a chunked body (RFC 9112 §7.1): size lines, data, trailer fields.
/// Returns the bytes of chunk data.
fn read_chunked(r: &mut impl BufRead, got: &mut u64) -> Result<u64, ReplyError> {
    let mut data = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut budget = MAX_HEAD;
        read_line(r, &mut line, &mut budget, got, false)?;
        let text = String::from_utf8_lossy(trim_eol(&line)).into_owned();
        let size = text.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16)
            .ok()
            .filter(|_| !size.is_empty() && size.len() <= 16)
            .ok_or_else(|| ReplyError::NotHttp {
                what: "a chunk size that is not a hexadecimal number".into(),
                start: quote(text.as_bytes()),
            })?;
        if size == 0 {
            // Trailer fields, up to the empty line.
            loop {
                line.clear();
                read_line(r, &mut line, &mut budget, got, false)?;
                if trim_eol(&line).is_empty() {
                    return Ok(data);
                }
            }
        }
        skip(r, size, got)?;
        data += size;
        line.clear();
        read_line(r, &mut line, &mut budget, got, false)?;
        if !trim_eol(&line).is_empty() {
            return Err(ReplyError::NotHttp {
                what: "chunk data longer than its size".into(),
                start: quote(&line),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    /// Reads `bytes` through a buffer of `cap` bytes (1 splits every read).
    fn parse_in(bytes: &[u8], cap: usize) -> (Result<Reply, ReplyError>, usize) {
        let mut r = BufReader::with_capacity(cap, bytes);
        let out = read(&mut r);
        let left = r.buffer().len() + r.into_inner().len();
        (out, left)
    }

    fn parse(bytes: &[u8]) -> Result<Reply, ReplyError> {
        let (one, _) = parse_in(bytes, 1);
        let (big, _) = parse_in(bytes, 8192);
        match (&one, &big) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "split reads change nothing"),
            (Err(_), Err(_)) => {}
            _ => panic!("split reads change the outcome: {one:?} against {big:?}"),
        }
        big
    }

    #[test]
    fn content_length_body_ends_the_reply_and_keeps_the_connection() {
        let text =
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhelloNEXT";
        let (r, left) = parse_in(text, 1);
        let r = r.unwrap();
        assert_eq!(
            r,
            Reply {
                status: 200,
                reason: "OK".into(),
                reusable: true,
                body_bytes: 5
            }
        );
        assert_eq!(left, 4, "the bytes after the body stay unread");
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers_is_read_to_its_end() {
        let text = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 99\r\n\r\n\
                     4;ext=1\r\nwiki\r\n5\r\npedia\r\nA\r\n in chunks\r\n0\r\nExpires: never\r\n\r\n";
        let r = parse(text).unwrap();
        assert_eq!((r.body_bytes, r.reusable), (19, true));
        let (_, left) = parse_in(text, 3);
        assert_eq!(left, 0);
    }

    #[test]
    fn http_1_0_closes_unless_it_says_keep_alive() {
        let r = parse(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert!(!r.reusable);
        let r = parse(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        assert!(r.reusable);
        let r =
            parse(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert!(!r.reusable);
    }

    #[test]
    fn a_body_without_length_runs_until_the_close() {
        let r = parse(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of this").unwrap();
        assert_eq!((r.body_bytes, r.reusable), (11, false));
    }

    #[test]
    fn interim_responses_are_skipped_and_204_has_no_body() {
        let r = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
            .unwrap();
        assert_eq!((r.status, r.body_bytes, r.reusable), (204, 0, true));
    }

    #[test]
    fn bare_line_feeds_and_an_empty_reason_are_accepted() {
        let r = parse(b"HTTP/1.1 404\nContent-Length: 0\n\n").unwrap();
        assert_eq!((r.status, r.reason.as_str()), (404, ""));
        assert!(r.is_error() && r.status_line() == "404");
        let r = parse(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(r.status_line(), "503 Service Unavailable");
        assert!(
            !parse(b"HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n")
                .unwrap()
                .is_error()
        );
    }

    #[test]
    fn another_protocol_is_refused_before_a_whole_line_arrives() {
        // No newline: a reader that waited for one would time out instead.
        let err = parse(b"SSH-2.0-OpenSSH_9.6").unwrap_err();
        assert!(
            matches!(&err, ReplyError::NotHttp { what, start } if what == "no status line" && start.starts_with("SSH-2.0")),
            "{err:?}"
        );
        let err = parse(b"hello\n").unwrap_err();
        assert!(err.to_string().contains("not HTTP/1.x"), "{err}");
        let err = parse(b"HTTP/2.0 200 OK\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("HTTP/2"), "{err}");
        assert!(parse(b"HTTP/1.1 20 OK\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200OK\r\n\r\n").is_err());
    }

    #[test]
    fn malformed_headers_are_refused_with_the_line() {
        let err = parse(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n").unwrap_err();
        assert!(
            err.to_string().contains("without a colon")
                && err.to_string().contains("no colon here"),
            "{err}"
        );
        let err = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
            .unwrap_err();
        assert!(
            err.to_string().contains("two different Content-Lengths"),
            "{err}"
        );
        let err = parse(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").unwrap_err();
        assert!(err.to_string().contains("not a number"), "{err}");
        let err =
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").unwrap_err();
        assert!(err.to_string().contains("chunk size"), "{err}");
    }

    #[test]
    fn a_truncated_reply_says_how_much_came() {
        let err = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").unwrap_err();
        assert!(matches!(err, ReplyError::Closed { got: 42 }), "{err:?}");
        let err = parse(b"").unwrap_err();
        assert_eq!(err.got(), 0, "nothing at all: a stale connection");
    }

    #[test]
    fn an_endless_head_is_refused_at_its_bound() {
        let mut text = b"HTTP/1.1 200 OK\r\n".to_vec();
        while text.len() <= MAX_HEAD {
            text.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let err = parse_in(&text, 4096).0.unwrap_err();
        assert!(err.to_string().contains("longer than 65536"), "{err}");
    }
}
