//! The query string as the handlers read it, shared by the API and the console.
//!
//! Both read their filters from the same parameters (the console's forms are GET forms over
//! the API's own filter parameters), so both decode them here rather than one importing the
//! other's extractor.

/// The query string as `(name, value)` pairs, percent-decoded, repeated names kept.
pub fn query_pairs(parts_query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(parts_query.unwrap_or_default().as_bytes()).into_owned().collect()
}
