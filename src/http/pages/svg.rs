//! Bar charts as SVG, drawn on the server with integer arithmetic. Each chart carries a
//! `<title>` and a `<desc>` that says in words what it shows, and the page puts the same
//! figures in a table beside it.

use maud::{Markup, html};

use crate::domain::Money;
use crate::domain::money::{Grouping, pounds};

/// One group of bars: a label and one value per series, in pence.
pub struct Group {
    pub label: String,
    pub values: Vec<i64>,
}

/// The longest line of a label drawn beside a bar; a label wraps onto a second line at a
/// space, and only past two lines is it cut (the full text is in the `<desc>` and table).
const LABEL_CHARS_MAX: usize = 28;

/// A label as at most two lines that fit the label column, with an ellipsis when cut.
fn label_lines(label: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in label.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if line.is_empty() || line.chars().count() + 1 + word.chars().count() <= LABEL_CHARS_MAX {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        } else {
            lines.push(word.to_owned());
        }
    }
    let cut = |text: &str| -> String {
        if text.chars().count() <= LABEL_CHARS_MAX {
            return text.to_owned();
        }
        let kept: String = text.chars().take(LABEL_CHARS_MAX - 1).collect();
        format!("{}…", kept.trim_end())
    };
    if lines.len() > 2 {
        let rest = lines[1..].join(" ");
        let kept: String = rest.chars().take(LABEL_CHARS_MAX - 1).collect();
        lines = vec![lines[0].clone(), format!("{}…", kept.trim_end())];
    }
    lines.iter().map(|l| cut(l)).collect()
}

/// Width of a bar for `value` on a scale where `max` fills `full` units; negatives draw nothing.
fn scaled(value: i64, max: i64, full: i64) -> i64 {
    if max <= 0 || value <= 0 {
        return 0;
    }
    ((value as i128 * full as i128) / max as i128) as i64
}

/// The frame of a chart: its size, and a title and description for a screen reader.
fn chart(id: &str, width: i64, height: i64, title: &str, desc: &str, body: Markup) -> Markup {
    html! {
        svg id=(id) class="chart" role="img" aria-labelledby={ (id) "-title " (id) "-desc" }
            viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height) xmlns="http://www.w3.org/2000/svg" {
            title id={ (id) "-title" } { (title) }
            desc id={ (id) "-desc" } { (desc) }
            (body)
        }
    }
}

/// Horizontal bars: one row per group, one bar per series. `series` names each series and its
/// CSS class.
pub fn horizontal_bars(id: &str, title: &str, series: &[(&str, &str)], groups: &[Group]) -> Markup {
    const LABEL_W: i64 = 190;
    const BAR_W: i64 = 420;
    const VALUE_W: i64 = 110;
    const BAR_H: i64 = 14;
    let row_h = BAR_H * series.len() as i64 + 12;
    let max = groups.iter().flat_map(|g| g.values.iter().copied()).max().unwrap_or(0);
    let height = row_h * groups.len() as i64 + 30;
    let width = LABEL_W + BAR_W + VALUE_W;
    let desc: Vec<String> = groups
        .iter()
        .map(|g| {
            let said: Vec<String> = series
                .iter()
                .zip(&g.values)
                .map(|((name, _), value)| format!("{name} {}", pounds(Money::from_pence(*value), Grouping::Plain)))
                .collect();
            format!("{}: {}", g.label, said.join(", "))
        })
        .collect();
    let body = html! {
        @for (i, (name, class)) in series.iter().enumerate() {
            @let x = LABEL_W + 130 * i as i64;
            rect class=(class) x=(x) y="4" width="12" height="12" {}
            text class="legend" x=(x + 16) y="14" { (name) }
        }
        @for (i, g) in groups.iter().enumerate() {
            @let y0 = 24 + row_h * i as i64;
            @let lines = label_lines(&g.label);
            text class="label" x=(LABEL_W - 8) y=(y0 + BAR_H - if lines.len() > 1 { 6 } else { 0 }) text-anchor="end" {
                @for (n, line) in lines.iter().enumerate() {
                    tspan x=(LABEL_W - 8) dy=(if n == 0 { 0 } else { 13 }) { (line) }
                }
            }
            @for (s, value) in g.values.iter().take(series.len()).enumerate() {
                @let y = y0 + BAR_H * s as i64;
                @let w = scaled(*value, max, BAR_W);
                @let money = Money::from_pence(*value);
                rect class=(series[s].1) x=(LABEL_W) y=(y) width=(w) height=(BAR_H - 2) data-value=(money) {}
                text class="value" x=(LABEL_W + w + 4) y=(y + BAR_H - 3) { (pounds(money, Grouping::Thousands)) }
            }
        }
    };
    chart(id, width, height, title, &desc.join("; "), body)
}

