//! Escaping of text taken from a results document, so that names, reasons and
//! warnings are shown as written and never read as markup.

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references,
/// safe in HTML and SVG element content and in quoted attribute values.
pub(crate) fn html(text: &str) -> String {
    replace(text, |c| match c {
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => markup(c),
    })
}

/// `text` made safe for one cell or list item of GitHub-flavoured Markdown:
/// `&`, `<` and `>` as character references (job summaries render inline HTML),
/// `\`, `|` and `` ` `` backslash-escaped, line breaks folded into spaces.
pub(crate) fn markdown(text: &str) -> String {
    replace(text, |c| match c {
        '\\' => Some("\\\\"),
        '|' => Some("\\|"),
        '`' => Some("\\`"),
        '\r' | '\n' => Some(" "),
        _ => markup(c),
    })
}

/// The character reference of a character that starts or ends markup.
fn markup(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// `text` with each character that `escaped` maps replaced by its mapping.
fn replace(text: &str, escaped: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match escaped(c) {
            Some(replacement) => out.push_str(replacement),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_escapes_markup_characters_and_quotes() {
        assert_eq!(
            super::html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn markdown_keeps_a_table_cell_on_one_line() {
        assert_eq!(
            super::markdown("a|b\nc <i> \"q\""),
            "a\\|b c &lt;i&gt; \"q\""
        );
    }
}
