//! The page frame. Pages are written with maud's `html!`, which escapes every value it
//! interpolates: no text reaches a page unescaped unless wrapped in `PreEscaped`, which no
//! page does.

use maud::{DOCTYPE, Markup, html};

use crate::model::tokens::Principal;

/// A whole page: the frame around `body`, with `title` in the head.
pub fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/assets/dashboard.css";
            }
            body {
                // First in the page, shown when focused; only where the page has its `main`
                // marked, so a page without one has no link to nowhere.
                @if body.0.contains("id=\"content\"") { a class="skip" href="#content" { "Skip to content" } }
                (body)
            }
        }
    }
    .into_string()
}

/// The head of a signed-in page other than the dashboard: the way back to it, who is signed
/// in (by the name a person knows them by, never a username), and the page's heading.
pub fn masthead(heading: &str, who: &Principal) -> Markup {
    html! {
        header class="masthead" {
            p class="meta" {
                a id="to-dashboard" href="/dashboard" { "Dashboard" } " · Signed in as " (who.shown_name()) "."
            }
            h1 { (heading) }
        }
    }
}

/// A RAG or progress word as a person reads it: `red` → `Red`.
pub fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_escapes_the_title_and_keeps_the_body() {
        let p = page("<script>alert('x') & \"y\"</script>", html! { main { p { "<b>" } } });
        assert!(p.starts_with("<!DOCTYPE html><html lang=\"en-GB\">"), "{p}");
        assert!(p.contains("<title>&lt;script&gt;alert('x') &amp; &quot;y&quot;&lt;/script&gt;</title>"), "{p}");
        assert!(p.contains("<body><main><p>&lt;b&gt;</p></main>"), "no skip link without a target: {p}");
        let p = page("t", html! { main id="content" { p { "x" } } });
        assert!(
            p.contains("<body><a class=\"skip\" href=\"#content\">Skip to content</a><main id=\"content\">"),
            "{p}"
        );
        assert_eq!(capitalised("amber"), "Amber");
        assert_eq!(capitalised(""), "");
    }
}
