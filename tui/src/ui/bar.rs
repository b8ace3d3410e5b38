//! htop's meter: `[|||||||||         6.3G/16G]`, the text inside the bar on
//! the right, the fill as `|` so it reads without colour too.

use super::theme::Theme;
use ratatui::text::Span;

/// The spans of a meter `width` cells wide (brackets included) filled to
/// `ratio` (0..=1), with `text` right-aligned inside.
pub fn meter(ratio: f64, width: usize, text: &str, t: &Theme) -> Vec<Span<'static>> {
    if width < 2 {
        return vec![];
    }
    let inner = width - 2;
    let ratio = if ratio.is_finite() {
        ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let text: String = if text.chars().count() > inner {
        String::new()
    } else {
        text.to_string()
    };
    let tlen = text.chars().count();
    let fill = ((ratio * inner as f64).round() as usize).min(inner);
    let fill_style = t.bar(ratio);
    let mut out = vec![Span::styled("[", t.title)];
    // one blank between the fill and the text, when there is text
    let room = if tlen > 0 {
        inner - tlen - 1.min(inner - tlen)
    } else {
        inner
    };
    let bars = fill.min(room);
    if bars > 0 {
        out.push(Span::styled("|".repeat(bars), fill_style));
    }
    let gap = inner - tlen - bars;
    if gap > 0 {
        out.push(Span::raw(" ".repeat(gap)));
    }
    if tlen > 0 {
        out.push(Span::styled(text, t.dim.patch(t.title)));
    }
    out.push(Span::styled("]", t.title));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn meter_is_exactly_its_width() {
        let t = Theme::mono();
        for w in 2..40 {
            for r in [0.0, 0.33, 0.9, 1.0, 7.0, f64::NAN] {
                assert_eq!(text(&meter(r, w, "1.5G/16G", &t)).chars().count(), w);
            }
        }
        assert_eq!(text(&meter(0.5, 12, "5/10", &t)), "[||||| 5/10]");
        assert_eq!(text(&meter(0.0, 12, "0/10", &t)), "[      0/10]");
        assert_eq!(text(&meter(1.0, 12, "10/10", &t)), "[|||| 10/10]");
    }
}