/// Vertical bars, one per group and a single series (e.g. spend per quarter).
pub fn columns(id: &str, title: &str, groups: &[Group]) -> Markup {
    const COL_W: i64 = 70;
    const GAP: i64 = 40;
    const PLOT_H: i64 = 180;
    let max = groups.iter().filter_map(|g| g.values.first().copied()).max().unwrap_or(0);
    let width = (COL_W + GAP) * groups.len() as i64 + GAP;
    let height = PLOT_H + 60;
    let value = |g: &Group| g.values.first().copied().unwrap_or(0);
    let desc: Vec<String> = groups
        .iter()
        .map(|g| format!("{} {}", g.label, pounds(Money::from_pence(value(g)), Grouping::Plain)))
        .collect();
    let body = html! {
        line class="axis" x1=(GAP) y1=(20 + PLOT_H) x2=(width - GAP / 2) y2=(20 + PLOT_H) {}
        @for (i, g) in groups.iter().enumerate() {
            @let h = scaled(value(g), max, PLOT_H);
            @let x = GAP + (COL_W + GAP) * i as i64;
            @let money = Money::from_pence(value(g));
            rect class="actual" x=(x) y=(20 + PLOT_H - h) width=(COL_W) height=(h) data-value=(money) {}
            text class="value" x=(x + COL_W / 2) y=(14 + PLOT_H - h) text-anchor="middle" { (pounds(money, Grouping::Thousands)) }
            text class="label" x=(x + COL_W / 2) y=(PLOT_H + 40) text-anchor="middle" { (g.label) }
        }
    };
    chart(id, width, height, title, &desc.join("; "), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_say_what_they_show() {
        let groups = vec![
            Group { label: "ASB".into(), values: vec![1_000_000, 250_000] },
            Group { label: "<b>".into(), values: vec![500_000, 0] },
        ];
        let svg = horizontal_bars("c", "Budget against actual", &[("Budget", "budget"), ("Actual", "actual")], &groups)
            .into_string();
        assert!(svg.contains("width=\"420\" height=\"12\" data-value=\"10000.00\""), "{svg}");
        assert!(svg.contains("width=\"105\" height=\"12\" data-value=\"2500.00\""), "{svg}");
        assert!(svg.contains("<desc id=\"c-desc\">ASB: Budget £10000.00, Actual £2500.00; &lt;b&gt;: Budget £5000.00"));
        assert!(!svg.contains("<b>"), "labels are escaped");
        assert_eq!(scaled(-5, 10, 100), 0, "a negative value draws no bar");
        assert!(svg.contains(">£10,000.00</text>") && svg.contains(">£2,500.00</text>"), "values in pounds: {svg}");
        let lines = |l: &str| label_lines(l);
        assert_eq!(
            lines("Domestic Abuse (including stalking and harassment)"),
            ["Domestic Abuse (including", "stalking and harassment)"],
            "a long priority name wraps rather than being cut"
        );
        assert_eq!(lines("Vehicle Crime"), ["Vehicle Crime"]);
        let three = lines("Serious and Public Place Violence (including VAWG) and everything else the group oversees");
        assert_eq!(three.len(), 2);
        assert!(three[1].ends_with('…') && three[1].chars().count() <= LABEL_CHARS_MAX, "{three:?}");
        assert_eq!(lines("Supercalifragilisticexpialidocious-and-more")[0].chars().count(), LABEL_CHARS_MAX);
    }
}
