//! Copying to the user's clipboard with OSC 52: the terminal itself takes the text, so it works
//! over ssh and inside tmux (with `set-clipboard on`), where no local clipboard tool could.

use base64::Engine as _;

/// Terminals cap what one sequence may carry; a copy larger than this is refused, not cut.
pub const MAX_BYTES: usize = 100_000;

/// The escape sequence that puts `text` on the clipboard (None when it is too large).
pub fn osc52(text: &str) -> Option<String> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    Some(format!("\x1b]52;c;{encoded}\x07"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_carries_the_text_in_base64() {
        assert_eq!(
            osc52("c2f7be3a0426").unwrap(),
            "\x1b]52;c;YzJmN2JlM2EwNDI2\x07"
        );
        assert!(osc52(&"x".repeat(MAX_BYTES + 1)).is_none());
    }
}
