//! Text for a terminal: control characters written as visible escapes (`\x1b`, `\u{9b}`,
//! `\r`), so a docstring, id or message from a file cannot move the cursor, clear the screen or
//! retitle the window. Newlines and tabs pass. JSON output does not go through here: serde
//! already escapes what JSON must, and it stays byte for byte what was read.

use std::io::{self, Write};

/// A writer that escapes control characters on their way to `inner`.
pub struct TerminalText<W: Write> {
    inner: W,
    /// A UTF-8 lead byte 0xC2 held back until the next byte says whether it starts a C1
    /// control (U+0080–U+009F, which some terminals obey like ESC sequences).
    pending_c2: bool,
}

impl<W: Write> TerminalText<W> {
    pub fn new(inner: W) -> TerminalText<W> {
        TerminalText {
            inner,
            pending_c2: false,
        }
    }
}

/// The visible form of one C0 control or DEL, or None for bytes that pass.
fn escape_byte(b: u8) -> Option<String> {
    match b {
        b'\n' | b'\t' => None,
        b'\r' => Some("\\r".to_owned()),
        0x00..=0x1f | 0x7f => Some(format!("\\x{b:02x}")),
        _ => None,
    }
}

impl<W: Write> Write for TerminalText<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len());
        for &b in buf {
            if self.pending_c2 {
                self.pending_c2 = false;
                if (0x80..=0x9f).contains(&b) {
                    out.extend_from_slice(format!("\\u{{{b:x}}}").as_bytes());
                    continue;
                }
                out.push(0xc2);
            }
            if b == 0xc2 {
                self.pending_c2 = true;
            } else if let Some(escaped) = escape_byte(b) {
                out.extend_from_slice(escaped.as_bytes());
            } else {
                out.push(b);
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending_c2 {
            self.pending_c2 = false;
            self.inner.write_all(&[0xc2])?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalText<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `text` with its control characters escaped as [`TerminalText`] does.
pub fn escape(text: &str) -> String {
    let mut out = Vec::new();
    {
        let mut w = TerminalText::new(&mut out);
        let _ = w.write_all(text.as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_text_and_newlines_pass() {
        assert_eq!(
            escape("a\u{1b}[2J\u{7}b\r\n\tc \u{9b}31m é ü"),
            "a\\x1b[2J\\x07b\\r\n\tc \\u{9b}31m é ü"
        );
    }

    #[test]
    fn a_c1_control_split_across_writes_is_still_escaped() {
        let mut out = Vec::new();
        {
            let mut w = TerminalText::new(&mut out);
            w.write_all(&[b'x', 0xc2]).unwrap();
            w.write_all(&[0x9b, b'y', 0xc2]).unwrap();
            w.write_all(&[0xa9]).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "x\\u{9b}y©");
    }
}
