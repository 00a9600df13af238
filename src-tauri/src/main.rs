//! Desktop shell (being written).
fn main() {}
