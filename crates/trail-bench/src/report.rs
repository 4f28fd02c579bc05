//! Printing figures beside their baselines.

pub struct Row {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub baseline: Option<(String, f64)>,
}

pub fn print(title: &str, rows: &[Row]) {
    println!("\n## {title}\n");
    println!("| figure | value | baseline (same run) | ratio |");
    println!("|---|---:|---|---:|");
    for r in rows {
        let (b, ratio) = match &r.baseline {
            Some((name, v)) => (format!("{name}: {}", fmt(*v)), format!("{:.2}", r.value / v)),
            None => ("-".into(), "-".into()),
        };
        println!("| {} | {} {} | {b} | {ratio} |", r.name, fmt(r.value), r.unit);
    }
}

pub fn fmt(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}
