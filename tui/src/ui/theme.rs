//! Themes: the styles every panel draws with. `dark` and `light` differ in
//! colours; with NO_COLOR set there are no colours at all, only bold,
//! reverse and underline, so everything that stands out still does.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    Dark,
    Light,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub color: bool,
    /// Header labels (`Load`, `Mem`).
    pub label: Style,
    /// The table's heading line.
    pub heading: Style,
    /// The heading of the column the table is sorted by.
    pub heading_sorted: Style,
    /// The selected row.
    pub selected: Style,
    /// A usage at ≥ 90 % of its limit.
    pub hot: Style,
    /// Secondary text: units, dashes, configured zones.
    pub dim: Style,
    pub border: Style,
    pub border_focused: Style,
    pub title: Style,
    /// A key in the footer.
    pub key: Style,
    pub ok: Style,
    pub error: Style,
    pub running: Style,
    pub transient: Style,
    pub bar_low: Style,
    pub bar_mid: Style,
    pub bar_high: Style,
    pub spark: Style,
}

impl Theme {
    pub fn new(name: ThemeName, no_color: bool) -> Theme {
        if no_color {
            return Theme::mono();
        }
        let (accent, text_on_accent, dim) = match name {
            ThemeName::Dark => (Color::Cyan, Color::Black, Color::DarkGray),
            ThemeName::Light => (Color::Blue, Color::White, Color::Gray),
        };
        let green = match name {
            ThemeName::Dark => Color::Green,
            ThemeName::Light => Color::Rgb(0, 128, 0),
        };
        Theme {
            color: true,
            label: Style::new().fg(accent).add_modifier(Modifier::BOLD),
            heading: Style::new().fg(text_on_accent).bg(green),
            heading_sorted: Style::new()
                .fg(text_on_accent)
                .bg(accent)
                .add_modifier(Modifier::BOLD),
            selected: Style::new().fg(text_on_accent).bg(accent),
            hot: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            dim: Style::new().fg(dim),
            border: Style::new().fg(dim),
            border_focused: Style::new().fg(accent),
            title: Style::new().add_modifier(Modifier::BOLD),
            key: Style::new().fg(text_on_accent).bg(accent),
            ok: Style::new().fg(green),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            running: Style::new().fg(green),
            transient: Style::new().fg(Color::Yellow),
            bar_low: Style::new().fg(green),
            bar_mid: Style::new().fg(Color::Yellow),
            bar_high: Style::new().fg(Color::Red),
            spark: Style::new().fg(accent),
        }
    }

    /// NO_COLOR: modifiers only.
    pub fn mono() -> Theme {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let rev = Style::new().add_modifier(Modifier::REVERSED);
        Theme {
            color: false,
            label: bold,
            heading: rev,
            heading_sorted: rev.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: rev,
            hot: bold.add_modifier(Modifier::UNDERLINED),
            dim: plain,
            border: plain,
            border_focused: bold,
            title: bold,
            key: rev,
            ok: plain,
            error: bold,
            running: plain,
            transient: plain,
            bar_low: plain,
            bar_mid: plain,
            bar_high: bold,
            spark: plain,
        }
    }

    /// The style of a bar filled to `ratio`.
    pub fn bar(&self, ratio: f64) -> Style {
        if ratio >= 0.9 {
            self.bar_high
        } else if ratio >= 0.7 {
            self.bar_mid
        } else {
            self.bar_low
        }
    }
}
