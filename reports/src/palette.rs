//! One colour per condition, from the Okabe–Ito palette (safe for the common
//! colour-vision deficiencies), so a condition looks the same on every chart and
//! in every table of a report.
//!
//! Source: M. Okabe and K. Ito, "Color Universal Design (CUD): how to make figures
//! and presentations that are friendly to colorblind people", 2008.

use crate::schema::Condition;

/// Okabe–Ito black, for marks that belong to no condition (expected share, whiskers).
pub(crate) const BLACK: (u8, u8, u8) = (0x00, 0x00, 0x00);

/// Okabe–Ito "reddish purple", for the bars of groups beside their sandboxes' (isolated).
pub(crate) const GROUP: (u8, u8, u8) = (0xCC, 0x79, 0xA7);

/// The colour of a comparison outcome: Okabe–Ito bluish green (pass), blue
/// (improved), vermillion (fail), orange (inconclusive), sky blue (no clear
/// change), grey (not gated).
pub(crate) fn outcome_rgb(outcome: crate::comparison::Outcome) -> (u8, u8, u8) {
    use crate::comparison::Outcome;
    match outcome {
        Outcome::Pass => (0x00, 0x9E, 0x73),
        Outcome::Improved => (0x00, 0x72, 0xB2),
        Outcome::Fail => (0xD5, 0x5E, 0x00),
        Outcome::Inconclusive => (0xE6, 0x9F, 0x00),
        Outcome::NoClearChange => (0x56, 0xB4, 0xE9),
        Outcome::NotGated => (0x99, 0x99, 0x99),
    }
}

/// The colour of `condition` as red, green, blue.
pub(crate) fn rgb(condition: Condition) -> (u8, u8, u8) {
    match condition {
        // Okabe–Ito "blue".
        Condition::Solo => (0x00, 0x72, 0xB2),
        // Okabe–Ito "vermillion": the interference the sandboxes should remove.
        Condition::Contended => (0xD5, 0x5E, 0x00),
        // Okabe–Ito "bluish green".
        Condition::Isolated => (0x00, 0x9E, 0x73),
    }
}

/// The colour of `condition` as a CSS hex colour, e.g. `#0072B2`.
pub(crate) fn css(condition: Condition) -> String {
    let (r, g, b) = rgb(condition);
    format!("#{r:02X}{g:02X}{b:02X}")
}
