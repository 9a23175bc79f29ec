#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipeguard_fuzz::source_imports(data));
