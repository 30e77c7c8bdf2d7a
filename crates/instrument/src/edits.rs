//! Splices replacements and insertions into the input bytes.
//!
//! The lol_html pass only observes; the output is built here from the input itself, so every
//! byte outside an edit is the author's byte, whatever lol_html would have re-serialised.

use std::ops::Range;

/// Replace `range` of the input with `bytes` (an empty range inserts).
#[derive(Debug, Clone)]
pub struct Edit {
    pub range: Range<usize>,
    pub bytes: Vec<u8>,
}

/// How many bytes `edits` add to the input.
pub fn growth(edits: &[Edit]) -> usize {
    edits
        .iter()
        .map(|edit| edit.bytes.len().saturating_sub(edit.range.len()))
        .sum()
}

/// Applies `edits` to `input`. Edits at the same offset keep the order they were pushed in;
/// an edit overlapping an earlier one is dropped rather than corrupting the output.
pub fn apply(input: &[u8], mut edits: Vec<Edit>) -> Vec<u8> {
    edits.sort_by_key(|edit| edit.range.start);
    let mut out = Vec::with_capacity(input.len() + growth(&edits));
    let mut copied = 0;
    for edit in edits {
        let in_bounds = edit.range.end <= input.len() && edit.range.start <= edit.range.end;
        if edit.range.start < copied || !in_bounds {
            continue;
        }
        out.extend_from_slice(&input[copied..edit.range.start]);
        out.extend_from_slice(&edit.bytes);
        copied = edit.range.end;
    }
    out.extend_from_slice(&input[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_in_offset_order() {
        let edits = vec![
            Edit {
                range: 6..6,
                bytes: b"!".to_vec(),
            },
            Edit {
                range: 0..1,
                bytes: b"J".to_vec(),
            },
            Edit {
                range: 6..6,
                bytes: b"?".to_vec(),
            },
            Edit {
                range: 0..3,
                bytes: b"overlap".to_vec(),
            },
        ];
        assert_eq!(apply(b"hello world", edits), b"Jello !?world");
    }
}
