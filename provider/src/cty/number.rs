//! Arbitrary-precision numbers (placeholder until the codec lands).
#[derive(Debug, Clone, PartialEq)]
pub struct Number(String);
impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number(n.to_string())
    }
}
impl Number {
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }
}
