//! Escaping of text taken from a results document, so that names, reasons and
//! warnings are shown as written and never read as markup.

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references,
/// safe in HTML and SVG element content and in quoted attribute values.
pub(crate) fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `text` made safe for one cell or list item of GitHub-flavoured Markdown:
/// HTML-escaped (job summaries render inline HTML), `|` and `` ` `` escaped,
/// line breaks folded into spaces.
pub(crate) fn markdown(text: &str) -> String {
    html(text)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_escapes_markup_characters() {
        assert_eq!(
            super::html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn markdown_keeps_a_table_cell_on_one_line() {
        assert_eq!(super::markdown("a|b\nc <i>"), "a\\|b c &lt;i&gt;");
    }
}
