//! Accessibility in the browser: axe-core (vendored in `vendor/axe-core/`, see its
//! PROVENANCE.md) runs in the page as the browser renders it, colour contrast included, and
//! a page passes with no violation of impact `serious` or `critical`. Any page's test may
//! call `assert_accessible`.

use serde_json::{Value, json};

use crate::cdp::Page;

const AXE: &str = include_str!("vendor/axe-core/axe.min.js");

/// The serious and critical violations axe finds on the page as it is now: one line each,
/// rule id, impact and the selectors of the elements at fault.
pub fn serious_violations(page: &Page) -> Vec<String> {
    // Evaluated over the protocol, so the page's own policy (no script) does not stop it.
    if page.eval("typeof window.axe") != json!("object") {
        page.eval(&format!("{AXE}\n;typeof window.axe"));
    }
    let result = page.eval(
        "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ \
           id: v.id, impact: v.impact, help: v.help, \
           targets: v.nodes.map(n => n.target.join(' ')) })))",
    );
    result
        .as_array()
        .unwrap_or_else(|| panic!("axe gave no list of violations: {result}"))
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let targets: Vec<&str> =
                v["targets"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            format!(
                "{} ({}): {} at {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                targets.join(", ")
            )
        })
        .collect()
}

/// Fails, listing each one, if axe finds a serious or critical violation on the page; `what`
/// names the page in the message.
pub fn assert_accessible(page: &Page, what: &str) {
    let found = serious_violations(page);
    assert!(
        found.is_empty(),
        "{what} ({}): {} serious or critical accessibility violations:\n{}",
        page.location(),
        found.len(),
        found.join("\n")
    );
}

/// Sets the viewport to `width` by 900 CSS pixels, as a screen of that width shows the page.
pub fn viewport(page: &Page, width: u32) {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600 }),
    );
}

/// The page's whole width: more than the viewport's means it scrolls sideways.
pub fn scroll_width(page: &Page) -> u64 {
    page.eval("document.documentElement.scrollWidth").as_u64().expect("a width")
}
