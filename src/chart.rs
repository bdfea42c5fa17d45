//! The weekly aging chart as PNG bytes: the aging buckets stacked per week, with DSO as a line
//! on a second axis. A pure function from the series to bytes, so it is unit-tested without a
//! database and the same series always draws the same picture (a retried delivery uploads the
//! same file).
//!
//! Drawn with `plotters` into an RGB buffer and encoded with the `png` crate. The font
//! (DejaVu Sans, `assets/fonts`, Bitstream Vera licence beside it) is compiled into the binary
//! and registered with plotters' `ab_glyph` backend: no system fonts, no fontconfig or
//! freetype.
use crate::domain::aging::Bucket;
use crate::domain::money::Currency;
pub use crate::domain::weekly::{AgingSeries, AgingWeek};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::OnceLock;

/// Chart size in pixels.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 560;

/// DejaVu Sans, shipped in the binary.
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

const COLORS: [RGBColor; 5] = [
    RGBColor(76, 175, 80),
    RGBColor(255, 202, 40),
    RGBColor(255, 143, 0),
    RGBColor(229, 57, 53),
    RGBColor(136, 14, 79),
];

/// Registers the shipped font as plotters' `sans-serif`, once per process.
fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the shipped font does not load".to_string())
    })
    .clone()
}

/// Draws the series as a PNG of `WIDTH` × `HEIGHT`. An empty series draws empty axes.
pub fn aging_png(series: &AgingSeries) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(series, &mut rgb).map_err(|e| format!("drawing the chart: {e}"))?;
    encode(&rgb)
}

fn major(minor: i64, scale: f64) -> f64 {
    minor as f64 / scale
}

fn draw(series: &AgingSeries, rgb: &mut [u8]) -> Result<(), Box<dyn std::error::Error>> {
    let scale = 10f64.powi(
        Currency::parse(&series.currency)
            .map(|c| c.exponent())
            .unwrap_or(2) as i32,
    );
    let n = series.weeks.len().max(1);
    let top = series
        .weeks
        .iter()
        .map(|w| major(w.buckets.iter().sum(), scale))
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let dso_top = series
        .weeks
        .iter()
        .filter_map(|w| w.dso_tenths)
        .map(|t| t as f64 / 10.0)
        .fold(0.0, f64::max)
        .max(10.0)
        * 1.15;
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "AR by age, {} (stacked) and DSO, last {} weeks",
        series.currency,
        series.weeks.len()
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .right_y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..top)?
        .set_secondary_coord(-0.5f64..n as f64 - 0.5, 0f64..dso_top);
    let weeks = &series.weeks;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|x| {
            // Each bar is labelled with its week's end, under its middle.
            let i = x.round();
            match weeks.get(i.max(0.0) as usize) {
                Some(w) if (x - i).abs() < 0.01 && i >= 0.0 => w.end.format("%m-%d").to_string(),
                _ => String::new(),
            }
        })
        .y_desc(format!("AR ({})", series.currency))
        .y_label_formatter(&|v| thousands(*v))
        .label_style(("sans-serif", 14))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("DSO (days)")
        .label_style(("sans-serif", 14))
        .draw()?;
    for (b, bucket) in Bucket::ALL.iter().enumerate() {
        let color = COLORS[b];
        let bars = weeks.iter().enumerate().map(move |(i, w)| {
            let below: i64 = w.buckets[..b].iter().sum();
            let (y0, y1) = (major(below, scale), major(below + w.buckets[b], scale));
            let x = i as f64;
            Rectangle::new([(x - 0.35, y0), (x + 0.35, y1)], color.filled())
        });
        chart
            .draw_series(bars)?
            .label(bucket.label())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    let dso: Vec<(f64, f64)> = weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.dso_tenths.map(|t| (i as f64, t as f64 / 10.0)))
        .collect();
    chart
        .draw_secondary_series(LineSeries::new(dso.clone(), BLUE.stroke_width(3)))?
        .label("DSO")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLUE.stroke_width(3)));
    chart.draw_secondary_series(
        dso.iter()
            .map(|p| Circle::new(*p, 4, BLUE.filled()))
            .collect::<Vec<_>>(),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()?;
    root.present()?;
    Ok(())
}

/// An axis amount in whole units with thousands separators: 1250000 → "1,250,000".
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < -0.5 { format!("-{out}") } else { out }
}

fn encode(rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(rgb).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn series() -> AgingSeries {
        let start = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        AgingSeries {
            currency: "USD".into(),
            weeks: (0..12)
                .map(|i| AgingWeek {
                    end: start + chrono::Days::new(7 * i),
                    buckets: [
                        500_000 + 10_000 * i as i64,
                        200_000,
                        100_000 - 5_000 * i as i64,
                        50_000,
                        25_000,
                    ],
                    dso_tenths: Some(420 - 5 * i as i64),
                })
                .collect(),
        }
    }

    /// Decodes a PNG: (width, height, RGB(A) pixels).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>, usize) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf, info.color_type.samples())
    }

    fn count(px: &[u8], samples: usize, c: RGBColor) -> usize {
        px.chunks(samples)
            .filter(|p| p[0] == c.0 && p[1] == c.1 && p[2] == c.2)
            .count()
    }

    #[test]
    fn the_chart_is_a_png_of_its_size_with_every_bucket_and_the_dso_line() {
        let bytes = aging_png(&series()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h, px, samples) = decode(&bytes);
        assert_eq!((w, h), (WIDTH, HEIGHT));
        for c in COLORS {
            // Far more than the legend's swatch (100 pixels): the bars are drawn.
            assert!(
                count(&px, samples, c) > 1000,
                "bucket colour {c:?} is drawn"
            );
        }
        assert!(count(&px, samples, BLUE) > 200, "the DSO line is drawn");
        // Text is drawn with the shipped font: dark pixels beyond the bars and the line.
        assert!(count(&px, samples, BLACK) > 500);
    }

    #[test]
    fn the_same_series_draws_the_same_bytes_and_a_different_one_does_not() {
        let a = aging_png(&series()).unwrap();
        assert_eq!(a, aging_png(&series()).unwrap());
        let mut other = series();
        other.weeks[11].buckets[4] = 900_000;
        assert_ne!(a, aging_png(&other).unwrap());
    }

    #[test]
    fn axis_amounts_have_thousands_separators() {
        assert_eq!(thousands(1_250_000.0), "1,250,000");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(0.0), "0");
    }

    #[test]
    fn an_empty_ledger_draws_axes_without_bars() {
        let bytes = aging_png(&AgingSeries {
            currency: "EUR".into(),
            weeks: vec![],
        })
        .unwrap();
        let (w, h, px, samples) = decode(&bytes);
        assert_eq!((w, h), (WIDTH, HEIGHT));
        // Only the legend's swatch, no bars.
        assert!(count(&px, samples, COLORS[0]) <= 150);
        assert!(count(&px, samples, WHITE) < px.len() / samples, "not blank");
    }
}
