//! Scans the files given on the command line and prints the findings as JSON
//! (a development aid; the real CLI is `pipeguard code`).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

fn main() {
    let engine = pipeguard_sast::Engine::new().unwrap();
    for arg in std::env::args().skip(1) {
        let data = std::fs::read(&arg).unwrap();
        let (findings, problem) = engine.scan_file(&arg, &data);
        println!("{}", serde_json::to_string_pretty(&findings).unwrap());
        if let Some(p) = problem {
            println!("problem: {p:?}");
        }
    }
}
